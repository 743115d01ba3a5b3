-- stats: one queue's figures in one call.
-- KEYS[1] -> push index
-- KEYS[2] -> pull index
-- KEYS[3] -> in-flight index
-- KEYS[4] -> dead tasks hash
-- KEYS[5..] -> executed counters of the last minute's 10-second buckets
-- ARGV[1] -> now (ms)
-- Returns {tasks, oldest due time as a string ("" when none), in flight, executed, dead}.
local now = tonumber(ARGV[1])
local oldest = ''
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] and (oldest == '' or tonumber(first[2]) < tonumber(oldest)) then
    oldest = first[2]
  end
end
local executed = 0
for i = 5, #KEYS do
  executed = executed + tonumber(redis.call('GET', KEYS[i]) or '0')
end
return {
  redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]),
  oldest,
  redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf'),
  executed,
  redis.call('HLEN', KEYS[4]),
}
