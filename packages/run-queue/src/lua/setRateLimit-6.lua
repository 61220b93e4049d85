--[[
  setRateLimit: sets or clears (ARGV[4] = "") a queue's rate: at most ARGV[4] dequeues per ARGV[5]
  ms (GCRA, burst = the limit), for the whole queue or, with ARGV[6] = "1", for each concurrency key.

  Invariant: takes effect at the next dequeue. The queue is re-evaluated now, so a queue waiting on
  its old rate comes back at once when the new one allows it; lanes waiting on an old per-key rate
  wake at their timer (at most one old period) and are re-evaluated then.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] queue   ARGV[4] limit   ARGV[5] period (ms)
  ARGV[6] per key ("1" or "0")

  Returns the env state, then OK.
]]
--- @include "codes"
--- @include "keys"
--- @include "bump"
--- @include "envContext"
--- @include "fairShare"
--- @include "gcra"
--- @include "queueMeta"
--- @include "laneStatus"
--- @include "queueStatus"
--- @include "refresh"
--- @include "envState"

local E = envContext()
local q = ARGV[3]
local meta = queueKey(E.base, q, "meta")
if ARGV[4] == "" then
  redis.call("HDEL", meta, "rl", "rp", "rk")
else
  redis.call("HSET", meta, "rl", ARGV[4], "rp", ARGV[5], "rk", ARGV[6])
end
local m = queueMeta(E.base, q)
refreshQueue(E, q, m)
return withState(E, { CODE.OK })
