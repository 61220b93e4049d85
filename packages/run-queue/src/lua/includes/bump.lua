--[[ Counters (`queued` of the env and of each queue) change once per script, not once per run: bump
  adds delta to a pending table, flushBumps(key) applies a key's pending deltas (one HINCRBY per
  field) and deletes a field that reaches 0, so an idle env or queue leaves no counter behind (the
  no-leak tests check that every key is gone). Whoever reads a counter flushes it first
  (refreshQueue, envState); envState flushes everything, and every writing script ends with it. ]]
local BUMPS = {}
local BUMP_KEYS = {}

local function bump(key, field, delta)
  local pending = BUMPS[key]
  if not pending then
    pending = {}
    BUMPS[key] = pending
    BUMP_KEYS[#BUMP_KEYS + 1] = key
  end
  pending[field] = (pending[field] or 0) + delta
end

local function flushBumps(key)
  local pending = BUMPS[key]
  if not pending then
    return
  end
  BUMPS[key] = nil
  for field, delta in pairs(pending) do
    if delta ~= 0 and redis.call("HINCRBY", key, field, delta) == 0 then
      redis.call("HDEL", key, field)
    end
  end
end

local function flushAllBumps()
  for _, key in ipairs(BUMP_KEYS) do
    flushBumps(key)
  end
  BUMP_KEYS = {}
end
