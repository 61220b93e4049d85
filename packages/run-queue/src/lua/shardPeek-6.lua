--[[
  shardPeek: the dequeue's first step on one shard of the env index. Wakes envs whose earliest
  future work is due (timers → envs, joining at max(own virtual time, the shard's clock)), then
  returns the runnable envs with the lowest virtual time, or the virtual times of the given envs.
  Virtual times are compared across shards, so the shards' clocks must agree: the caller passes
  the highest clock it has seen on any shard and this shard's clock moves up to it.

  Invariant: only envs with runnable work and a free env slot are in `envs` (kept by shardUpdate),
  so this costs O(log n + k), whatever the number of idle or blocked envs.

  KEYS[1..6] shard envs, timers, inflight, ver, vt, clock
  ARGV[1] now (ms)   ARGV[2] k   ARGV[3] clock floor   ARGV[4..] optional env ids (encoded): look
  only at these

  Returns the shard's clock, then env, score pairs.
]]
--- @include "fairShare"

local now, k, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = tonumber(redis.call("GET", KEYS[6])) or 0
if floor > clock then
  clock = floor
  redis.call("SET", KEYS[6], clock)
end
local due = redis.call("ZRANGE", KEYS[2], "-inf", now, "BYSCORE", "LIMIT", 0, 100)
for _, env in ipairs(due) do
  redis.call("ZREM", KEYS[2], env)
  joinFair(KEYS[1], KEYS[5], env, clock)
end
local out = { tostring(clock) }
if #ARGV > 3 then
  for i = 4, #ARGV do
    local score = redis.call("ZSCORE", KEYS[1], ARGV[i])
    if score then
      out[#out + 1] = ARGV[i]
      out[#out + 1] = score
    end
  end
  return out
end
if k > 0 then
  for _, v in ipairs(redis.call("ZRANGE", KEYS[1], 0, k - 1, "WITHSCORES")) do
    out[#out + 1] = v
  end
end
return out
