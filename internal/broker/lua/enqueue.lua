-- enqueue: add a batch of tasks to one queue. The batch goes through a handful of
-- variadic commands, whatever its size.
-- KEYS[1] -> tasks hash (name -> "<dispatches>;<due ms>;<envelope>")
-- KEYS[2] -> scheduled push tasks (sorted set: name -> due time in ms)
-- KEYS[3] -> pull index (sorted set: name -> due time in ms)
-- KEYS[4] -> tombstones (sorted set: name -> tombstone expiry in ms)
-- KEYS[5] -> dead tasks hash
-- KEYS[6] -> wake-up list
-- KEYS[7] -> pull tags hash (name -> tag)
-- KEYS[8] -> idempotency keys hash (key -> task name)
-- KEYS[9] -> idempotency keys index (sorted set: key -> end of its lifetime in ms)
-- KEYS[10] -> ready list (push tasks that are due)
-- ARGV[1] -> now (ms)
-- ARGV[2] -> "1" when a task of the batch has a name chosen by the caller or an idempotency
--   key; "0" when all names are freshly generated, so no check is needed
-- ARGV[3+6i..8+6i] -> name, envelope, due (ms), kind ("s" push, "l" pull, "L<tag>" tagged
--   pull), idempotency key ("" for none), end of the key's lifetime (ms)
-- Returns one value per task: 1 added; 0 the name exists or is tombstoned; or, when the
-- idempotency key is taken, the name of the task it maps to.

-- call runs a variadic command over list in chunks that unpack can take.
local function call(cmd, key, list)
  for i = 1, #list, 4000 do
    redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list)))
  end
end
local function fetch(cmd, key, list)
  local out = {}
  for i = 1, #list, 4000 do
    local part = redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list)))
    for _, v in ipairs(part) do
      out[#out + 1] = v
    end
  end
  return out
end

local now = tonumber(ARGV[1])
local check = ARGV[2] == '1'
local names, keys = {}, {}
for i = 3, #ARGV, 6 do
  names[#names + 1] = ARGV[i]
  if ARGV[i + 4] ~= '' then
    keys[#keys + 1] = ARGV[i + 4]
  end
end
local live, dead, tombs = {}, {}, {}
if check then
  live = fetch('HMGET', KEYS[1], names)
  dead = fetch('HMGET', KEYS[5], names)
  tombs = fetch('ZMSCORE', KEYS[4], names)
end
local keyed = {}
if #keys > 0 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', now, 'LIMIT', 0, 100)
  if #old > 0 then
    redis.call('HDEL', KEYS[8], unpack(old))
    redis.call('ZREM', KEYS[9], unpack(old))
  end
  local owners = fetch('HMGET', KEYS[8], keys)
  local untils = fetch('ZMSCORE', KEYS[9], keys)
  for j, k in ipairs(keys) do
    if owners[j] and untils[j] and tonumber(untils[j]) > now then
      keyed[k] = owners[j]
    end
  end
end

local earliest = false -- read on the first scheduled task
local wake = false
local taken = {}
local sets, later, pull, tags, keySets, keyIdx = {}, {}, {}, {}, {}, {}
local readyNames, readyDues, inOrder = {}, {}, true
local out = {}
for j, name in ipairs(names) do
  local i = 3 + (j - 1) * 6
  local due, kind, key = tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  if key ~= '' and keyed[key] then
    out[j] = keyed[key]
  elseif live[j] or dead[j] or taken[name] or (tombs[j] and tonumber(tombs[j]) > now) then
    out[j] = 0
  else
    taken[name] = true
    sets[#sets + 1] = name
    sets[#sets + 1] = '0;' .. ARGV[i + 2] .. ';' .. ARGV[i + 1]
    if kind == 's' then
      if due <= now then
        local n = #readyNames + 1
        if n > 1 and due < readyDues[n - 1] then
          inOrder = false
        end
        readyNames[n] = name
        readyDues[n] = due
        wake = true
      else
        later[#later + 1] = due
        later[#later + 1] = name
        if earliest == false then
          local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
          earliest = first[2] and tonumber(first[2]) or nil
        end
        if earliest == nil or due < earliest then
          wake = true
          earliest = due
        end
      end
    else
      pull[#pull + 1] = due
      pull[#pull + 1] = name
      if #kind > 1 then
        tags[#tags + 1] = name
        tags[#tags + 1] = string.sub(kind, 2)
      end
    end
    if key ~= '' then
      keyed[key] = name
      keySets[#keySets + 1] = key
      keySets[#keySets + 1] = name
      keyIdx[#keyIdx + 1] = tonumber(ARGV[i + 5])
      keyIdx[#keyIdx + 1] = key
    end
    out[j] = 1
  end
end
-- Due tasks join the ready list in due order (then in request order).
if not inOrder then
  local order = {}
  for k = 1, #readyNames do
    order[k] = k
  end
  table.sort(order, function(a, b)
    return readyDues[a] < readyDues[b] or (readyDues[a] == readyDues[b] and a < b)
  end)
  local sorted = {}
  for k, idx in ipairs(order) do
    sorted[k] = readyNames[idx]
  end
  readyNames = sorted
end
if #sets > 0 then
  redis.call('HSETNX', KEYS[1], keep, '')
end
call('HSET', KEYS[1], sets)
call('RPUSH', KEYS[10], readyNames)
call('ZADD', KEYS[2], later)
call('ZADD', KEYS[3], pull)
call('HSET', KEYS[7], tags)
call('HSET', KEYS[8], keySets)
call('ZADD', KEYS[9], keyIdx)
if wake and redis.call('LLEN', KEYS[6]) == 0 then
  redis.call('LPUSH', KEYS[6], 1)
end
return out
