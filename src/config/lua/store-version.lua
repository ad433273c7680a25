-- Stores a version only on top of the one it was made from: two editors cannot both make "version 3".
-- KEYS: the stored versions hash. ARGV: system id, the version it was made from, the new version's JSON.
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local version = 1
if stored then version = cjson.decode(stored).version end
if version ~= tonumber(ARGV[2]) then return version end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 0
