--[[ What one call gathers as it goes: the meta fields to write at its end (PENDING, includes/bump.lua),
  the runs to add per lane set (PLACED, includes/placeRun.lua) and the queue metas read so far (QM,
  includes/queueMeta.lua). The library's top level outlives a call, so every function starts with
  resetCallState() (scriptLoader.ts puts it there): a call that failed half way leaves nothing to
  the next. ]]
local PENDING, PENDING_KEYS, PLACED, PLACED_KEYS, QM = {}, {}, {}, {}, {}

local function resetCallState()
  PENDING, PENDING_KEYS, PLACED, PLACED_KEYS, QM = {}, {}, {}, {}, {}
end
