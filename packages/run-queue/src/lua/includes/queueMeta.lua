--[[ Reads a queue's config once per script run (cached in QM). `tat` and `vclock` change during a
  dequeue; the dequeue updates both the cache and the hash. Fields: limit (concurrency limit per
  lane; absent = unlimited), paused ("1"), rl/rp/rk (rate: limit, period ms, per key "1"), tat
  (queue-level GCRA state), vclock (the queue's virtual clock for its lanes). ]]
local QM = {}

local function queueMeta(base, q)
  local m = QM[q]
  if m then
    return m
  end
  local r = redis.call("HMGET", queueKey(base, q, "meta"), "limit", "paused", "rl", "rp", "rk", "tat", "vclock")
  m = {
    limit = tonumber(r[1]),
    paused = r[2] == "1",
    rl = tonumber(r[3]),
    rp = tonumber(r[4]),
    rk = r[5] == "1",
    tat = tonumber(r[6]),
    vclock = tonumber(r[7]) or 0,
  }
  QM[q] = m
  return m
end
