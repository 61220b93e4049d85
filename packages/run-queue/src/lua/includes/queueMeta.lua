--[[ Reads a queue's meta hash once per script run (cached in QM). Fields: limit (concurrency limit
  per lane; absent = unlimited), paused ("1"), rl/rp/rk (rate: limit, period ms, per key "1"), tat
  (queue-level GCRA state), vclock (the queue's virtual clock for its lanes), queued (counter).
  `tat`, `vclock` and `queued` change during a script: change them with setQueueField, which
  updates the cache and writes the hash at the end (includes/bump.lua). ]]
--- @include "callState"

local function queueMeta(base, q)
  local m = QM[q]
  if m then
    return m
  end
  local key = queueKey(base, q, "meta")
  local r = redis.call("HMGET", key, "limit", "paused", "rl", "rp", "rk", "tat", "vclock", "queued")
  m = {
    key = key,
    limit = tonumber(r[1]),
    paused = r[2] == "1",
    rl = tonumber(r[3]),
    rp = tonumber(r[4]),
    rk = r[5] == "1",
    tat = tonumber(r[6]),
    vclock = tonumber(r[7]) or 0,
    queued = tonumber(r[8]) or 0,
  }
  QM[q] = m
  return m
end

-- tat: nil deletes it; vclock and queued: 0 deletes them.
local function setQueueField(m, field, value)
  m[field] = value
  if value == nil then
    setLater(m.key, field, false)
  else
    setOrDrop(m.key, field, value)
  end
end

-- A run more (delta 1) or fewer (-1, or -k for k runs) queued in queue q of the env.
local function bumpQueued(E, q, delta)
  E.queued = E.queued + delta
  setOrDrop(E.meta, "queued", E.queued)
  local m = queueMeta(E.base, q)
  setQueueField(m, "queued", m.queued + delta)
end
