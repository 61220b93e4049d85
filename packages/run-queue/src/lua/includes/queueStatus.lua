--[[ Whether a queue can give a run now: "paused", "idle" (no runnable lane), "rate" (the
  queue-level rate is used up; at = next allowed time) or "ready". ]]
local function queueStatus(base, q, m, now)
  if m.paused then
    return "paused", 0
  end
  if redis.call("EXISTS", queueKey(base, q, "lanes")) == 0 then
    return "idle", 0
  end
  if m.rl and not m.rk then
    local at = gcraNextAllowed(m.tat, m.rl, m.rp)
    if at > now then
      return "rate", math.ceil(at)
    end
  end
  return "ready", 0
end
