-- retry: put back a task whose delivery failed, with a new envelope and due time,
-- guarded by its lease token.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> scheduled push tasks
-- KEYS[3] -> in-flight index
-- KEYS[4] -> wake-up list
-- KEYS[5] -> ready list
-- ARGV[1] -> now (ms)
-- ARGV[2] -> name
-- ARGV[3] -> token
-- ARGV[4] -> new envelope
-- ARGV[5] -> next due time (ms)
-- Returns 1 when rescheduled, 0 when the lease was stale and nothing changed.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or string.match(v, '^(%d+);') ~= ARGV[3] then
  return 0
end
local due = tonumber(ARGV[5])
local wake = false
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3] .. ';' .. ARGV[5] .. ';' .. ARGV[4])
if redis.call('ZREM', KEYS[3], ARGV[2]) == 0 then
  -- The lease ran out during the attempt and the task was put back in the ready list;
  -- nobody leased it since (the token matches), so this retry decides when it runs.
  redis.call('LREM', KEYS[5], 1, ARGV[2])
end
if due <= tonumber(ARGV[1]) then
  redis.call('RPUSH', KEYS[5], ARGV[2])
  wake = true
else
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  redis.call('ZADD', KEYS[2], due, ARGV[2])
  wake = not first[2] or due < tonumber(first[2])
end
if wake and redis.call('LLEN', KEYS[4]) == 0 then
  redis.call('LPUSH', KEYS[4], 1)
end
return 1
