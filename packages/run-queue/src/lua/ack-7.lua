--[[
  ack: the run is done; forget it, in whatever state it is, and free what it held.

  Invariant: every dequeue is matched by exactly one ack, nack, release or reclaim, so slots never
  leak: an in-flight run leaves the env, queue and lane in-flight sets; a queued one leaves its lane
  and the queued counters; a dead-lettered one leaves the dead-letter set. Its lane and queue are
  refreshed, which brings back a lane that was waiting at its limit.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id

  Returns the env state, then a code: OK, or RUN_NOT_FOUND (unknown run; nothing changed),
  then the state the run was in ("q" queued, "f" in flight, "r" released, "d" dead-lettered, "").
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
--- @include "slots"
--- @include "placeRun"
--- @include "envState"

local E = envContext()
local runId = ARGV[3]
local r = redis.call("HMGET", KEYS[7], "st", "q", "l")
local st, q, l = r[1], r[2], r[3]
if not st then
  return withState(E, { CODE.RUN_NOT_FOUND, "" })
end
if st == "q" then
  unplaceRun(E, q, l, runId)
elseif st == "f" then
  freeSlot(E, q, l, runId)
elseif st == "d" then
  redis.call("ZREM", E.dead, runId)
end
redis.call("DEL", KEYS[7])
if st == "f" then
  refreshAfterFree(E, q, l)
else
  refresh(E, q, l)
end
return withState(E, { CODE.OK, st })
