--! include op-guard
-- Starts an attempt unless the delivery has already moved past sending (a job redelivered after a
-- crash, or replayed by mistake): then it answers the current status and changes nothing. Answers
-- the stored case too, so that an attempt costs one round trip before it sends, not two.
-- KEYS: delivery, history, case. ARGV: at, history entry, op.
-- Answers {status, attempts, case JSON or false, sending} (sending: 0, or which resubmission after 补正).
local status, op, attempts, sending = unpack(redis.call('HMGET', KEYS[1], 'status', 'op', 'attempts', 'sending'))
sending = sending or '0'
if not status then return {'missing', '0', false, sending} end
if isReplay(op) then return {status, attempts, redis.call('GET', KEYS[3]), sending} end
if status == 'delivered' or status == 'completed' or status == 'rejected' or status == 'dead' then
  return {status, attempts, false, sending}
end
attempts = tostring((tonumber(attempts) or 0) + 1)
redis.call('HSET', KEYS[1], 'op', OP, 'attempts', attempts, 'status', 'delivering', 'updatedAt', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
return {'delivering', attempts, redis.call('GET', KEYS[3]), sending}
