--[[ Whether a lane (one concurrency key of a queue; "" for runs without a key) can give a run now.
  First moves up to 100 due runs from `delayed` (by availableAt) into `ready` (by priority score):
  two sets, so a prioritised run that is not yet available never blocks an available one
  (promoteDue, which the dequeue also calls before it takes runs from a lane).
  Returns status, at:
    "ready"  runnable now;
    "later"  only future runs; at = when the first becomes available;
    "empty"  nothing queued;
    "limit"  in flight >= the queue's limit (each lane has its own copy of the limit);
    "rate"   the per-key rate is used up; at = the next allowed time. ]]
local function promoteDue(base, q, l, nowText)
  local ready = laneKey(base, q, l, "ready")
  local delayed = laneKey(base, q, l, "delayed")
  local due = redis.call("ZRANGE", delayed, "-inf", nowText, "BYSCORE", "LIMIT", 0, 100)
  if #due > 0 then
    for _, id in ipairs(due) do
      redis.call("ZADD", ready, redis.call("HGET", runKey(base, id), "s"), id)
    end
    redis.call("ZREM", delayed, unpack(due))
  end
  return ready, delayed
end

local function laneStatus(base, q, l, m, now, nowText)
  local ready, delayed = promoteDue(base, q, l, nowText)
  if redis.call("ZCARD", ready) == 0 then
    local head = redis.call("ZRANGE", delayed, 0, 0, "WITHSCORES")
    if head[2] then
      return "later", tonumber(head[2])
    end
    return "empty", 0
  end
  if m.limit and redis.call("SCARD", laneKey(base, q, l, "inflight")) >= m.limit then
    return "limit", 0
  end
  if m.rl and m.rk then
    local at = gcraNextAllowed(tonumber(redis.call("HGET", queueKey(base, q, "ltat"), l)), m.rl, m.rp)
    if at > now then
      return "rate", math.ceil(at)
    end
  end
  return "ready", 0
end
