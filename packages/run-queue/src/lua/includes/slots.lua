--[[ A slot is held by being in the env's `inflight` zset (with the visibility deadline) and in the
  queue's and the lane's `inflight` sets; the counts that limits compare against are ZCARD/SCARD of
  these, so a slot can never be counted twice or leak a counter. ]]
local function takeSlot(E, q, l, runId, deadline)
  redis.call("ZADD", E.inflight, deadline, runId)
  redis.call("SADD", queueKey(E.base, q, "inflight"), runId)
  redis.call("SADD", laneKey(E.base, q, l, "inflight"), runId)
end

local function freeSlot(E, q, l, runId)
  redis.call("ZREM", E.inflight, runId)
  redis.call("SREM", queueKey(E.base, q, "inflight"), runId)
  redis.call("SREM", laneKey(E.base, q, l, "inflight"), runId)
end

--[[ Whether freeing a slot of the lane can change what the lane or its queue is (refreshAfterFree,
  includes/refresh.lua, refreshes exactly then). A lane that is a candidate stays one, and its queue
  is where it was (its status does not depend on slots). A lane that waited at its limit can run
  again. Any other lane (nothing available now, or a per-key rate used up) keeps its status, so
  only its last slot matters: then the lane, and maybe its queue, may have become idle and their
  saved state can go. Reads only, so ack can decide before it defines the refresh helpers. ]]
local function slotFreeMatters(E, q, l)
  if redis.call("ZSCORE", queueKey(E.base, q, "lanes"), l) then
    return false
  end
  return redis.call("SISMEMBER", queueKey(E.base, q, "blocked"), l) == 1
    or redis.call("SCARD", laneKey(E.base, q, l, "inflight")) == 0
end
