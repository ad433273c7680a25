-- Parks a result unless the system is at its cap; the cap check, the write and every index change
-- together or not at all. A result already parked under this id (the same script sent again after a
-- reconnect) is not parked twice.
-- KEYS: items, order, meta, then the result's index sets. ARGV: id, json, maxCount, maxBytes, force.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'parked', 0, 0} end
local count = redis.call('HLEN', KEYS[1])
local bytes = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
local size = string.len(ARGV[2])
if ARGV[5] ~= '1' and (count >= tonumber(ARGV[3]) or bytes + size > tonumber(ARGV[4])) then return {'full', count, bytes} end
local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
redis.call('HINCRBY', KEYS[3], 'bytes', size)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], seq, ARGV[1]) end
return {'parked', count + 1, bytes + size}
