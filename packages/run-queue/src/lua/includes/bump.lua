--[[ The fields scripts change in the env's and the queues' meta hashes (the `queued` counters,
  `vclock`, `tat`, `sig`, `ver`) are read once per script (envContext, queueMeta), kept in Lua, and
  written once at its end: one HSET (and one HDEL for the fields that go away) per hash, instead of
  one command per change. A counter that reaches 0 and a clock reset to 0 are deleted, so an idle env
  or queue leaves no field behind (the no-leak tests check that every key is gone). Readers in the
  same script use the Lua values (E.queued, m.queued); every writing script ends with envState,
  which flushes. ]]
--- @include "callState"

-- value false: delete the field.
local function setLater(key, field, value)
  local pending = PENDING[key]
  if not pending then
    pending = {}
    PENDING[key] = pending
    PENDING_KEYS[#PENDING_KEYS + 1] = key
  end
  pending[field] = value
end

local function flushWrites()
  for _, key in ipairs(PENDING_KEYS) do
    local set, del = {}, {}
    for field, value in pairs(PENDING[key]) do
      if value == false then
        del[#del + 1] = field
      else
        set[#set + 1] = field
        set[#set + 1] = value
      end
    end
    if #set > 0 then
      redis.call("HSET", key, unpack(set))
    end
    if #del > 0 then
      redis.call("HDEL", key, unpack(del))
    end
  end
  PENDING, PENDING_KEYS = {}, {}
end

-- A counter or clock whose absence means 0.
local function setOrDrop(key, field, value)
  if value == 0 then
    setLater(key, field, false)
  else
    setLater(key, field, value)
  end
end
