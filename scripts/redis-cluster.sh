#!/usr/bin/env bash
# A local 3-master Redis Cluster on loopback for the test suite (no Docker): ports 7101-7103 by
# default (REDIS_CLUSTER_PORTS="7101 7102 7103"), data in a temp dir, no persistence.
#   scripts/redis-cluster.sh start   # idempotent: a cluster that is already up is left alone
#   scripts/redis-cluster.sh stop
# Then: REDIS_CLUSTER_NODES=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-7101 7102 7103})
DIR="${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/runengine-redis-cluster}"

cluster_ok() {
  redis-cli -h 127.0.0.1 -p "${PORTS[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

start() {
  if cluster_ok; then
    echo "redis cluster already up on ${PORTS[*]}"
    return
  fi
  mkdir -p "$DIR"
  for port in "${PORTS[@]}"; do
    if ! redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
      mkdir -p "$DIR/$port"
      # A node left over from an earlier run would refuse to join a new cluster: start clean.
      rm -f "$DIR/$port/nodes.conf"
      redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-config-file "$DIR/$port/nodes.conf" --cluster-node-timeout 5000 \
        --save "" --appendonly no --dir "$DIR/$port" --daemonize yes \
        --pidfile "$DIR/$port/redis.pid" --logfile "$DIR/$port/redis.log"
    fi
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
  local known
  known=$(redis-cli -h 127.0.0.1 -p "${PORTS[0]}" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
  if [[ "$known" != "${#PORTS[@]}" ]]; then
    local nodes=()
    for port in "${PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
  fi
  for _ in $(seq 1 100); do
    if cluster_ok; then
      echo "redis cluster up on ${PORTS[*]}"
      return
    fi
    sleep 0.1
  done
  echo "redis cluster did not reach cluster_state:ok" >&2
  exit 1
}

stop() {
  for port in "${PORTS[@]}"; do
    local pidfile="$DIR/$port/redis.pid"
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")"
    fi
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 || break
      sleep 0.1
    done
  done
  rm -rf "$DIR"
  echo "redis cluster stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
