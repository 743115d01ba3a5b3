-- lease: lease up to ARGV[2] due push tasks for ARGV[3] ms.
-- Expired leases are due again (their score is the lease expiry), so this script also
-- recovers the tasks of workers that died, and delayed tasks need no promotion step.
-- The batch goes through a handful of variadic commands, whatever its size.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> push index
-- KEYS[3] -> in-flight index (sorted set: name -> lease expiry in ms)
-- KEYS[4] -> wake-up list
-- ARGV[1] -> now (ms)
-- ARGV[2] -> most tasks to lease (at most 2000)
-- ARGV[3] -> lease duration (ms)
-- Returns {next, name1, token1, envelope1, ...}: next is the earliest due time (ms) left in the
-- push index, as a string ("" when empty); token is the task's dispatch count, which identifies
-- this lease.
local now = tonumber(ARGV[1])
local expiry = now + tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {''}
if #due > 0 then
  local vals = redis.call('HMGET', KEYS[1], unpack(due))
  local sets, scores, orphans = {}, {}, {}
  for i, name in ipairs(due) do
    local v = vals[i]
    if v then
      local d, pos = string.match(v, '^(%d+);()')
      local token = tonumber(d) + 1
      local body = string.sub(v, pos)
      sets[#sets + 1] = name
      sets[#sets + 1] = token .. ';' .. body
      scores[#scores + 1] = expiry
      scores[#scores + 1] = name
      out[#out + 1] = name
      out[#out + 1] = token
      out[#out + 1] = body
    else
      orphans[#orphans + 1] = name
    end
  end
  if #sets > 0 then
    redis.call('HSET', KEYS[1], unpack(sets))
    redis.call('ZADD', KEYS[2], unpack(scores))
    redis.call('ZADD', KEYS[3], unpack(scores))
  end
  if #orphans > 0 then
    redis.call('ZREM', KEYS[2], unpack(orphans))
  end
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] then
  out[1] = first[2]
  if tonumber(first[2]) <= now and redis.call('LLEN', KEYS[4]) == 0 then
    redis.call('LPUSH', KEYS[4], 1)
  end
end
return out
