-- Stores a version only on top of the one it was made from: two editors cannot both make "version 3",
-- and two processes cannot both create the same system.
-- KEYS: the latest versions hash. ARGV: field (a system id, or "routes"), the version stored now as the
-- caller saw it ("0": none stored yet), the new version's JSON.
-- Returns -1 when stored, else the version stored now (0: none), which the caller did not see.
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local version = 0
if stored then version = cjson.decode(stored).version end
if version ~= tonumber(ARGV[2]) then return version end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return -1
