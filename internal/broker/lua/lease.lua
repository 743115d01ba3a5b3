-- lease: lease up to ARGV[2] due push tasks for ARGV[3] ms.
-- First it moves to the ready list the scheduled tasks that became due and the leased
-- tasks whose lease ran out (their worker died): this script is also the promoter and the
-- recoverer. The batch goes through a handful of variadic commands, whatever its size.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> scheduled push tasks
-- KEYS[3] -> in-flight index (sorted set: name -> lease expiry in ms)
-- KEYS[4] -> wake-up list
-- KEYS[5] -> ready list
-- ARGV[1] -> now (ms)
-- ARGV[2] -> most tasks to lease (at most 2000)
-- ARGV[3] -> lease duration (ms)
-- Returns {next, name1, token1, ";<due>;<envelope>"1, ...}: next is the due time (ms) of the next ready
-- task, else the earliest time something becomes due (a scheduled task, or a lease running
-- out), as a string; "" when nothing will. token is the task's dispatch count, which
-- identifies this lease.
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = now + tonumber(ARGV[3])
for _, key in ipairs({KEYS[2], KEYS[3]}) do
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, 1000)
  if #due > 0 then
    redis.call('RPUSH', KEYS[5], unpack(due))
    redis.call('ZREM', key, unpack(due))
  end
end
local out = {''}
local names = redis.call('LPOP', KEYS[5], limit)
if names and #names > 0 then
  local vals = redis.call('HMGET', KEYS[1], unpack(names))
  -- A name can stand twice in the ready list only if a task was deleted and its name used
  -- again; the in-flight check keeps a running task from being leased a second time.
  local running = redis.call('ZMSCORE', KEYS[3], unpack(names))
  -- The loop is the hot path of every worker: plain finds, indexed stores.
  local sets, scores, seen, n, o = {}, {}, {}, 0, 1
  for i = 1, #names do
    local name, v = names[i], vals[i]
    if v and not running[i] and not seen[name] then
      seen[name] = true
      local p = string.find(v, ';', 1, true)
      local token = tonumber(string.sub(v, 1, p - 1)) + 1
      local rest = string.sub(v, p) -- ";<due>;<envelope>"
      sets[n + 1] = name
      sets[n + 2] = token .. rest
      scores[n + 1] = expiry
      scores[n + 2] = name
      n = n + 2
      out[o + 1] = name
      out[o + 2] = token
      out[o + 3] = rest
      o = o + 3
    end
  end
  if n > 0 then
    redis.call('HSET', KEYS[1], unpack(sets))
    redis.call('ZADD', KEYS[3], 'NX', '+inf', keep)
    redis.call('ZADD', KEYS[3], unpack(scores))
  end
end
local head = redis.call('LINDEX', KEYS[5], 0)
if head then
  local v = redis.call('HGET', KEYS[1], head)
  out[1] = v and string.match(v, '^%d+;(-?%d+);') or tostring(now)
  if redis.call('LLEN', KEYS[4]) == 0 then
    redis.call('LPUSH', KEYS[4], 1)
  end
else
  local next = nil
  for _, key in ipairs({KEYS[2], KEYS[3]}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] and first[1] ~= keep and (next == nil or tonumber(first[2]) < tonumber(next)) then
      next = first[2]
    end
  end
  if next then
    out[1] = next
  end
end
return out
