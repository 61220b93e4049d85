--[[
  reclaim: in-flight runs of one env whose visibility deadline has passed (their consumer died or
  hung) are given back as if nacked: slot freed, attempt counted, queued again now or dead-lettered.

  Invariant: a run whose consumer never acks still ends its delivery exactly once, so its slot
  cannot leak. At most ARGV[3] runs per call, so one call stays short; the caller repeats.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] max runs   ARGV[4] maxAttempts

  Returns the env state, then the number requeued, the number dead-lettered, then the run ids.
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
local expired = redis.call("ZRANGE", E.inflight, "-inf", "(" .. E.now, "BYSCORE", "LIMIT", 0, tonumber(ARGV[3]))
local requeued, dead = 0, 0
for _, runId in ipairs(expired) do
  local q, l, wasDead = requeueRun(E, runId, E.now, tonumber(ARGV[4]))
  if wasDead then
    dead = dead + 1
  else
    requeued = requeued + 1
  end
  refresh(E, q, l)
end
local out = { requeued, dead }
for _, runId in ipairs(expired) do
  out[#out + 1] = runId
end
return withState(E, out)
