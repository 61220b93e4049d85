--[[ Applies env states to one shard of the env index: the work of shardUpdate-6.lua, which calls
  it with its own keys and arguments, and of dequeueIndexed-12.lua, which applies the state of the
  dequeue it just made. K: the shard's keys (envs, timers, inflight, ver, vt, clock). floor: the
  clock floor. A[first..]: groups of 7, as ARGV[2..] of shardUpdate-6.lua. Returns the number of
  states applied. ]]
--- @include "fairShare"

local function applyShardStates(K, floor, A, first)
  local clock = tonumber(redis.call("GET", K[6])) or 0
  local newClock = math.max(clock, floor)
  local applied = 0
  for i = first, #A, 7 do
    local env, ver, served = A[i], tonumber(A[i + 1]), tonumber(A[i + 2])
    local runnable, nextAt, inflightMin, idle = A[i + 3] == "1", tonumber(A[i + 4]), tonumber(A[i + 5]), A[i + 6] == "1"
    -- ZADD XX INCR: the new score of an env in `envs`, nil (false) for one that is not.
    local present = false
    if served > 0 then
      local finish = redis.call("ZADD", K[1], "XX", "INCR", served, env)
      if finish then
        present = true
        finish = tonumber(finish)
        if finish > newClock then
          newClock = finish
        end
      else
        redis.call("HINCRBYFLOAT", K[5], env, served)
      end
    end
    -- ver 0: the state did not change and was not versioned (includes/envState.lua); only the
    -- served count above applies.
    if ver > 0 and ver > (tonumber(redis.call("HGET", K[4], env)) or 0) then
      applied = applied + 1
      if runnable then
        if not present then
          joinFair(K[1], K[5], env, newClock)
        end
        redis.call("ZREM", K[2], env)
      else
        leaveFair(K[1], K[5], env)
        if nextAt > 0 then
          redis.call("ZADD", K[2], nextAt, env)
        else
          redis.call("ZREM", K[2], env)
        end
      end
      if inflightMin > 0 then
        redis.call("ZADD", K[3], inflightMin, env)
      else
        redis.call("ZREM", K[3], env)
      end
      if idle and not runnable and nextAt == 0 then
        redis.call("HDEL", K[4], env)
        redis.call("HDEL", K[5], env)
      else
        redis.call("HSET", K[4], env, ver)
      end
    end
  end
  if newClock > clock then
    redis.call("SET", K[6], newClock)
  end
  return applied
end
