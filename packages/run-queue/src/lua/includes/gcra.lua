--[[ Generic cell rate algorithm with a burst of `limit`: at most `limit` dequeues in any window of
  `period` ms, spaced period/limit apart once the burst is used. `tat` is the theoretical arrival
  time of the next dequeue (nil when none is recorded). gcraNextAllowed is the earliest time the next
  dequeue may happen (<= now means allowed now); gcraAfterDequeue is the tat after one dequeue. ]]
local function gcraNextAllowed(tat, limit, period)
  if not tat then
    return 0
  end
  return tat - (period - period / limit)
end

local function gcraAfterDequeue(tat, now, limit, period)
  local start = tat
  if not start or start < now then
    start = now
  end
  return start + period / limit
end
