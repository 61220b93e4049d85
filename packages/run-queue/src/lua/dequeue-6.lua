--[[
  dequeue: takes up to `count` runs of one environment, fairly across its queues and, inside a
  queue, across its concurrency keys, each within every limit, and puts them in flight.

  Invariant: a run is handed out only if, at that moment, the env's in-flight count is below the
  env limit, the lane's below the queue's limit, the queue is not paused and no rate is used up.
  Fairness: the queue with the lowest virtual time is served, then its lane with the lowest virtual
  time; each gets +1 per run (start-time fair queuing, includes/fairShare.lua). Inside a lane the
  run with the lowest priority score (availableAt - priority s) goes first. Candidates that turn
  out blocked (a limit lowered since they joined) are moved out and skipped, so the loop is bounded
  by count + the number of such stale members (guarded anyway).

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] count   ARGV[4] visibility deadline (ms)
  ARGV[5] consumer id

  Returns the env state, then the number of runs n, then n groups of 8:
  runId, orgId, queue, lane, priority, availableAt, attempt, deadline.
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
--- @include "promoteTimers"
--- @include "slots"
--- @include "envState"

local E = envContext()
promoteTimers(E)

local count = tonumber(ARGV[3])
local deadline = tonumber(ARGV[4])
local consumer = ARGV[5]
local envInflight = redis.call("ZCARD", E.inflight)

local out = {}
local served = 0
local guard = count + 100
while served < count and guard > 0 do
  guard = guard - 1
  if E.limit and envInflight >= E.limit then
    break
  end
  local qh = redis.call("ZRANGE", E.queues, 0, 0, "WITHSCORES")
  local q = qh[1]
  if not q then
    break
  end
  local m = queueMeta(E.base, q)
  local lanes = queueKey(E.base, q, "lanes")
  local lh = redis.call("ZRANGE", lanes, 0, 0, "WITHSCORES")
  local l = lh[1]
  -- Candidates are runnable by invariant, except after a limit was lowered or a per-key rate
  -- changed: those are re-checked here, and a stale candidate is moved out, not served.
  local stale = not l
  if not stale and m.limit and redis.call("SCARD", laneKey(E.base, q, l, "inflight")) >= m.limit then
    stale = true
  end
  if not stale and m.rl and m.rk then
    stale = gcraNextAllowed(tonumber(redis.call("HGET", queueKey(E.base, q, "ltat"), l)), m.rl, m.rp) > E.now
  end
  local popped
  if not stale then
    popped = redis.call("ZPOPMIN", laneKey(E.base, q, l, "ready"))
    stale = not popped[1]
  end
  if stale then
    if l then
      refreshLane(E, q, l, m)
    end
    refreshQueue(E, q, m)
  else
    local runId = popped[1]
    local rk = runKey(E.base, runId)
    redis.call("HSET", rk, "st", "f", "c", consumer, "d", deadline)
    local r = redis.call("HMGET", rk, "o", "p", "a", "n")
    takeSlot(E, q, l, runId, deadline)
    bump(E.meta, "queued", -1)
    local meta = queueKey(E.base, q, "meta")
    bump(meta, "queued", -1)
    envInflight = envInflight + 1

    -- Virtual time: the served queue and lane move back by one; the clocks remember where
    -- service is, for members that join later.
    local qs, ls = tonumber(qh[2]), tonumber(lh[2])
    if qs > E.clock then
      E.clock = qs
    end
    redis.call("ZINCRBY", E.queues, 1, q)
    redis.call("ZINCRBY", lanes, 1, l)
    if ls > m.vclock then
      m.vclock = ls
      redis.call("HSET", meta, "vclock", ls)
    end
    local queueRated = false
    if m.rl then
      if m.rk then
        local ltat = queueKey(E.base, q, "ltat")
        redis.call("HSET", ltat, l, gcraAfterDequeue(tonumber(redis.call("HGET", ltat, l)), E.now, m.rl, m.rp))
      else
        queueRated = true
        m.tat = gcraAfterDequeue(m.tat, E.now, m.rl, m.rp)
        redis.call("HSET", meta, "tat", m.tat)
      end
    end
    -- The lane was a candidate, so it was in no timer nor blocked set: only a change of its
    -- status needs the full refresh (and then its queue may have lost its last runnable lane).
    if laneStatus(E.base, q, l, m, E.now) ~= "ready" then
      refreshLane(E, q, l, m)
      refreshQueue(E, q, m)
    elseif queueRated then
      refreshQueue(E, q, m)
    end

    served = served + 1
    local n = #out
    out[n + 1] = runId
    out[n + 2] = r[1]
    out[n + 3] = q
    out[n + 4] = l
    out[n + 5] = r[2]
    out[n + 6] = r[3]
    out[n + 7] = r[4]
    out[n + 8] = deadline
  end
end

table.insert(out, 1, served)
return withState(E, out)
