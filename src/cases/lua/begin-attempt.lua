--! include op-guard
-- Starts an attempt unless the delivery has already moved past sending (a job redelivered after a
-- crash, or replayed by mistake): then it answers the current status and changes nothing. Answers
-- the stored case too, so that an attempt costs one round trip before it sends, not two.
-- KEYS: delivery, history, case. ARGV: at, history entry, op.
-- Answers {status, attempts, case JSON or false}.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', '0', false} end
if replayed() then return {status, redis.call('HGET', KEYS[1], 'attempts'), redis.call('GET', KEYS[3])} end
if status == 'delivered' or status == 'completed' or status == 'rejected' or status == 'dead' then
  return {status, redis.call('HGET', KEYS[1], 'attempts'), false}
end
claim()
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'delivering', 'updatedAt', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
return {'delivering', tostring(attempts), redis.call('GET', KEYS[3])}
