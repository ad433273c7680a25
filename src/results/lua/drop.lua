-- Drops a parked result and its index entries; dropping it again changes nothing.
-- KEYS: items, order, meta, then the result's index sets. ARGV: id.
local size = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[3], 'bytes', -size)
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
