--[[ The env's state for the shard index, returned first by every env-level script that changes
  anything: { ver, runnable, nextAt, inflightMin, idle, changed }.
  ver: monotonic per env, so the shard applies only the newest state it has seen (updates from
  concurrent callers may arrive out of order). runnable: a runnable queue and a free env slot.
  nextAt: earliest env timer (0 = none). inflightMin: earliest visibility deadline (0 = none).
  idle: nothing queued or in flight (the shard may forget the env). changed: the caller must send
  the state to the shard: it differs from the last one returned, or that one is over a second old.
  The second bounds the damage of a lost update (its caller died between the env script and the
  shard update): the next operation on an active env repairs the index.
  A state that is not sent needs no version: an unchanged state comes back with ver 0 and inflightMin
  0, which saves the version and the ZRANGE (of a dequeue's, the shard applies only the served
  count). What the script changed in the meta hashes is written here, one HSET per hash
  (includes/bump.lua). nextAt needs no read when promoteTimers saw the head of the timers and
  nothing touched them since; whether a queue is runnable, when the dequeue just served one and no
  refreshQueue ran since. ]]
local function envState(E)
  local inflight = E.inflightCount or redis.call("ZCARD", E.inflight)
  local runnable = 0
  if (not E.limit or inflight < E.limit) and (E.queuesNonEmpty or redis.call("EXISTS", E.queues) == 1) then
    runnable = 1
  end
  local nextAt = E.nextAt
  if E.timersTouched or not nextAt then
    nextAt = 0
    local t = redis.call("ZRANGE", E.timers, 0, 0, "WITHSCORES")
    if t[2] then
      nextAt = math.ceil(tonumber(t[2]))
    end
  end
  local idle = 0
  if inflight == 0 and E.queued == 0 then
    idle = 1
    E.clock = 0
  end
  if E.clock ~= E.savedClock then
    setOrDrop(E.meta, "vclock", E.clock)
  end
  -- A later deadline than the one reported does not need an update: the shard's lower bound only
  -- costs one reclaim visit that finds nothing and reports the real value.
  local hasInflight = 0
  if inflight > 0 then
    hasInflight = 1
  end
  -- Built from strings: concatenating a Lua number formats it with sprintf.
  local sig = (runnable == 1 and "1:" or "0:") .. (nextAt == 0 and "0" or nextAt) .. (hasInflight == 1 and ":1" or ":0")
  local changed = 0
  local lastSig, sentAt = string.match(E.sig or "", "^(.*)|(%d+)$")
  if lastSig ~= sig or E.now - tonumber(sentAt) >= 1000 then
    changed = 1
    setLater(E.meta, "sig", sig .. "|" .. E.nowText)
  end
  local ver, inflightMin = 0, 0
  if changed == 1 then
    E.ver = E.ver + 1
    ver = E.ver
    setLater(E.meta, "ver", ver)
    if inflight > 0 then
      inflightMin = tonumber(redis.call("ZRANGE", E.inflight, 0, 0, "WITHSCORES")[2])
    end
  end
  flushWrites()
  return { ver, runnable, nextAt, inflightMin, idle, changed }
end

--[[ The last state returned, from `sig`, when it is under a second old: the state of a script that
  knows it changed nothing the state depends on (no refresh ran, so queues, timers and the virtual
  clock are as they were), with ver 0 (not sent). nil when the full envState is due. ]]
local function unchangedState(E)
  local lastSig, sentAt = string.match(E.sig or "", "^(.*)|(%d+)$")
  if not lastSig or E.now - tonumber(sentAt) >= 1000 then
    return nil
  end
  local runnable, nextAt, hasInflight = string.match(lastSig, "^([01]):([^:]*):([01])$")
  return { 0, tonumber(runnable), tonumber(nextAt), 0, 0, 0 }, hasInflight == "1"
end

--[[ envState after slots were freed (`freed` runs left the env's in-flight set) and nothing else
  changed: runnable can then only change at the env limit and hasInflight only at 0; away from
  both, the last state stands (unchangedState) and costs one ZCARD. Otherwise, the full envState. ]]
local function envStateAfterFree(E, freed)
  local inflight = redis.call("ZCARD", E.inflight)
  if inflight > 0 and (not E.limit or inflight + freed < E.limit) and E.queued == E.savedQueued then
    local state, hadInflight = unchangedState(E)
    if state and hadInflight then
      flushWrites()
      return state
    end
  end
  E.inflightCount = inflight
  return envState(E)
end

local function appendAll(out, rest)
  for _, v in ipairs(rest) do
    out[#out + 1] = v
  end
  return out
end

local function withState(E, rest)
  return appendAll(envState(E), rest)
end
