--[[
  restoreInFlight: puts a run straight into flight, holding a slot, without dequeuing it. Used to
  rebuild the queue from the source of truth (Postgres) after Redis lost its data: a run a worker
  still executes must count against the limits again, or the env would start more runs than its
  limit allows.

  Invariant: a slot is held once per run. A run the queue already knows (queued, in flight,
  released or dead-lettered) is left alone (NOOP); limits are not checked, because the run already
  holds its slot in reality and refusing it would not stop it running.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id   ARGV[4] org id   ARGV[5] queue (encoded)
  ARGV[6] lane (encoded; "" = no concurrency key)   ARGV[7] priority (s)   ARGV[8] attempt
  ARGV[9] consumer id   ARGV[10] visibility deadline (ms)

  Returns the env state, then a code: OK (restored) or NOOP (the run is already known).
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
local runId, q, l = ARGV[3], ARGV[5], ARGV[6]
if redis.call("EXISTS", KEYS[7]) == 1 then
  return withState(E, { CODE.NOOP })
end
local priority = tonumber(ARGV[7])
redis.call("HSET", KEYS[7], "st", "f", "o", ARGV[4], "q", q, "l", l, "p", priority, "a", E.now,
  "s", E.now - priority * 1000, "n", ARGV[8], "c", ARGV[9], "d", ARGV[10])
takeSlot(E, q, l, runId, tonumber(ARGV[10]))
refresh(E, q, l)
return withState(E, { CODE.OK })
