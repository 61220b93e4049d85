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
