-- modify_lease: change the lease of a leased pull task. The caller proves ownership with
-- the lease expiry it was given (the task's ETA); a stale or expired lease changes nothing,
-- and so does a task that was never leased (its ETA is no lease).
-- KEYS[1] -> pull index
-- KEYS[2] -> tasks hash
-- ARGV[1] -> now (ms)
-- ARGV[2] -> name
-- ARGV[3] -> lease expiry the caller holds (ms)
-- ARGV[4] -> new lease duration from now (ms); 0 makes the task leasable at once
-- Returns the new expiry (ms), -1 for an unknown task, -2 for a stale or expired lease.
local now = tonumber(ARGV[1])
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score then
  return -1
end
score = tonumber(score)
if score ~= tonumber(ARGV[3]) or score <= now
    or string.match(redis.call('HGET', KEYS[2], ARGV[2]) or '', '^(%d+);') == '0' then
  return -2
end
local expiry = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], expiry, ARGV[2])
return expiry
