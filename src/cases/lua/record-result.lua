--! include op-guard
-- Records a result: the same result again changes nothing; a different one is kept as a new
-- history entry and wins. A result naming another receipt number than the delivery holds is
-- another delivery's (or a mistake): 'mismatch', nothing changed. A result that stops or restarts
-- the case's clock (补正, a special procedure) adds its clock entry in the same step.
-- KEYS: delivery, history, outbox, clock. ARGV: result JSON, history entry, event ('' for none), at,
-- receiptNo ('' if none), clock entry ('' for none), op.
local current, op, result, receiptNo = unpack(redis.call('HMGET', KEYS[1], 'status', 'op', 'result', 'receiptNo'))
if not current then return 'missing' end
if isReplay(op) then return 'recorded' end
if ARGV[5] ~= '' and receiptNo and receiptNo ~= ARGV[5] then return 'mismatch' end
if result == ARGV[1] then
  redis.call('HSET', KEYS[1], 'op', OP)
  return 'duplicate'
end
local change = {'op', OP, 'status', 'completed', 'result', ARGV[1], 'updatedAt', ARGV[4]}
if ARGV[5] ~= '' and not receiptNo then change[#change + 1] = 'receiptNo'; change[#change + 1] = ARGV[5] end
redis.call('HSET', KEYS[1], unpack(change))
redis.call('RPUSH', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
if ARGV[6] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[6]) end
return 'recorded'
