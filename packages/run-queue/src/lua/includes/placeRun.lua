--[[ Queues a run in its lane (ready if available now, else delayed until availableAt) and counts it
  in the env's and the queue's `queued`; unplaceRun undoes both. ]]
local function placeRun(E, q, l, runId, score, availableAt)
  if availableAt <= E.now then
    redis.call("ZADD", laneKey(E.base, q, l, "ready"), score, runId)
  else
    redis.call("ZADD", laneKey(E.base, q, l, "delayed"), availableAt, runId)
  end
  bump(E.meta, "queued", 1)
  bump(queueKey(E.base, q, "meta"), "queued", 1)
end

local function unplaceRun(E, q, l, runId)
  redis.call("ZREM", laneKey(E.base, q, l, "ready"), runId)
  redis.call("ZREM", laneKey(E.base, q, l, "delayed"), runId)
  bump(E.meta, "queued", -1)
  bump(queueKey(E.base, q, "meta"), "queued", -1)
end
