--[[
  reacquire: a released run resumes and takes a slot again, if the env limit and its lane's limit
  allow it now; it is then in flight with a new visibility deadline. Rates do not apply: they count
  dequeues, and this run was already dequeued.

  Invariant: limits are never exceeded, so a blocked reacquire takes nothing and says what blocks
  it (the caller may wait, or enqueue the run to get its turn).

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id   ARGV[4] visibility deadline (ms)

  Returns the env state, then a code: OK, NOOP (already in flight), BLOCKED, RUN_NOT_FOUND or
  RUN_NOT_RELEASED; then the blocking limit for BLOCKED ("environment", "queue",
  "concurrencyKey") or "".
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
  return withState(E, { CODE.RUN_NOT_FOUND, "" })
end
if st == "f" then
  return withState(E, { CODE.NOOP, "" })
end
if st ~= "r" then
  return withState(E, { CODE.RUN_NOT_RELEASED, "" })
end
if E.limit and redis.call("ZCARD", E.inflight) >= E.limit then
  return withState(E, { CODE.BLOCKED, "environment" })
end
local m = queueMeta(E.base, q)
if m.limit and redis.call("SCARD", laneKey(E.base, q, l, "inflight")) >= m.limit then
  local which = "queue"
  if l ~= "" then
    which = "concurrencyKey"
  end
  return withState(E, { CODE.BLOCKED, which })
end
takeSlot(E, q, l, runId, tonumber(ARGV[4]))
redis.call("HSET", KEYS[7], "st", "f", "d", ARGV[4])
refresh(E, q, l)
return withState(E, { CODE.OK, "" })
