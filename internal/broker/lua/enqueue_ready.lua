-- enqueue_ready: add a batch of push tasks that are due now and whose names were freshly
-- generated (so none can be taken): the common case of Add, with no check to make. The
-- batch goes through two variadic commands, whatever its size.
-- KEYS[1] -> tasks hash (name -> "<dispatches>;<due ms>;<envelope>")
-- KEYS[2] -> ready list
-- KEYS[3] -> wake-up list
-- ARGV[2i-1], ARGV[2i] -> name, stored value ("0;<due ms>;<envelope>"), in due order
-- Returns the number of tasks added (all of them).
local n = #ARGV
local names = {}
for i = 1, n, 2 do
  names[(i + 1) / 2] = ARGV[i]
end
redis.call('HSETNX', KEYS[1], keep, '')
for i = 1, n, 4000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 3999, n)))
end
for i = 1, #names, 4000 do
  redis.call('RPUSH', KEYS[2], unpack(names, i, math.min(i + 3999, #names)))
end
if redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('LPUSH', KEYS[3], 1)
end
return #names
