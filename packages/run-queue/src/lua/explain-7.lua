--[[
  explain: why a queued run is (not) being dequeued. Read-only: it evaluates what the next dequeue
  would see, without waking timers.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead   KEYS[7] the run's hash
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] run id

  Returns {} for an unknown run, else: state, orgId, queue, lane, priority, availableAt, attempt,
  position (0-based rank among the lane's available runs, -1 if none), consumer, deadline,
  next allowed time of a used-up rate (0 if none), then every blocker that applies now:
  "notYetAvailable", "paused", "environment", "queue", "concurrencyKey", "rate".
]]
--- @include "keys"
--- @include "gcra"
--- @include "queueMeta"

local base, now, runId = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local r = redis.call("HMGET", KEYS[7], "st", "o", "q", "l", "p", "a", "n", "c", "d")
local st, q, l = r[1], r[3], r[4]
if not st then
  return {}
end
local out = { st, r[2], q, l, r[5], r[6], r[7], -1, r[8] or "", r[9] or "", 0 }
if st ~= "q" then
  return out
end
local rank = redis.call("ZRANK", laneKey(base, q, l, "ready"), runId)
if rank then
  out[8] = rank
elseif tonumber(r[6]) > now then
  out[#out + 1] = "notYetAvailable"
end
local m = queueMeta(base, q)
if m.paused then
  out[#out + 1] = "paused"
end
local envLimit = tonumber(redis.call("HGET", KEYS[1], "limit"))
if envLimit and redis.call("ZCARD", KEYS[5]) >= envLimit then
  out[#out + 1] = "environment"
end
if m.limit and redis.call("SCARD", laneKey(base, q, l, "inflight")) >= m.limit then
  if l == "" then
    out[#out + 1] = "queue"
  else
    out[#out + 1] = "concurrencyKey"
  end
end
if m.rl then
  local tat = m.tat
  if m.rk then
    tat = tonumber(redis.call("HGET", queueKey(base, q, "ltat"), l))
  end
  local at = gcraNextAllowed(tat, m.rl, m.rp)
  if at > now then
    out[11] = math.ceil(at)
    out[#out + 1] = "rate"
  end
end
return out
