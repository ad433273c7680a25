-- Creates the case and its deliveries at once, or returns the case already stored under this id
-- with the status of each delivery named in KEYS, so a resubmission needs no read per target.
-- KEYS: the case, then n delivery hashes, then n history lists. ARGV: case JSON, acceptedAt, history entry.
-- Answers false for a new case, else {stored case JSON, status of delivery 1, …, of delivery n}
-- (false where a delivery hash is missing).
local n = (#KEYS - 1) / 2
-- Stores the case unless one is there, and answers the one that was (SET NX GET, Redis 7).
local existing = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET')
if existing then
  local answer = {existing}
  for i = 1, n do answer[i + 1] = redis.call('HGET', KEYS[1 + i], 'status') end
  return answer
end
for i = 1, n do
  redis.call('HSET', KEYS[1 + i], 'status', 'queued', 'attempts', '0', 'updatedAt', ARGV[2])
  redis.call('RPUSH', KEYS[1 + n + i], ARGV[3])
end
return false
