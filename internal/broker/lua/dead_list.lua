-- dead_list: a page of dead tasks, most recent first.
-- KEYS[1] -> dead tasks hash
-- KEYS[2] -> dead index
-- ARGV[1] -> offset
-- ARGV[2] -> count
-- Returns {name1, died1 (ms, string), envelope1, ...}.
local page = redis.call('ZREVRANGE', KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #page, 2 do
  out[#out + 1] = page[i]
  out[#out + 1] = page[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[1], page[i]) or ''
end
return out
