--[[ Ends a delivery that did not complete (nack, or reclaim after the visibility deadline): frees
  the slot, counts the attempt, and either queues the run again at retryAt (its priority still
  applies) or, past maxAttempts, moves it to the env's dead-letter set. Returns q, l, deadLettered. ]]
local function requeueRun(E, runId, retryAt, maxAttempts)
  local rk = runKey(E.base, runId)
  local r = redis.call("HMGET", rk, "q", "l", "p", "n")
  local q, l = r[1], r[2]
  local attempt = tonumber(r[4]) + 1
  freeSlot(E, q, l, runId)
  redis.call("HDEL", rk, "c", "d")
  if attempt > maxAttempts then
    redis.call("HSET", rk, "st", "d", "n", attempt)
    redis.call("ZADD", E.dead, E.now, runId)
    return q, l, true
  end
  local score = retryAt - tonumber(r[3]) * 1000
  redis.call("HSET", rk, "st", "q", "n", attempt, "a", retryAt, "s", score)
  placeRun(E, q, l, runId, score, retryAt)
  return q, l, false
end
