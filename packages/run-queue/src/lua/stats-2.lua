--[[
  stats: queued runs, runs in flight and the concurrency limit of an env, a queue or one
  concurrency key of a queue; every figure is one O(1) read, and all are read atomically.

  KEYS[1] env meta   KEYS[2] env inflight
  ARGV[1] env key base   ARGV[2] scope: "env", "queue" or "lane"   ARGV[3] queue   ARGV[4] lane

  Returns queued, inFlight, limit (-1 = no limit). A lane's limit is its queue's limit.
]]
--- @include "keys"

local base, scope, q, l = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if scope == "env" then
  local r = redis.call("HMGET", KEYS[1], "queued", "limit")
  return { tonumber(r[1]) or 0, redis.call("ZCARD", KEYS[2]), tonumber(r[2]) or -1 }
end
local r = redis.call("HMGET", queueKey(base, q, "meta"), "queued", "limit")
local limit = tonumber(r[2]) or -1
if scope == "queue" then
  return { tonumber(r[1]) or 0, redis.call("SCARD", queueKey(base, q, "inflight")), limit }
end
local queued = redis.call("ZCARD", laneKey(base, q, l, "ready")) + redis.call("ZCARD", laneKey(base, q, l, "delayed"))
return { queued, redis.call("SCARD", laneKey(base, q, l, "inflight")), limit }
