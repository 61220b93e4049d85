--[[
  setConcurrencyLimit: sets or clears (ARGV[4] = "") the env's limit (ARGV[3] = "") or a queue's
  limit (every concurrency key of the queue gets its own copy of it).

  Invariant: takes effect at the next dequeue. Raising a queue's limit brings back the lanes that
  waited at it (the queue's blocked set, no scan); lowering it takes candidates out lazily, as the
  dequeue checks the lane's limit before it hands out a run. The env's new runnable state is
  returned for the shard index.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead
  ARGV[1] env key base   ARGV[2] now (ms)   ARGV[3] queue ("" = the env)   ARGV[4] limit ("" = none)

  Returns the env state, then OK.
]]
--- @include "codes"
--- @include "keys"
--- @include "bump"
--- @include "envContext"
--- @include "fairShare"
--- @include "gcra"
--- @include "queueMeta"
--- @include "laneStatus"
--- @include "queueStatus"
--- @include "refresh"
--- @include "envState"

local E = envContext()
local q, limit = ARGV[3], ARGV[4]
local target = E.meta
if q ~= "" then
  target = queueKey(E.base, q, "meta")
end
if limit == "" then
  redis.call("HDEL", target, "limit")
else
  redis.call("HSET", target, "limit", limit)
end
if q == "" then
  E.limit = tonumber(limit)
end
if q ~= "" then
  local m = queueMeta(E.base, q)
  for _, l in ipairs(redis.call("SMEMBERS", queueKey(E.base, q, "blocked"))) do
    refreshLane(E, q, l, m)
  end
  refreshQueue(E, q, m)
end
return withState(E, { CODE.OK })
