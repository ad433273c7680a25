-- Removes the head of the outbox only if it is still the event that was just sent.
-- KEYS: the case's outbox. ARGV: the event as sent.
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then return redis.call('LPOP', KEYS[1]) end
return false
