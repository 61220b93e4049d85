--[[
  dequeue: takes up to `count` runs of one environment, fairly across its queues and, inside a
  queue, across its concurrency keys, each within every limit, and puts them in flight.

  Invariant: a run is handed out only if, at that moment, the env's in-flight count is below the
  env limit, the lane's below the queue's limit, the queue is not paused and no rate is used up.
  Fairness: the queue with the lowest virtual time is served, then its lane with the lowest virtual
  time; each gets +1 per run (start-time fair queuing, includes/fairShare.lua). Inside a lane the
  run with the lowest priority score (availableAt - priority s) goes first. Candidates that turn
  out blocked (a limit lowered since they joined) are moved out and skipped, so the loop is bounded
  by count + the number of such stale members (guarded anyway).

  Runs are taken in stretches: one read of the two lowest queues and the two lowest lanes of the
  head queue tells how many runs in a row the one-run-at-a-time order would serve from the head
  lane (its score stays below the runner-up's; a tie is left to the next read), and the env limit,
  the lane's limit and the rates (simulated with the same GCRA) cap the stretch so that it ends
  where that order would stop. A stretch pops its runs with one ZPOPMIN, takes their slots with
  one ZADD / SADD per set, moves the virtual times once, and evaluates the lane once at its end,
  as the one-at-a-time order does after its last run (from what the stretch already read, plus one
  ZCARD); per run remain one HSET (state, consumer, deadline) and one HMGET (the message). The
  result is the same runs in the same order. The env state is versioned only when it changed (as
  for every other operation): the served count reaches the shard index without it.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] count   ARGV[4] visibility deadline (ms)
  ARGV[5] consumer id

  Returns the env state, then the number of runs n, then n groups of 8:
  runId, orgId, queue, lane, priority, availableAt, attempt, deadline.

  The runs are taken by includes/dequeueRuns.lua, which dequeueIndexed-12.lua shares.
]]
--- @include "dequeueRuns"
--- @include "envState"

local E, out = dequeueRuns()
return withState(E, out)
