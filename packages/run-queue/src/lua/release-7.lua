--[[
  release: an in-flight run suspends (waits on something) and gives up its concurrency slot while
  it keeps its identity. It is no longer in flight (no visibility deadline) until reacquire, or
  until enqueue queues it again, or ack forgets it.

  Invariant: the slot is freed exactly once; releasing a released run changes nothing. Its lane
  and queue are refreshed when the freed slot can matter to them (includes/refresh.lua,
  refreshAfterFree).

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id

  Returns the env state, then a code: OK, NOOP (already released), RUN_NOT_FOUND or
  RUN_NOT_IN_FLIGHT.
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
--- @include "envState"

local E = envContext()
local runId = ARGV[3]
local r = redis.call("HMGET", KEYS[7], "st", "q", "l")
local st, q, l = r[1], r[2], r[3]
if not st then
  return withState(E, { CODE.RUN_NOT_FOUND })
end
if st == "r" then
  return withState(E, { CODE.NOOP })
end
if st ~= "f" then
  return withState(E, { CODE.RUN_NOT_IN_FLIGHT })
end
freeSlot(E, q, l, runId)
redis.call("HSET", KEYS[7], "st", "r")
redis.call("HDEL", KEYS[7], "d")
if refreshAfterFree(E, q, l) then
  return withState(E, { CODE.OK })
end
return appendAll(envStateAfterFree(E, 1), { CODE.OK })
