-- extend: move the lease expiry of running push tasks, guarded by their lease tokens.
-- A lease duration of 0 releases the tasks: they go back to the front of the ready list.
-- Only a lease still in the in-flight index counts: a retry ends the lease, so an extension
-- racing with it does not move the retried task.
-- KEYS[1] -> tasks hash
-- KEYS[2] -> ready list
-- KEYS[3] -> in-flight index
-- KEYS[4] -> wake-up list
-- ARGV[1] -> now (ms)
-- ARGV[2] -> lease duration (ms); 0 releases
-- ARGV[3+2i..4+2i] -> name, token
-- Returns one integer per task: 1 changed; 0 the task is gone (it finished or was deleted);
-- 2 another lease holds it; 3 its lease ran out and it waits to be delivered again.
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local out = {}
local released = false
for i = 3, #ARGV, 2 do
  local name = ARGV[i]
  local v = redis.call('HGET', KEYS[1], name)
  if v and string.match(v, '^(%d+);') == ARGV[i + 1] and redis.call('ZSCORE', KEYS[3], name) then
    if lease > 0 then
      redis.call('ZADD', KEYS[3], now + lease, name)
    else
      redis.call('ZREM', KEYS[3], name)
      redis.call('LPUSH', KEYS[2], name)
      released = true
    end
    out[#out + 1] = 1
  elseif v and string.match(v, '^(%d+);') ~= ARGV[i + 1] then
    out[#out + 1] = 2
  elseif v then
    out[#out + 1] = 3
  else
    out[#out + 1] = 0
  end
end
if released and redis.call('LLEN', KEYS[4]) == 0 then
  redis.call('LPUSH', KEYS[4], 1)
end
return out
