-- enqueue: add a batch of tasks to one queue.
-- KEYS[1] -> tasks hash (name -> "<dispatches>;<envelope>")
-- KEYS[2] -> push index (sorted set: name -> due time in ms)
-- KEYS[3] -> pull index (sorted set: name -> due time in ms)
-- KEYS[4] -> tombstones (sorted set: name -> tombstone expiry in ms)
-- KEYS[5] -> dead tasks hash
-- KEYS[6] -> wake-up list of the push index
-- KEYS[7] -> pull tags hash (name -> tag)
-- KEYS[8] -> idempotency keys hash (key -> task name)
-- KEYS[9] -> idempotency keys index (sorted set: key -> end of its lifetime in ms)
-- ARGV[1] -> now (ms)
-- ARGV[2+6i..7+6i] -> name, envelope, due (ms), kind ("s" push, "l" pull, "L<tag>" tagged
--   pull), idempotency key ("" for none), end of the key's lifetime (ms)
-- Returns one value per task: 1 added; 0 the name exists or is tombstoned; or, when the
-- idempotency key is taken, the name of the task it maps to.
local now = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[9]) == 1 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', now, 'LIMIT', 0, 100)
  if #old > 0 then
    redis.call('HDEL', KEYS[8], unpack(old))
    redis.call('ZREM', KEYS[9], unpack(old))
  end
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local earliest = first[2] and tonumber(first[2]) or nil
local wake = false
local out = {}
for i = 2, #ARGV, 6 do
  local name, due, kind, key = ARGV[i], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  local existing = false
  if key ~= '' then
    local keyUntil = redis.call('ZSCORE', KEYS[9], key)
    if keyUntil and tonumber(keyUntil) > now then
      existing = redis.call('HGET', KEYS[8], key)
    end
  end
  local tomb = redis.call('ZSCORE', KEYS[4], name)
  if existing then
    out[#out + 1] = existing
  elseif redis.call('HEXISTS', KEYS[1], name) == 1 or redis.call('HEXISTS', KEYS[5], name) == 1
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
    if key ~= '' then
      redis.call('HSET', KEYS[8], key, name)
      redis.call('ZADD', KEYS[9], tonumber(ARGV[i + 5]), key)
    end
    out[#out + 1] = 1
  end
end
if wake and redis.call('LLEN', KEYS[6]) == 0 then
  redis.call('LPUSH', KEYS[6], 1)
end
return out
