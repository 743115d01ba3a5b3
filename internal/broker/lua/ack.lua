-- ack: remove tasks whose delivery succeeded, guarded by their lease tokens; keep their
-- records, add their callback tasks, and announce them to waiters. The batch goes through
-- a handful of variadic commands, whatever its size.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> ready list
-- KEYS[3] -> in-flight index
-- KEYS[4] -> tombstones
-- KEYS[5] -> executed counter of the current 10-second bucket
-- KEYS[6] -> records hash of the current time bucket (expires as a whole)
-- KEYS[7] -> wake-up list
-- ARGV[1] -> now (ms)
-- ARGV[2] -> tombstone lifetime (ms)
-- ARGV[3] -> how long the records hash is to live (ms)
-- ARGV[4] -> Pub/Sub channel announcing finished tasks
-- ARGV[5] -> n, the number of tasks (at most 1000)
-- ARGV[6+3i..8+3i] -> name, token, record ("" for none) of the n tasks
-- then, for the few tasks that have them, groups of four: the task's index (1-based),
--   "1" to leave a tombstone (named tasks) or "0", callback task name ("" for none),
--   callback envelope
-- Returns one integer per task: 1 acked, 0 the lease was stale (the task was re-leased,
-- deleted or already acked) and nothing changed.
local now = tonumber(ARGV[1])
local tombUntil = now + tonumber(ARGV[2])
local count = tonumber(ARGV[5])
local out = {}
if count == 0 then
  return out
end
local names = {}
for j = 1, count do
  names[j] = ARGV[3 + 3 * j]
end
local extras = {} -- task index -> position of its group in ARGV
for i = 6 + 3 * count, #ARGV, 4 do
  extras[tonumber(ARGV[i])] = i
end
local vals = redis.call('HMGET', KEYS[1], unpack(names))
local acked, tombs, records = {}, {}, {}
local nAcked, nRecords = 0, 0
for j = 1, count do
  local i = 3 + 3 * j
  local name, v = names[j], vals[j]
  if v and string.sub(v, 1, string.find(v, ';', 1, true) - 1) == ARGV[i + 1] then
    nAcked = nAcked + 1
    acked[nAcked] = name
    local rec = ARGV[i + 2]
    if rec ~= '' then
      records[nRecords + 1] = name
      records[nRecords + 2] = rec
      nRecords = nRecords + 2
    end
    local x = extras[j]
    if x and ARGV[x + 1] == '1' then
      tombs[#tombs + 1] = tombUntil
      tombs[#tombs + 1] = name
    end
    out[j] = 1
  else
    out[j] = 0
  end
end
if nAcked == 0 then
  return out
end
redis.call('HDEL', KEYS[1], unpack(acked))
redis.call('ZREM', KEYS[3], unpack(acked))
if #tombs > 0 then
  redis.call('ZADD', KEYS[4], unpack(tombs))
end
if nRecords > 0 then
  redis.call('HSET', KEYS[6], unpack(records))
  redis.call('PEXPIRE', KEYS[6], ARGV[3])
end
-- Callbacks are added after the acked tasks are gone: a callback may reuse no live name.
local wake = false
for j = 1, count do -- in batch order
  local x = extras[j]
  local cb = x and ARGV[x + 2] or ''
  if out[j] == 1 and cb ~= '' and redis.call('HSETNX', KEYS[1], cb, '0;' .. ARGV[1] .. ';' .. ARGV[x + 3]) == 1 then
    redis.call('RPUSH', KEYS[2], cb)
    wake = true
  end
end
redis.call('INCRBY', KEYS[5], nAcked)
redis.call('PEXPIRE', KEYS[5], 70000)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('PUBLISH', ARGV[4], table.concat(acked, ','))
if wake and redis.call('LLEN', KEYS[7]) == 0 then
  redis.call('LPUSH', KEYS[7], 1)
end
return out
