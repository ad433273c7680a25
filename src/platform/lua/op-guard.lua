-- The one-off operation id guard. KEYS[1] is the hash the script changes, the last ARGV a fresh
-- operation id: when Redis drops the connection after running a script but before its reply
-- arrives, ioredis sends it again on reconnect, and that second run must change nothing.
local OP = ARGV[#ARGV]
local function replayed() return redis.call('HGET', KEYS[1], 'op') == OP end
local function claim() redis.call('HSET', KEYS[1], 'op', OP) end
