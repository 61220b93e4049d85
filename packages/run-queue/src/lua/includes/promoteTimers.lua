--[[ Wakes up to 50 due timers of the env ("q:<queue>" or "l:<queue>:<lane>") and re-evaluates
  them. The dequeue calls this first, so future work becomes runnable at the env's next dequeue;
  the shard's timer set brings the env into the candidates when its earliest timer is due. ]]
local function promoteTimers(E)
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
