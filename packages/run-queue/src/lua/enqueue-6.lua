--[[
  enqueue: adds runs of one environment to their queues, idempotently per run id.

  Invariant: a run id is in exactly one place of its env (a lane's ready/delayed set, the in-flight
  set, the dead-letter set, or released with no place), recorded by `st` in its run hash. A run that
  already exists is left alone, except a released run (it suspended and now resumes), which is
  queued again with the given priority and availableAt. Every touched lane and queue that was not a
  candidate is re-evaluated, so the candidate sets stay exact.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead (see includes/envContext.lua)
  ARGV[1] env key base   ARGV[2] now (ms)
  ARGV[3..] one group of 7 per run: runId, orgId, queue, lane, priority (s), availableAt (ms), attempt
            (queue and lane encoded as by src/keys.ts; lane "" = no concurrency key)

  Cost: per run one HGET and one HSET; the lane sets get one ZADD per lane and the counters one
  HSET per queue per call (includes/placeRun.lua, includes/bump.lua); when every run joined a lane
  that was runnable already, the env state is the last one returned and costs no read.

  Returns the env state (includes/envState.lua) followed by one code per run:
  OK (created), REQUEUED (a released run queued again), NOOP (already present).
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

local results = {}
local touched = {}
local order = {}
for i = 3, #ARGV, 7 do
  local runId, q, l = ARGV[i], ARGV[i + 2], ARGV[i + 3]
  -- Passed on as sent (see nowText in includes/envContext.lua).
  local priority, availableAt = ARGV[i + 4], ARGV[i + 5]
  local rk = runKey(E.base, runId)
  local st = redis.call("HGET", rk, "st")
  local score = availableAt
  if priority ~= "0" then
    score = tonumber(availableAt) - tonumber(priority) * 1000
  end
  local code = CODE.NOOP
  if not st then
    redis.call("HSET", rk, "st", "q", "o", ARGV[i + 1], "q", q, "l", l, "p", priority, "a", availableAt,
      "s", score, "n", ARGV[i + 6])
    placeRunLater(E, q, l, runId, score, tonumber(availableAt))
    code = CODE.OK
  elseif st == "r" then
    -- A resumed run keeps its queue and lane: its slot history belongs to them.
    local r = redis.call("HMGET", rk, "q", "l")
    q, l = r[1], r[2]
    redis.call("HSET", rk, "st", "q", "p", priority, "a", availableAt, "s", score)
    placeRunLater(E, q, l, runId, score, tonumber(availableAt))
    code = CODE.REQUEUED
  end
  if code ~= CODE.NOOP then
    local lane = q .. ":" .. l
    if not touched[lane] then
      touched[lane] = true
      order[#order + 1] = { q, l }
    end
  end
  results[#results + 1] = code
end

flushPlaced()
for _, ql in ipairs(order) do
  refreshAfterAdd(E, ql[1], ql[2])
end

-- Runs added behind runnable lanes change nothing the env state depends on (no refresh ran,
-- which is what touches queues and timers), so the last state stands while it is fresh.
if not E.timersTouched then
  local state = unchangedState(E)
  if state then
    flushWrites()
    return appendAll(state, results)
  end
end
return withState(E, results)
