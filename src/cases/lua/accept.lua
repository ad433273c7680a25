-- Creates the case and its deliveries at once, or returns the case already stored under this id.
-- KEYS: the case, then n delivery hashes, then n history lists. ARGV: case JSON, acceptedAt, history entry.
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1])
local n = (#KEYS - 1) / 2
for i = 1, n do
  redis.call('HSET', KEYS[1 + i], 'status', 'queued', 'attempts', '0', 'updatedAt', ARGV[2])
  redis.call('RPUSH', KEYS[1 + n + i], ARGV[3])
end
return false
