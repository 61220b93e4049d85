--[[
  dequeueIndexed: dequeue-6.lua and the shard update of the env state it leaves (shardUpdate-6.lua)
  as one function, for a single Redis, where one function may use the env's keys and the shard's.
  The index then reflects the dequeue as soon as it is made, with no round trip of its own; on a
  cluster the two sets of keys live in different slots and the two scripts run one after the other.

  KEYS[1..6] env meta, queues, timers, qvt, inflight, dead (as dequeue-6.lua)
  KEYS[7..12] the env's shard: envs, timers, inflight, ver, vt, clock (as shardUpdate-6.lua)
  ARGV[1..5] as dequeue-6.lua   ARGV[6] clock floor (as shardUpdate-6.lua)   ARGV[7] env (encoded)

  Returns what dequeue-6.lua returns.
]]
--- @include "dequeueRuns"
--- @include "envState"
--- @include "shardApply"

local E, out = dequeueRuns()
local reply = withState(E, out)
-- As after a dequeue-6.lua call: a state that changed, or the served count alone.
local served = out[1]
if reply[6] == 1 or served > 0 then
  local state = { ARGV[7], reply[1], served, tostring(reply[2]), reply[3], reply[4], tostring(reply[5]) }
  applyShardStates({ KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12] }, tonumber(ARGV[6]), state, 1)
end
return reply
