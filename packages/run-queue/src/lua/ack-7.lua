--[[
  ack: the run is done; forget it, in whatever state it is, and free what it held.

  Invariant: every dequeue is matched by exactly one ack, nack, release or reclaim, so slots never
  leak: an in-flight run leaves the env, queue and lane in-flight sets; a queued one leaves its lane
  and the queued counters; a dead-lettered one leaves the dead-letter set. Its lane and queue are
  refreshed when the change can matter to them, which brings back a lane that was waiting at its
  limit (includes/ackRuns.lua).

  Cost of the usual case (an in-flight run whose lane still has runs available, env away from its
  limit): HMGET env meta, HMGET run, ZREM, 2 SREM, DEL (run and locator), ZSCORE, ZCARD; the env state is then
  unchanged and needs no version (includes/envState.lua, envStateAfterFree).

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id
  ARGV[4] locator key prefix: on a single Redis the run's locator (prefix .. run id) is deleted with
          the run; "" on a cluster, where it lives in another slot and the caller deletes it

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
--- @include "placeRun"
--- @include "envState"
--- @include "ackRuns"

local E = envContext()
local runId = ARGV[3]
local r = redis.call("HMGET", KEYS[7], "st", "q", "l")
if r[1] == "f" then
  local q, l = r[2], r[3]
  freeSlot(E, q, l, runId)
  if ARGV[4] ~= "" then
    redis.call("DEL", KEYS[7], ARGV[4] .. runId)
  else
    redis.call("DEL", KEYS[7])
  end
  local rest = { CODE.OK, "f" }
  if slotFreeMatters(E, q, l) then
    refresh(E, q, l)
    return withState(E, rest)
  end
  return appendAll(envStateAfterFree(E, 1), rest)
end

local codes, states, freed, refreshed = ackRuns(E, { runId }, ARGV[4])
local rest = { codes[1], states[1] }
if refreshed or freed == 0 then
  return withState(E, rest)
end
return appendAll(envStateAfterFree(E, freed), rest)
