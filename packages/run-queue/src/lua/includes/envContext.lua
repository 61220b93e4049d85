--[[ The context every env-level script starts from. KEYS[1..6] are the env keys in the order of
  RunQueueKeys.envKeyList(); ARGV[1] is the env key base, ARGV[2] the caller's clock in ms.
  `nowText` is ARGV[2] as sent, for the commands that take the time: Redis turns a Lua number
  argument into text with snprintf("%.17g"), which costs more than a simple command (the same goes
  for any timestamp a script only passes on). `clock` is the env's virtual clock: the start score
  of the last queue it served, the floor a queue gets when it (re)joins the runnable set. The env's meta hash is read once, here; what the
  script changes in it is written once, by envState (includes/bump.lua). ]]
local function envContext()
  local E = {
    meta = KEYS[1], queues = KEYS[2], timers = KEYS[3], qvt = KEYS[4], inflight = KEYS[5], dead = KEYS[6],
    base = ARGV[1], now = tonumber(ARGV[2]), nowText = ARGV[2],
  }
  local r = redis.call("HMGET", E.meta, "vclock", "limit", "sig", "queued", "ver")
  E.clock = tonumber(r[1]) or 0
  E.savedClock = E.clock
  E.limit = tonumber(r[2])
  E.sig = r[3]
  E.queued = tonumber(r[4]) or 0
  E.savedQueued = E.queued
  E.ver = tonumber(r[5]) or 0
  return E
end
