--[[
  shardUpdate: applies env states (returned by env-level scripts) to one shard of the env index.
  In a cluster the env's keys and the shard's keys live in different slots, so this cannot be part
  of the env script; it runs right after it.

  Invariant: the index reflects the newest state of each env even when updates from concurrent
  callers arrive out of order: a state is applied only if its version is above the last applied
  one. Served counts are added whatever the version (they are increments, not states). An env that
  became runnable joins at max(its own virtual time, the shard's clock); one that did not leaves,
  keeps its virtual time, and waits in `timers` if it has future work. The `inflight` zset holds a
  lower bound of each env's earliest visibility deadline, for reclaim. An idle env is forgotten.
  The clock is the highest virtual time reached by an env served in a batch (its score after the
  batch): an env joining after a batch starts level with the envs just served, not ahead of them.

  KEYS[1..6] shard envs, timers, inflight, ver, vt, clock
  ARGV[1] clock floor (the highest clock the caller has seen on any shard)
  ARGV[2..] groups of 7: env (encoded), ver, served, runnable (0/1), nextAt, inflightMin, idle (0/1)

  Returns the number of states applied.
]]
--- @include "fairShare"

local clock = tonumber(redis.call("GET", KEYS[6])) or 0
local newClock = math.max(clock, tonumber(ARGV[1]))
local applied = 0
for i = 2, #ARGV, 7 do
  local env, ver, served = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local runnable, nextAt, inflightMin, idle = ARGV[i + 3] == "1", tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), ARGV[i + 6] == "1"
  -- ZADD XX INCR: the new score of an env in `envs`, nil (false) for one that is not.
  local present = false
  if served > 0 then
    local finish = redis.call("ZADD", KEYS[1], "XX", "INCR", served, env)
    if finish then
      present = true
      finish = tonumber(finish)
      if finish > newClock then
        newClock = finish
      end
    else
      redis.call("HINCRBYFLOAT", KEYS[5], env, served)
    end
  end
  -- ver 0: the state did not change and was not versioned (includes/envState.lua); only the
  -- served count above applies.
  if ver > 0 and ver > (tonumber(redis.call("HGET", KEYS[4], env)) or 0) then
    applied = applied + 1
    if runnable then
      if not present then
        joinFair(KEYS[1], KEYS[5], env, newClock)
      end
      redis.call("ZREM", KEYS[2], env)
    else
      leaveFair(KEYS[1], KEYS[5], env)
      if nextAt > 0 then
        redis.call("ZADD", KEYS[2], nextAt, env)
      else
        redis.call("ZREM", KEYS[2], env)
      end
    end
    if inflightMin > 0 then
      redis.call("ZADD", KEYS[3], inflightMin, env)
    else
      redis.call("ZREM", KEYS[3], env)
    end
    if idle and not runnable and nextAt == 0 then
      redis.call("HDEL", KEYS[4], env)
      redis.call("HDEL", KEYS[5], env)
    else
      redis.call("HSET", KEYS[4], env, ver)
    end
  end
end
if newClock > clock then
  redis.call("SET", KEYS[6], newClock)
end
return applied
