--[[
  setPaused: pauses (ARGV[4] = "1") or resumes (ARGV[4] = "0") a queue.

  Invariant: a paused queue is not in the env's runnable set, so no dequeue hands out its runs and
  none spends work on it; its runs keep their places and resume takes the queue back in.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] queue   ARGV[4] "1" pause / "0" resume

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
if ARGV[4] == "1" then
  redis.call("HSET", meta, "paused", "1")
else
  redis.call("HDEL", meta, "paused")
end
refreshQueue(E, q, queueMeta(E.base, q))
return withState(E, { CODE.OK })
