--[[ Forgets runs of one env, in whatever state each is, and frees what they held (ack-7, ackMany-6).
  Per run: one HMGET of its hash; in-flight runs are then removed with one ZREM (env), one SREM per
  queue and per lane, and all run hashes with one DEL, whatever their number. A queued, released or
  dead-lettered run refreshes its lane and queue (it may have been the last one); a freed slot
  refreshes only what it can change (refreshAfterFree). A run id given twice is acked once (the
  second is RUN_NOT_FOUND, as a second call would be). With a `locatorPrefix` (single Redis: the
  locator keys are on this node too) the acked runs' locator keys go in the same DEL, which saves
  the caller a round trip; "" on a cluster, where they live in other slots and the caller drops them.
  Returns one code per run id (OK or RUN_NOT_FOUND), the state each run was in ("" if unknown),
  the number of slots freed, and whether a refresh ran (then the full envState is due). ]]
local function ackRuns(E, runIds, locatorPrefix)
  local codes, states = {}, {}
  local seen = {}
  local runKeys = {}
  local freedIds = {}
  local queueIds, queueOrder = {}, {}
  local laneIds, laneOrder = {}, {}
  local toRefresh, refreshOrder = {}, {}
  for i, runId in ipairs(runIds) do
    local rk = runKey(E.base, runId)
    local st, q, l
    if not seen[runId] then
      seen[runId] = true
      local r = redis.call("HMGET", rk, "st", "q", "l")
      st, q, l = r[1], r[2], r[3]
    end
    if not st then
      codes[i], states[i] = CODE.RUN_NOT_FOUND, ""
    else
      codes[i], states[i] = CODE.OK, st
      runKeys[#runKeys + 1] = rk
      if locatorPrefix ~= "" then
        runKeys[#runKeys + 1] = locatorPrefix .. runId
      end
      local lane = q .. ":" .. l
      if st == "f" then
        freedIds[#freedIds + 1] = runId
        if not queueIds[q] then
          queueIds[q] = {}
          queueOrder[#queueOrder + 1] = q
        end
        table.insert(queueIds[q], runId)
        if not laneIds[lane] then
          laneIds[lane] = { q = q, l = l }
          laneOrder[#laneOrder + 1] = lane
        end
        table.insert(laneIds[lane], runId)
      else
        if st == "q" then
          unplaceRun(E, q, l, runId)
        elseif st == "d" then
          redis.call("ZREM", E.dead, runId)
        end
        if not toRefresh[lane] then
          toRefresh[lane] = { q, l }
          refreshOrder[#refreshOrder + 1] = lane
        end
      end
    end
  end
  if #freedIds > 0 then
    redis.call("ZREM", E.inflight, unpack(freedIds))
    for _, q in ipairs(queueOrder) do
      redis.call("SREM", queueKey(E.base, q, "inflight"), unpack(queueIds[q]))
    end
    for _, lane in ipairs(laneOrder) do
      local ids = laneIds[lane]
      redis.call("SREM", laneKey(E.base, ids.q, ids.l, "inflight"), unpack(ids))
    end
  end
  if #runKeys > 0 then
    redis.call("DEL", unpack(runKeys))
  end
  local refreshed = #refreshOrder > 0
  for _, lane in ipairs(refreshOrder) do
    refresh(E, toRefresh[lane][1], toRefresh[lane][2])
  end
  for _, lane in ipairs(laneOrder) do
    local ids = laneIds[lane]
    if not toRefresh[lane] and refreshAfterFree(E, ids.q, ids.l) then
      refreshed = true
    end
  end
  return codes, states, #freedIds, refreshed
end
