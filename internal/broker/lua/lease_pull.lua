-- lease_pull: lease up to ARGV[2] due pull tasks for ARGV[3] ms. A leased task's due time
-- becomes its lease expiry, so it is invisible until the lease ends.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> pull index
-- KEYS[3] -> pull tags hash
-- ARGV[1] -> now (ms)
-- ARGV[2] -> most tasks to lease
-- ARGV[3] -> lease duration (ms)
-- ARGV[4] -> "0" any task; "1" only tasks tagged ARGV[5]; "2" tasks tagged like the earliest due one
-- ARGV[5] -> tag
-- Returns {name1, token1, envelope1, tag1, ...}; token is the task's lease count.
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = now + tonumber(ARGV[3])
local mode = ARGV[4]
local tag = ARGV[5]
local chosen = {}
if mode == '0' then
  chosen = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
else
  if mode == '2' then
    local first = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
    if not first[1] then
      return {}
    end
    tag = redis.call('HGET', KEYS[3], first[1]) or ''
  end
  local offset = 0
  while #chosen < limit do
    local page = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', offset, 200)
    if #page == 0 then
      break
    end
    for _, name in ipairs(page) do
      if #chosen < limit and (redis.call('HGET', KEYS[3], name) or '') == tag then
        chosen[#chosen + 1] = name
      end
    end
    offset = offset + #page
  end
end
local out = {}
for _, name in ipairs(chosen) do
  local v = redis.call('HGET', KEYS[1], name)
  if v then
    local d, due, pos = string.match(v, '^(%d+);(-?%d+);()')
    local token = tonumber(d) + 1
    local body = string.sub(v, pos)
    redis.call('HSET', KEYS[1], name, token .. ';' .. due .. ';' .. body)
    redis.call('ZADD', KEYS[2], expiry, name)
    out[#out + 1] = name
    out[#out + 1] = token
    out[#out + 1] = body
    out[#out + 1] = redis.call('HGET', KEYS[3], name) or ''
  else
    redis.call('ZREM', KEYS[2], name)
  end
end
return out
