--[[ Puts a lane / a queue where its status says it belongs, which is the invariant all scripts keep:
  a member of a candidate set (the queue's `lanes`, the env's `queues`) is runnable now; a blocked
  one is out of it, in the env's `timers` if it will become runnable at a known time (not yet
  available, rate limited), or waiting for the event that frees it (a slot released: ack, nack,
  release, reclaim, remove of a run of that lane; a limit raised; resume). A lane at its limit
  is remembered in the queue's `blocked` set, so raising the limit finds it without a scan.
  When a lane or queue has nothing left at all, its saved fairness state is dropped. ]]
--- @include "slots"
local function refreshLane(E, q, l, m)
  local base, now = E.base, E.now
  local status, at = laneStatus(base, q, l, m, now, E.nowText)
  local lanes, lvt = queueKey(base, q, "lanes"), queueKey(base, q, "lvt")
  local timer = "l:" .. q .. ":" .. l
  if status == "ready" then
    joinFair(lanes, lvt, l, m.vclock)
  else
    leaveFair(lanes, lvt, l)
  end
  if status == "limit" then
    redis.call("SADD", queueKey(base, q, "blocked"), l)
  else
    redis.call("SREM", queueKey(base, q, "blocked"), l)
  end
  if at > 0 then
    redis.call("ZADD", E.timers, at, timer)
  else
    redis.call("ZREM", E.timers, timer)
  end
  E.timersTouched = true
  if status == "empty" and redis.call("SCARD", laneKey(base, q, l, "inflight")) == 0 then
    redis.call("HDEL", lvt, l)
    local ltat = queueKey(base, q, "ltat")
    local tat = tonumber(redis.call("HGET", ltat, l))
    -- A future tat still limits the rate: dropping it would allow a fresh burst.
    if tat and tat <= now then
      redis.call("HDEL", ltat, l)
    end
  end
  return status, at
end

local function refreshQueue(E, q, m)
  local base, now = E.base, E.now
  E.queuesNonEmpty = nil
  local status, at = queueStatus(base, q, m, now)
  local timer = "q:" .. q
  if status == "ready" then
    joinFair(E.queues, E.qvt, q, E.clock)
  else
    leaveFair(E.queues, E.qvt, q)
  end
  if at > 0 then
    redis.call("ZADD", E.timers, at, timer)
  else
    redis.call("ZREM", E.timers, timer)
  end
  E.timersTouched = true
  if status ~= "ready" and m.queued == 0 and redis.call("SCARD", queueKey(base, q, "inflight")) == 0 then
    redis.call("HDEL", E.qvt, q)
    if m.vclock ~= 0 then
      setQueueField(m, "vclock", 0)
    end
    if m.tat and m.tat <= now then
      setQueueField(m, "tat", nil)
    end
  end
  return status, at
end

local function refresh(E, q, l)
  local m = queueMeta(E.base, q)
  refreshLane(E, q, l, m)
  refreshQueue(E, q, m)
end

-- After runs were added to a lane: a lane and queue that are candidates already stay so (a run
-- added behind available ones changes nothing; a future one is moved up by the lane's next
-- refresh), so only non-candidates need the full evaluation.
local function refreshAfterAdd(E, q, l)
  local m = queueMeta(E.base, q)
  if not redis.call("ZSCORE", queueKey(E.base, q, "lanes"), l) then
    refreshLane(E, q, l, m)
  end
  if not redis.call("ZSCORE", E.queues, q) then
    refreshQueue(E, q, m)
  end
end

-- After a slot of the lane was freed: refreshes when that can matter (slotFreeMatters, in
-- includes/slots.lua). Returns whether it refreshed (queues or timers may have changed).
local function refreshAfterFree(E, q, l)
  if slotFreeMatters(E, q, l) then
    refresh(E, q, l)
    return true
  end
  return false
end
