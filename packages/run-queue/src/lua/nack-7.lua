--[[
  nack: the consumer gives an in-flight run back. Its slot is freed and its attempt count goes up;
  it is queued again, available at retryAt, or dead-lettered once attempts exceed maxAttempts.

  Invariant: only a run in flight can be nacked (its slot is what is being returned), so a
  duplicate nack cannot free a slot twice.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id   ARGV[4] retryAt (ms)
  ARGV[5] maxAttempts

  Returns the env state, then a code: OK (requeued), NOOP (dead-lettered), RUN_NOT_FOUND or
  RUN_NOT_IN_FLIGHT; then the attempt count ("" when refused).
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
--- @include "requeueRun"
--- @include "envState"

local E = envContext()
local runId = ARGV[3]
local st = redis.call("HGET", KEYS[7], "st")
if not st then
  return withState(E, { CODE.RUN_NOT_FOUND, "" })
end
if st ~= "f" then
  return withState(E, { CODE.RUN_NOT_IN_FLIGHT, "" })
end
local q, l, dead = requeueRun(E, runId, tonumber(ARGV[4]), tonumber(ARGV[5]))
refresh(E, q, l)
local code = CODE.OK
if dead then
  code = CODE.NOOP
end
return withState(E, { code, redis.call("HGET", KEYS[7], "n") })
