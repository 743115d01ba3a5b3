-- stats: one queue's figures in one call.
-- KEYS[1] -> scheduled push tasks
-- KEYS[2] -> pull index
-- KEYS[3] -> in-flight index
-- KEYS[4] -> dead tasks hash
-- KEYS[5] -> ready list
-- KEYS[6] -> tasks hash
-- KEYS[7..] -> executed counters of the last minute's 10-second buckets
-- ARGV[1] -> now (ms)
-- Returns {tasks, oldest due time as a string ("" when none), in flight, executed, dead}.
local now = tonumber(ARGV[1])
local oldest = ''
local function consider(due)
  if due and (oldest == '' or tonumber(due) < tonumber(oldest)) then
    oldest = due
  end
end
for _, key in ipairs({KEYS[1], KEYS[2], KEYS[3]}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[1] ~= keep then -- the in-flight index's keeper scores +inf
    consider(first[2])
  end
end
local head = redis.call('LINDEX', KEYS[5], 0)
if head then
  local v = redis.call('HGET', KEYS[6], head)
  if v then
    consider(string.match(v, '^%d+;(-?%d+);'))
  end
end
-- The in-flight index's keeper is no task.
local kept = redis.call('ZSCORE', KEYS[3], keep) and 1 or 0
local executed = 0
for i = 7, #KEYS do
  executed = executed + tonumber(redis.call('GET', KEYS[i]) or '0')
end
return {
  redis.call('LLEN', KEYS[5]) + redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3]) - kept,
  oldest,
  redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf') - kept,
  executed,
  redis.call('HLEN', KEYS[4]),
}
