--[[ The runs of one dequeue (dequeue-6.lua, dequeueIndexed-12.lua): serves up to ARGV[3] runs of
  the env of KEYS[1..6] and returns the env context with what was served: { n, then n groups of 8 }.
  The env state is the caller's to build (includes/envState.lua), after whatever else it does. ]]
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

-- Runs per stretch at most, so the argument lists of ZADD / SADD stay far below Lua's unpack limit.
local MAX_STRETCH = 1000

-- How many serves in a row the head of a fair set (score s) gets before the runner-up (score s2,
-- nil = none) is as low: every serve adds 1; at a tie the next read decides, by member order.
local function stretchLength(s, s2)
  if not s2 then
    return MAX_STRETCH
  end
  local n = math.ceil(tonumber(s2) - s)
  if n < 1 then
    return 1
  end
  return n
end

-- How many of up to `max` dequeues a GCRA state allows now, checking each one (`firstFree`: the
-- first is not checked, as the queue-level rate is checked when the queue joins the candidates).
local function rateAllows(tat, max, limit, period, now, firstFree)
  local n = 0
  while n < max do
    if not (n == 0 and firstFree) and gcraNextAllowed(tat, limit, period) > now then
      break
    end
    tat = gcraAfterDequeue(tat, now, limit, period)
    n = n + 1
  end
  return n
end

local function gcraAfter(tat, k, now, limit, period)
  for _ = 1, k do
    tat = gcraAfterDequeue(tat, now, limit, period)
  end
  return tat
end

local function dequeueRuns()
  local E = envContext()
  promoteTimers(E)

  local count = tonumber(ARGV[3])
  -- Passed on as sent (see nowText in includes/envContext.lua).
  local deadline = ARGV[4]
  local consumer = ARGV[5]
  local envInflight = redis.call("ZCARD", E.inflight)

  local out = {}
  local served = 0
  local guard = count + 100
  while served < count and guard > 0 do
    guard = guard - 1
    local room = math.min(count - served, MAX_STRETCH)
    if E.limit then
      if envInflight >= E.limit then
        break
      end
      room = math.min(room, E.limit - envInflight)
    end
    local qh = redis.call("ZRANGE", E.queues, 0, 1, "WITHSCORES")
    local q = qh[1]
    if not q then
      break
    end
    -- Until a refreshQueue, envState need not ask whether the env has a runnable queue.
    E.queuesNonEmpty = true
    local m = queueMeta(E.base, q)
    local lanes = queueKey(E.base, q, "lanes")
    local lh = redis.call("ZRANGE", lanes, 0, 1, "WITHSCORES")
    local l = lh[1]
    -- Candidates are runnable by invariant, except after a limit was lowered or a per-key rate
    -- changed: those are re-checked here, and a stale candidate is moved out, not served.
    local stale = not l
    local laneInflight
    if not stale and m.limit then
      laneInflight = redis.call("SCARD", laneKey(E.base, q, l, "inflight"))
      stale = laneInflight >= m.limit
      room = math.min(room, m.limit - laneInflight)
    end
    local ltatKey, ltat
    if not stale and m.rl and m.rk then
      ltatKey = queueKey(E.base, q, "ltat")
      ltat = tonumber(redis.call("HGET", ltatKey, l))
      room = rateAllows(ltat, room, m.rl, m.rp, E.now, false)
      stale = room == 0
    end
    local popped
    if not stale then
      local qs, ls = tonumber(qh[2]), tonumber(lh[2])
      room = math.min(room, stretchLength(qs, qh[4]), stretchLength(ls, lh[4]))
      if m.rl and not m.rk then
        room = rateAllows(m.tat, room, m.rl, m.rp, E.now, true)
      end
      local ready = promoteDue(E.base, q, l, E.nowText)
      popped = redis.call("ZPOPMIN", ready, room)
      stale = not popped[1]
    end
    if stale then
      if l then
        refreshLane(E, q, l, m)
      end
      refreshQueue(E, q, m)
    else
      local k = #popped / 2
      local ids, slots = {}, {}
      for i = 1, k do
        local runId = popped[2 * i - 1]
        local rk = runKey(E.base, runId)
        redis.call("HSET", rk, "st", "f", "c", consumer, "d", deadline)
        local r = redis.call("HMGET", rk, "o", "p", "a", "n")
        ids[i] = runId
        slots[2 * i - 1] = deadline
        slots[2 * i] = runId
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
      -- The slots (includes/slots.lua, for k runs at once) and the queued counters.
      redis.call("ZADD", E.inflight, unpack(slots))
      redis.call("SADD", queueKey(E.base, q, "inflight"), unpack(ids))
      redis.call("SADD", laneKey(E.base, q, l, "inflight"), unpack(ids))
      bumpQueued(E, q, -k)
      envInflight = envInflight + k
      served = served + k

      -- Virtual time: the served queue and lane move back by k; the clocks remember where service
      -- is (the start score of the last run served), for members that join later.
      local lastQ, lastL = tonumber(qh[2]) + k - 1, tonumber(lh[2]) + k - 1
      if lastQ > E.clock then
        E.clock = lastQ
      end
      redis.call("ZINCRBY", E.queues, k, q)
      redis.call("ZINCRBY", lanes, k, l)
      if lastL > m.vclock then
        setQueueField(m, "vclock", lastL)
      end
      local queueRated = false
      if m.rl then
        if m.rk then
          ltat = gcraAfter(ltat, k, E.now, m.rl, m.rp)
          redis.call("HSET", ltatKey, l, ltat)
        else
          queueRated = true
          setQueueField(m, "tat", gcraAfter(m.tat, k, E.now, m.rl, m.rp))
        end
      end
      -- The lane was a candidate, so it was in no timer nor blocked set: only a change of its
      -- status needs the full refresh (and then its queue may have lost its last runnable lane).
      -- Whether it is still ready is known from what the stretch read, except whether runs remain:
      -- none if fewer were popped than asked, else one ZCARD. "Not ready" needs no proof: the full
      -- refresh re-evaluates the lane (and moves up due runs, which may make it ready again).
      local stillReady = k == room
        and not (m.limit and laneInflight + k >= m.limit)
        and not (m.rl and m.rk and gcraNextAllowed(ltat, m.rl, m.rp) > E.now)
        and redis.call("ZCARD", laneKey(E.base, q, l, "ready")) > 0
      if not stillReady then
        refreshLane(E, q, l, m)
        refreshQueue(E, q, m)
      elseif queueRated then
        refreshQueue(E, q, m)
      end
    end
  end

  E.inflightCount = envInflight
  table.insert(out, 1, served)
  return E, out
end
