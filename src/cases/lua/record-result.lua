--! include op-guard
-- Records a result: the same result again changes nothing; a different one is kept as a new
-- history entry and wins.
-- KEYS: delivery, history, outbox. ARGV: result JSON, history entry, event ('' for none), at, receiptNo ('' if none), op.
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 'missing' end
if replayed() then return 'recorded' end
claim()
if redis.call('HGET', KEYS[1], 'result') == ARGV[1] then return 'duplicate' end
redis.call('HSET', KEYS[1], 'status', 'completed', 'result', ARGV[1], 'updatedAt', ARGV[4])
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[1], 'receiptNo') == 0 then redis.call('HSET', KEYS[1], 'receiptNo', ARGV[5]) end
redis.call('RPUSH', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
return 'recorded'
