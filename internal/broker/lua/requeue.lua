-- requeue: move dead tasks back to their queue, due now, with fresh envelopes.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> ready list
-- KEYS[3] -> pull index
-- KEYS[4] -> dead tasks hash
-- KEYS[5] -> dead index
-- KEYS[6] -> wake-up list
-- KEYS[7] -> pull tags hash
-- ARGV[1] -> now (ms)
-- ARGV[2+3i..4+3i] -> name, fresh envelope, kind ("s", "l", "L<tag>")
-- Returns one integer per task: 1 requeued, 0 not dead.
local now = tonumber(ARGV[1])
local out = {}
local wake = false
for i = 2, #ARGV, 3 do
  local name, kind = ARGV[i], ARGV[i + 2]
  if redis.call('HDEL', KEYS[4], name) == 1 then
    redis.call('ZREM', KEYS[5], name)
    redis.call('HSETNX', KEYS[1], keep, '')
    redis.call('HSET', KEYS[1], name, '0;' .. ARGV[1] .. ';' .. ARGV[i + 1])
    if kind == 's' then
      redis.call('RPUSH', KEYS[2], name)
      wake = true
    else
      redis.call('ZADD', KEYS[3], now, name)
      if #kind > 1 then
        redis.call('HSET', KEYS[7], name, string.sub(kind, 2))
      end
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if wake and redis.call('LLEN', KEYS[6]) == 0 then
  redis.call('LPUSH', KEYS[6], 1)
end
return out
