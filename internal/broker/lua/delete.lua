-- delete: remove tasks by name, waiting, leased or dead, and tombstone their names.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> scheduled push tasks
-- KEYS[3] -> pull index
-- KEYS[4] -> in-flight index
-- KEYS[5] -> tombstones
-- KEYS[6] -> pull tags hash
-- KEYS[7] -> dead tasks hash
-- KEYS[8] -> dead index
-- KEYS[9] -> ready list
-- ARGV[1] -> now (ms)
-- ARGV[2] -> tombstone lifetime (ms)
-- ARGV[3..] -> names
-- Returns one integer per name: 1 deleted, 0 unknown.
local tombUntil = tonumber(ARGV[1]) + tonumber(ARGV[2])
-- Expired tombstones go as the scripts pass: a queue that only deletes (a pull queue)
-- never acks, which trims them too.
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[1]))
local out = {}
for i = 3, #ARGV do
  local name = ARGV[i]
  local found = 0
  if redis.call('HDEL', KEYS[1], name) == 1 then
    redis.call('ZREM', KEYS[2], name)
    redis.call('ZREM', KEYS[3], name)
    redis.call('ZREM', KEYS[4], name)
    redis.call('HDEL', KEYS[6], name)
    redis.call('LREM', KEYS[9], 1, name)
    found = 1
  elseif redis.call('HDEL', KEYS[7], name) == 1 then
    redis.call('ZREM', KEYS[8], name)
    found = 1
  end
  if found == 1 then
    redis.call('ZADD', KEYS[5], tombUntil, name)
  end
  out[#out + 1] = found
end
return out
