--[[ Adds delta to a counter field and deletes the field when it reaches 0, so that an idle env or
  queue leaves no counter behind (the no-leak tests check that every key is gone). ]]
local function bump(key, field, delta)
  if redis.call("HINCRBY", key, field, delta) == 0 then
    redis.call("HDEL", key, field)
  end
end
