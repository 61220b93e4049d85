--[[ Wakes up to 50 due timers of the env ("q:<queue>" or "l:<queue>:<lane>") and re-evaluates
  them. The dequeue calls this first, so future work becomes runnable at the env's next dequeue;
  the shard's timer set brings the env into the candidates when its earliest timer is due.
  It reads the head first: with nothing due (the usual case) that one read is also the env's
  nextAt, which envState then need not read again (E.nextAt, valid until a timer is touched). ]]
local function promoteTimers(E)
  local head = redis.call("ZRANGE", E.timers, 0, 0, "WITHSCORES")
  if not head[2] then
    E.nextAt = 0
    return
  end
  if tonumber(head[2]) > E.now then
    E.nextAt = math.ceil(tonumber(head[2]))
    return
  end
  E.timersTouched = true
  local due = redis.call("ZRANGE", E.timers, "-inf", E.now, "BYSCORE", "LIMIT", 0, 50)
  for _, member in ipairs(due) do
    redis.call("ZREM", E.timers, member)
    local q, l = string.match(member, "^l:([^:]*):(.*)$")
    if q then
      refresh(E, q, l)
    else
      q = string.sub(member, 3)
      refreshQueue(E, q, queueMeta(E.base, q))
    end
  end
end
