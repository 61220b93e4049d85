--[[ The env's state for the shard index, returned first by every env-level script that changes
  anything: { ver, runnable, nextAt, inflightMin, idle, changed }.
  ver: monotonic per env, so the shard applies only the newest state it has seen (updates from
  concurrent callers may arrive out of order). runnable: a runnable queue and a free env slot.
  nextAt: earliest env timer (0 = none). inflightMin: earliest visibility deadline (0 = none).
  idle: nothing queued or in flight (the shard may forget the env). changed: the caller must send
  the state to the shard: it differs from the last one returned, or that one is over a second old.
  The second bounds the damage of a lost update (its caller died between the env script and the
  shard update): the next operation on an active env repairs the index. ]]
local function envState(E)
  local ver = redis.call("HINCRBY", E.meta, "ver", 1)
  local inflight = redis.call("ZCARD", E.inflight)
  local runnable = 0
  if (not E.limit or inflight < E.limit) and redis.call("EXISTS", E.queues) == 1 then
    runnable = 1
  end
  local nextAt = 0
  local t = redis.call("ZRANGE", E.timers, 0, 0, "WITHSCORES")
  if t[2] then
    nextAt = math.ceil(tonumber(t[2]))
  end
  local inflightMin = 0
  local idle = 0
  if inflight > 0 then
    inflightMin = tonumber(redis.call("ZRANGE", E.inflight, 0, 0, "WITHSCORES")[2])
  elseif not redis.call("HGET", E.meta, "queued") then
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
  return { ver, runnable, nextAt, inflightMin, idle, changed }
end

local function withState(E, rest)
  local out = envState(E)
  for _, v in ipairs(rest) do
    out[#out + 1] = v
  end
  return out
end
