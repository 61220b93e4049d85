--[[ Return codes shared by all scripts; mirrored by src/codes.ts (tests/codes.test.ts compares them). ]]
local CODE = {
  NOOP = 0,
  OK = 1,
  REQUEUED = 2,
  BLOCKED = 3,
  RUN_NOT_FOUND = -1,
  RUN_NOT_IN_FLIGHT = -2,
  RUN_NOT_RELEASED = -3,
  RUN_IN_FLIGHT = -4,
  RUN_NOT_DEAD_LETTERED = -5,
}
