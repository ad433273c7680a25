-- Sets when a watched case is looked at next, unless something touched it since it was read (its
-- score changed): that change asked for a look of its own, which must not be pushed back.
-- KEYS: the watch sorted set. ARGV: caseId, the score as read, the next score ('' to stop watching).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
