-- ack: remove tasks whose delivery succeeded, guarded by their lease tokens.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> push index
-- KEYS[3] -> in-flight index
-- KEYS[4] -> tombstones
-- KEYS[5] -> executed counter of the current 10-second bucket
-- ARGV[1] -> now (ms)
-- ARGV[2] -> tombstone lifetime (ms)
-- ARGV[3+3i..5+3i] -> name, token, "1" to leave a tombstone (named tasks) or "0"
-- Returns one integer per task: 1 acked, 0 the lease was stale (the task was re-leased,
-- deleted or already acked) and nothing changed.
local now = tonumber(ARGV[1])
local tombUntil = now + tonumber(ARGV[2])
local out = {}
local done = 0
for i = 3, #ARGV, 3 do
  local name = ARGV[i]
  local v = redis.call('HGET', KEYS[1], name)
  if v and string.match(v, '^(%d+);') == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], name)
    redis.call('ZREM', KEYS[2], name)
    redis.call('ZREM', KEYS[3], name)
    if ARGV[i + 2] == '1' then
      redis.call('ZADD', KEYS[4], tombUntil, name)
    end
    done = done + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if done > 0 then
  redis.call('INCRBY', KEYS[5], done)
  redis.call('PEXPIRE', KEYS[5], 70000)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
end
return out
