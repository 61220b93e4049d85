--[[
  redrive: a dead-lettered run goes back to its queue, available now, with its attempt count reset
  (it gets a full set of attempts again).

  Invariant: only a dead-lettered run moves; it leaves the dead-letter set as it is queued.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id

  Returns the env state, then a code: OK, RUN_NOT_FOUND or RUN_NOT_DEAD_LETTERED.
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
local r = redis.call("HMGET", KEYS[7], "st", "q", "l", "p")
local st, q, l = r[1], r[2], r[3]
if not st then
  return withState(E, { CODE.RUN_NOT_FOUND })
end
if st ~= "d" then
  return withState(E, { CODE.RUN_NOT_DEAD_LETTERED })
end
redis.call("ZREM", E.dead, runId)
local score = E.now - tonumber(r[4]) * 1000
redis.call("HSET", KEYS[7], "st", "q", "n", 0, "a", E.now, "s", score)
placeRun(E, q, l, runId, score, E.now)
refresh(E, q, l)
return withState(E, { CODE.OK })
