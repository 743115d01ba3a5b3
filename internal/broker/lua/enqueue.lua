-- enqueue: add a batch of tasks to one queue.
-- KEYS[1] -> tasks hash (name -> "<dispatches>;<envelope>")
-- KEYS[2] -> push index (sorted set: name -> due time in ms)
-- KEYS[3] -> pull index (sorted set: name -> due time in ms)
-- KEYS[4] -> tombstones (sorted set: name -> tombstone expiry in ms)
-- KEYS[5] -> dead tasks hash
-- KEYS[6] -> wake-up list of the push index
-- KEYS[7] -> pull tags hash (name -> tag)
-- ARGV[1] -> now (ms)
-- ARGV[2+4i..5+4i] -> name, envelope, due (ms), kind ("s" push, "l" pull, "L<tag>" tagged pull)
-- Returns one integer per task: 1 added, 0 the name exists or is tombstoned.
local now = tonumber(ARGV[1])
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local earliest = first[2] and tonumber(first[2]) or nil
local wake = false
local out = {}
for i = 2, #ARGV, 4 do
  local name, due, kind = ARGV[i], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local tomb = redis.call('ZSCORE', KEYS[4], name)
  if redis.call('HEXISTS', KEYS[1], name) == 1 or redis.call('HEXISTS', KEYS[5], name) == 1
      or (tomb and tonumber(tomb) > now) then
    out[#out + 1] = 0
  else
    redis.call('HSET', KEYS[1], name, '0;' .. ARGV[i + 1])
    if kind == 's' then
      redis.call('ZADD', KEYS[2], due, name)
      if earliest == nil or due < earliest or due <= now then
        wake = true
        earliest = due
      end
    else
      redis.call('ZADD', KEYS[3], due, name)
      if #kind > 1 then
        redis.call('HSET', KEYS[7], name, string.sub(kind, 2))
      end
    end
    out[#out + 1] = 1
  end
end
if wake and redis.call('LLEN', KEYS[6]) == 0 then
  redis.call('LPUSH', KEYS[6], 1)
end
return out
