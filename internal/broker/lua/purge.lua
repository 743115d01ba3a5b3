-- purge: remove every task of a queue, waiting, leased and dead. Tombstones stay.
-- KEYS[1..] -> tasks hash, push index, pull index, in-flight index, pull tags, dead hash, dead index
-- Returns the number of keys removed.
return redis.call('UNLINK', unpack(KEYS))
