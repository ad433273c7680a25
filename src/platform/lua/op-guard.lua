-- The one-off operation id guard. KEYS[1] is the hash the script changes, the last ARGV a fresh
-- operation id: when Redis drops the connection after running a script but before its reply
-- arrives, ioredis sends it again on reconnect, and that second run must change nothing.
-- A script reads the hash's 'op' field with the others it needs (one HMGET), returns unchanged
-- when isReplay(op), and otherwise writes 'op', OP in the same HSET as its change.
local OP = ARGV[#ARGV]
local function isReplay(op) return op == OP end
