--[[
  ackMany: ack for many runs of one environment in one call: each is forgotten, in whatever state
  it is, and frees what it held (the same transitions as ack-7.lua, includes/ackRuns.lua).

  Invariant: as ack: every dequeue is matched by exactly one ack, nack, release or reclaim, so
  slots never leak; a run id listed twice, or unknown, changes nothing (RUN_NOT_FOUND). The
  per-env work (env context, refreshes, env state) is paid once per call instead of once per run:
  per in-flight run the call costs one HMGET; the env set, each queue's and each lane's in-flight
  set and the run hashes are updated with one command each for the whole call.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)
  ARGV[3] locator key prefix: on a single Redis the acked runs' locators (prefix .. run id) are
          deleted with them; "" on a cluster, where they live in other slots and the caller deletes them
  ARGV[4..] run ids (encoded; at most 500 per call)

  Returns the env state, then one code per run id, in order: OK, or RUN_NOT_FOUND (unknown run).
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
local runIds = {}
for i = 4, #ARGV do
  runIds[#runIds + 1] = ARGV[i]
end
local codes, _, freed, refreshed = ackRuns(E, runIds, ARGV[3])
if refreshed or freed == 0 then
  return withState(E, codes)
end
return appendAll(envStateAfterFree(E, freed), codes)
