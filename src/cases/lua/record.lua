--! include op-guard
-- Moves a delivery on. Once a result is in (completed), later news of the same delivery (a late
-- acknowledgement, a retry that was already under way) is kept as history but moves nothing back,
-- and raises no event: the intake platform never hears "delivered" after "completed".
-- KEYS: delivery, history, outbox. ARGV: status, fields JSON, event ('' for none), at, the history
-- entries (one or more), op.
-- Answers {the status afterwards, the receipt number the delivery held before (or '')}.
local current, op, heldReceipt = unpack(redis.call('HMGET', KEYS[1], 'status', 'op', 'receiptNo'))
heldReceipt = heldReceipt or ''
if not current then return {'missing', ''} end
if isReplay(op) then return {current, ''} end
local held = current == 'completed' and ARGV[1] ~= 'completed'
-- One HSET for the whole change: the guard's op, the status unless held, the time, the fields.
local change = {'op', OP, 'updatedAt', ARGV[4]}
if not held then change[#change + 1] = 'status'; change[#change + 1] = ARGV[1] end
for field, value in pairs(cjson.decode(ARGV[2])) do change[#change + 1] = field; change[#change + 1] = value end
redis.call('HSET', KEYS[1], unpack(change))
-- A replayed delivery is live again: an earlier discard no longer makes it final.
if ARGV[1] == 'queued' then redis.call('HDEL', KEYS[1], 'discarded', 'discardedAt') end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 5, #ARGV - 1))
if ARGV[3] ~= '' and not held then redis.call('RPUSH', KEYS[3], ARGV[3]) end
if held then return {'completed', heldReceipt} end
return {ARGV[1], heldReceipt}
