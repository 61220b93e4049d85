--[[ Builders for the env-scoped keys a script discovers while it runs (queues and lanes found in
  sorted sets). They must produce exactly what src/keys.ts produces: `base` is the env key base
  "<prefix>{env:<envId>}:" and q / l are already-encoded names, so ":" never occurs inside them. ]]
local function queueKey(base, q, part)
  return base .. "q:" .. q .. ":" .. part
end

local function laneKey(base, q, l, part)
  return base .. "q:" .. q .. ":l:" .. l .. ":" .. part
end

local function runKey(base, runId)
  return base .. "run:" .. runId
end
