--[[
  remove: a run that is not in flight leaves the queue for good (cancelled or expired while queued,
  dead-lettered and given up, or released and never resuming).

  Invariant: a slot held by a consumer is never freed here (that is ack's job, so the holder is
  told); everything else about the run goes, and its lane and queue are refreshed.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id

  Returns the env state, then a code: OK, RUN_NOT_FOUND or RUN_IN_FLIGHT.
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
--- @include "placeRun"
--- @include "envState"

local E = envContext()
local runId = ARGV[3]
local r = redis.call("HMGET", KEYS[7], "st", "q", "l")
local st, q, l = r[1], r[2], r[3]
if not st then
  return withState(E, { CODE.RUN_NOT_FOUND })
end
if st == "f" then
  return withState(E, { CODE.RUN_IN_FLIGHT })
end
if st == "q" then
  unplaceRun(E, q, l, runId)
elseif st == "d" then
  redis.call("ZREM", E.dead, runId)
end
redis.call("DEL", KEYS[7])
refresh(E, q, l)
return withState(E, { CODE.OK })
