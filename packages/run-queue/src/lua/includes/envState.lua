--[[ The env's state for the shard index, returned first by every env-level script that changes
  anything: { ver, runnable, nextAt, inflightMin, idle, changed }.
  ver: monotonic per env, so the shard applies only the newest state it has seen (updates from
  concurrent callers may arrive out of order). runnable: a runnable queue and a free env slot.
  nextAt: earliest env timer (0 = none). inflightMin: earliest visibility deadline (0 = none).
  idle: nothing queued or in flight (the shard may forget the env). changed: the caller must send
  the state to the shard: it differs from the last one returned, or that one is over a second old.
  The second bounds the damage of a lost update (its caller died between the env script and the
  shard update): the next operation on an active env repairs the index.
  A state that is not sent needs no version: unless `force` (the caller applies every state it gets:
  dequeue, reclaim, config), an unchanged state comes back with ver 0 and inflightMin 0, which saves
  the HINCRBY and the ZRANGE. Pending counter deltas (bump) are written first. ]]
local function envState(E, force)
  flushAllBumps()
  local inflight = E.inflightCount or redis.call("ZCARD", E.inflight)
  local runnable = 0
  if (not E.limit or inflight < E.limit) and redis.call("EXISTS", E.queues) == 1 then
    runnable = 1
  end
  local nextAt = 0
  local t = redis.call("ZRANGE", E.timers, 0, 0, "WITHSCORES")
  if t[2] then
    nextAt = math.ceil(tonumber(t[2]))
  end
  local idle = 0
  if inflight == 0 and not redis.call("HGET", E.meta, "queued") then
    idle = 1
    E.clock = 0
  end
  if E.clock ~= E.savedClock then
    if E.clock == 0 then
      redis.call("HDEL", E.meta, "vclock")
    else
      redis.call("HSET", E.meta, "vclock", E.clock)
    end
  end
  -- A later deadline than the one reported does not need an update: the shard's lower bound only
  -- costs one reclaim visit that finds nothing and reports the real value.
  local hasInflight = 0
  if inflight > 0 then
    hasInflight = 1
  end
  local sig = runnable .. ":" .. nextAt .. ":" .. hasInflight
  local changed = 0
  local lastSig, sentAt = string.match(E.sig or "", "^(.*)|(%d+)$")
  if lastSig ~= sig or E.now - tonumber(sentAt) >= 1000 then
    changed = 1
    redis.call("HSET", E.meta, "sig", sig .. "|" .. E.now)
  end
  if changed == 0 and not force then
    return { 0, runnable, nextAt, 0, idle, 0 }
  end
  local ver = redis.call("HINCRBY", E.meta, "ver", 1)
  local inflightMin = 0
  if inflight > 0 then
    inflightMin = tonumber(redis.call("ZRANGE", E.inflight, 0, 0, "WITHSCORES")[2])
  end
  return { ver, runnable, nextAt, inflightMin, idle, changed }
end

--[[ envState after slots were freed (`freed` runs left the env's in-flight set) and nothing else
  changed: no refresh ran, so the env's queues, timers and virtual clock are as at the last state
  returned, which `sig` records. Then runnable can only change at the env limit and hasInflight
  only at 0; away from both, and while the last report is under a second old, the state is
  unchanged and costs one ZCARD. Otherwise, the full envState. ]]
local function envStateAfterFree(E, freed)
  local inflight = redis.call("ZCARD", E.inflight)
  if inflight > 0 and (not E.limit or inflight + freed < E.limit) then
    local lastSig, sentAt = string.match(E.sig or "", "^(.*)|(%d+)$")
    if lastSig and E.now - tonumber(sentAt) < 1000 then
      local runnable, nextAt = string.match(lastSig, "^([01]):([^:]*):1$")
      if runnable then
        flushAllBumps()
        return { 0, tonumber(runnable), tonumber(nextAt), 0, 0, 0 }
      end
    end
  end
  E.inflightCount = inflight
  return envState(E, false)
end

local function appendAll(out, rest)
  for _, v in ipairs(rest) do
    out[#out + 1] = v
  end
  return out
end

local function withState(E, rest, force)
  return appendAll(envState(E, force), rest)
end
