--! include op-guard
-- Moves a delivery on. Once a result is in (completed), later news of the same delivery (a late
-- acknowledgement, a retry that was already under way) is kept as history but moves nothing back,
-- and raises no event: the intake platform never hears "delivered" after "completed".
-- KEYS: delivery, history, outbox. ARGV: status, fields JSON, history entry, event ('' for none), at, op.
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 'missing' end
if replayed() then return current end
claim()
local held = current == 'completed' and ARGV[1] ~= 'completed'
if not held then redis.call('HSET', KEYS[1], 'status', ARGV[1]) end
-- A replayed delivery is live again: an earlier discard no longer makes it final.
if ARGV[1] == 'queued' then redis.call('HDEL', KEYS[1], 'discarded', 'discardedAt') end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[5])
for field, value in pairs(cjson.decode(ARGV[2])) do redis.call('HSET', KEYS[1], field, value) end
redis.call('RPUSH', KEYS[2], ARGV[3])
if ARGV[4] ~= '' and not held then redis.call('RPUSH', KEYS[3], ARGV[4]) end
if held then return 'completed' end
return ARGV[1]
