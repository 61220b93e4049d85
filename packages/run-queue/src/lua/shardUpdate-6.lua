--[[
  shardUpdate: applies env states (returned by env-level scripts) to one shard of the env index.
  In a cluster the env's keys and the shard's keys live in different slots, so this cannot be part
  of the env script; it runs right after it.

  Invariant: the index reflects the newest state of each env even when updates from concurrent
  callers arrive out of order: a state is applied only if its version is above the last applied
  one. Served counts are added whatever the version (they are increments, not states). An env that
  became runnable joins at max(its own virtual time, the shard's clock); one that did not leaves,
  keeps its virtual time, and waits in `timers` if it has future work. The `inflight` zset holds a
  lower bound of each env's earliest visibility deadline, for reclaim. An idle env is forgotten.
  The clock is the highest virtual time reached by an env served in a batch (its score after the
  batch): an env joining after a batch starts level with the envs just served, not ahead of them.

  KEYS[1..6] shard envs, timers, inflight, ver, vt, clock
  ARGV[1] clock floor (the highest clock the caller has seen on any shard)
  ARGV[2..] groups of 7: env (encoded), ver, served, runnable (0/1), nextAt, inflightMin, idle (0/1)

  Returns the number of states applied.
]]
--- @include "shardApply"

return applyShardStates(KEYS, tonumber(ARGV[1]), ARGV, 2)
