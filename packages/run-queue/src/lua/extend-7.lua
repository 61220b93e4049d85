--[[
  extend: the consumer of an in-flight run is alive and moves its visibility deadline.

  Invariant: only an in-flight run has a deadline; the slot is untouched.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id   ARGV[4] new deadline (ms)

  Returns the env state, then a code: OK, RUN_NOT_FOUND or RUN_NOT_IN_FLIGHT.
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
local st = redis.call("HGET", KEYS[7], "st")
if not st then
  return withState(E, { CODE.RUN_NOT_FOUND })
end
if st ~= "f" then
  return withState(E, { CODE.RUN_NOT_IN_FLIGHT })
end
redis.call("ZADD", E.inflight, "XX", ARGV[4], ARGV[3])
redis.call("HSET", KEYS[7], "d", ARGV[4])
return withState(E, { CODE.OK })
