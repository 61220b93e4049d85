--[[ Start-time fair queuing over a sorted set of runnable members scored by virtual time (how many
  dequeues each has been served). A member that leaves keeps its score in `vtKey`; when it joins
  again it starts at max(its own score, clock), where clock is the start score of the last member
  served. So an idle member cannot bank credit and starve the others, and a member that leaves
  because it is blocked (limit, rate) and comes back keeps its place instead of jumping ahead. ]]
local function joinFair(zkey, vtKey, member, clock)
  if redis.call("ZSCORE", zkey, member) then
    return
  end
  local start = tonumber(redis.call("HGET", vtKey, member)) or 0
  if clock > start then
    start = clock
  end
  redis.call("ZADD", zkey, start, member)
end

local function leaveFair(zkey, vtKey, member)
  local score = redis.call("ZSCORE", zkey, member)
  if score then
    redis.call("HSET", vtKey, member, score)
    redis.call("ZREM", zkey, member)
  end
end
