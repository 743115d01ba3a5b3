-- bury: move a task to the dead set with its final envelope (which carries the reason).
-- KEYS[1] -> tasks hash
-- KEYS[2] -> push index
-- KEYS[3] -> pull index
-- KEYS[4] -> in-flight index
-- KEYS[5] -> dead tasks hash
-- KEYS[6] -> dead index (sorted set: name -> time of death in ms)
-- KEYS[7] -> pull tags hash
-- ARGV[1] -> now (ms)
-- ARGV[2] -> name
-- ARGV[3] -> token ("" to skip the lease check)
-- ARGV[4] -> final envelope
-- Returns 1 when buried, 0 when the task is gone or the lease was stale.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or (ARGV[3] ~= '' and string.match(v, '^(%d+);') ~= ARGV[3]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[7], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[6], tonumber(ARGV[1]), ARGV[2])
return 1
