-- Counts one look-up against a source's fixed window, shared by every gateway process.
-- KEYS: the source's window counter. ARGV: the window's length (ms).
-- Answers the number of look-ups in the window so far, this one included (the first starts it).
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
