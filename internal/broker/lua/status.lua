-- status: everything stored about one task, wherever it is.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> in-flight index
-- KEYS[3] -> dead tasks hash
-- KEYS[4] -> dead index
-- KEYS[5..] -> records hashes of succeeded tasks, newest bucket first
-- ARGV[1] -> name
-- ARGV[2] -> now (ms)
-- Returns {where, a, b}: {"task", "<dispatches>;<due>;<envelope>", lease expiry or ""},
-- {"done", record, ""}, {"dead", envelope, died (ms)}, or {"", "", ""} when unknown.
local name = ARGV[1]
local v = redis.call('HGET', KEYS[1], name)
if v then
  local exp = redis.call('ZSCORE', KEYS[2], name)
  if exp and tonumber(exp) <= tonumber(ARGV[2]) then
    exp = nil
  end
  return {'task', v, exp or ''}
end
local d = redis.call('HGET', KEYS[3], name)
if d then
  return {'dead', d, redis.call('ZSCORE', KEYS[4], name) or ''}
end
for i = 5, #KEYS do
  local r = redis.call('HGET', KEYS[i], name)
  if r then
    return {'done', r, ''}
  end
end
return {'', '', ''}
