--[[ Queues a run in its lane (ready if available now, else delayed until availableAt) and counts it
  in the env's and the queue's `queued` (bumpQueued, includes/queueMeta.lua); unplaceRun undoes both. ]]
local function placeRun(E, q, l, runId, score, availableAt)
  if availableAt <= E.now then
    redis.call("ZADD", laneKey(E.base, q, l, "ready"), score, runId)
  else
    redis.call("ZADD", laneKey(E.base, q, l, "delayed"), availableAt, runId)
  end
  bumpQueued(E, q, 1)
end

local function unplaceRun(E, q, l, runId)
  redis.call("ZREM", laneKey(E.base, q, l, "ready"), runId)
  redis.call("ZREM", laneKey(E.base, q, l, "delayed"), runId)
  bumpQueued(E, q, -1)
end

--[[ The same for a batch (enqueue): placeRunLater collects the runs per lane set, flushPlaced adds
  each set's runs with one ZADD (at most 500 runs per script call, so the argument list stays small). ]]
--- @include "callState"

local function placeRunLater(E, q, l, runId, score, availableAt)
  local key, member = laneKey(E.base, q, l, "ready"), score
  if availableAt > E.now then
    key, member = laneKey(E.base, q, l, "delayed"), availableAt
  end
  local args = PLACED[key]
  if not args then
    args = {}
    PLACED[key] = args
    PLACED_KEYS[#PLACED_KEYS + 1] = key
  end
  args[#args + 1] = member
  args[#args + 1] = runId
  bumpQueued(E, q, 1)
end

local function flushPlaced()
  for _, key in ipairs(PLACED_KEYS) do
    redis.call("ZADD", key, unpack(PLACED[key]))
  end
  PLACED, PLACED_KEYS = {}, {}
end
