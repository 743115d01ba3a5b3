-- purge: remove every task of a queue, waiting, leased, dead and finished, and its
-- idempotency keys. Tombstones stay.
-- KEYS[1..] -> tasks hash, scheduled push tasks, pull index, in-flight index, pull tags, dead hash, dead index,
--   idempotency keys hash and index, ready list, records hashes
-- Returns the number of keys removed.
return redis.call('UNLINK', unpack(KEYS))
