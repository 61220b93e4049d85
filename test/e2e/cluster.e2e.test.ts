import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { RunQueue } from "@runengine/run-queue";
import { E2EEngine } from "./engineFixture.ts";

/**
 * The engine with its run queue on a Redis Cluster (a local 3-master one on ports of its own, so
 * the run-queue suite's cluster is left alone), everything else on the single Redis.
 */
const clusterScript = fileURLToPath(new URL("../../scripts/redis-cluster.sh", import.meta.url));
const ports = [7111, 7112, 7113];
const clusterEnv = { ...process.env, REDIS_CLUSTER_PORTS: ports.join(" "), REDIS_CLUSTER_DIR: "/tmp/runengine-e2e-redis-cluster" };
const nodes = ports.map((port) => ({ host: "127.0.0.1", port }));

let e: E2EEngine;
let cluster: Cluster;
beforeAll(async () => {
  execFileSync("bash", [clusterScript, "start"], { env: clusterEnv, stdio: "ignore" });
  cluster = new Cluster(nodes);
  e = await E2EEngine.start("e2e_cluster", {
    RUN_QUEUE_REDIS_CLUSTER_NODES: nodes.map(({ host, port }) => `${host}:${port}`).join(","),
    RUN_QUEUE_SHARDS: "6",
  });
  await e.startWorker("worker-a");
  await e.startWorker("worker-b");
});
afterAll(async () => {
  await e?.close();
  cluster?.disconnect();
  execFileSync("bash", [clusterScript, "stop"], { env: clusterEnv, stdio: "ignore" });
});

const poll = (id: string) => e.client.runs.poll(id, { intervalMs: 250, timeoutMs: 90_000 });

test("runs go through a run queue on a Redis Cluster: all complete, limits hold, and the queue's keys are on the cluster only", async () => {
  const triggered = await Promise.all(Array.from({ length: 100 }, (_, value) => e.client.trigger("echo", { value })));
  const probes = await Promise.all(Array.from({ length: 9 }, () => e.client.trigger("concurrency-probe", { holdMs: 200 })));
  const runs = await Promise.all([...triggered, ...probes].map(({ id }) => poll(id)));
  expect(runs.every((run) => run.status === "COMPLETED_SUCCESSFULLY")).toBe(true);
  runs.slice(0, 100).forEach((run, value) => expect(run.output).toEqual({ echoed: value }));
  expect(Number(await e.redis.zscore(`${e.prefix}probe:max`, "max"))).toBe(3);

  const queue = new RunQueue({ redis: cluster, keyPrefix: `${e.prefix}rq:`, shards: 6 });
  await expect.poll(async () => (await queue.stats({ envId: e.environment.id })).inFlight, { timeout: 10_000 }).toBe(0);
  const onCluster = (await Promise.all(cluster.nodes("master").map((node) => node.keys(`${e.prefix}rq:*`)))).flat();
  expect(onCluster.length).toBeGreaterThan(0);
  expect(await e.redis.keys(`${e.prefix}rq:*`)).toEqual([]);
  expect((await e.client.queues.list()).find((q) => q.name === "probe")).toMatchObject({ queued: 0, inFlight: 0, limit: 3 });
});
