--[[
  deadLetters: one page of an env's dead-lettered runs, oldest first, with what is needed to judge
  and redrive them. Read-only.

  KEYS[1] env dead-letter set
  ARGV[1] env key base   ARGV[2] offset   ARGV[3] count

  Returns groups of 8: runId, deadLetteredAt, orgId, queue, lane, priority, availableAt, attempt.
]]
--- @include "keys"

local base = ARGV[1]
local page = redis.call("ZRANGE", KEYS[1], ARGV[2], tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1, "WITHSCORES")
local out = {}
for i = 1, #page, 2 do
  local runId = page[i]
  local r = redis.call("HMGET", runKey(base, runId), "o", "q", "l", "p", "a", "n")
  out[#out + 1] = runId
  out[#out + 1] = page[i + 1]
  for j = 1, 6 do
    out[#out + 1] = r[j] or ""
  end
end
return out
