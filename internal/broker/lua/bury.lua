-- bury: move a task to the dead set with its final envelope (which carries the reason),
-- add its callback task, and announce it to waiters.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> ready list
-- KEYS[3] -> pull index
-- KEYS[4] -> in-flight index
-- KEYS[5] -> dead tasks hash
-- KEYS[6] -> dead index (sorted set: name -> time of death in ms)
-- KEYS[7] -> pull tags hash
-- KEYS[8] -> wake-up list
-- KEYS[9] -> scheduled push tasks
-- ARGV[1] -> now (ms)
-- ARGV[2] -> name
-- ARGV[3] -> token ("" to skip the lease check)
-- ARGV[4] -> final envelope
-- ARGV[5] -> Pub/Sub channel announcing finished tasks
-- ARGV[6] -> callback task name ("" for none)
-- ARGV[7] -> callback envelope
-- Returns 1 when buried, 0 when the task is gone or the lease was stale.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or (ARGV[3] ~= '' and string.match(v, '^(%d+);') ~= ARGV[3]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[9], ARGV[2])
if ARGV[3] == '' then
  -- Not leased by the caller: the task may be waiting in the ready list.
  redis.call('LREM', KEYS[2], 1, ARGV[2])
end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[7], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[6], tonumber(ARGV[1]), ARGV[2])
if ARGV[6] ~= '' and redis.call('HSETNX', KEYS[1], ARGV[6], '0;' .. ARGV[1] .. ';' .. ARGV[7]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[6])
  if redis.call('LLEN', KEYS[8]) == 0 then
    redis.call('LPUSH', KEYS[8], 1)
  end
end
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
