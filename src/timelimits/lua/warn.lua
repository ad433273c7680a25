-- Sends a time-limit warning once per case, clock run and kind: marks it in the case's warned hash
-- and, if it was not marked before, queues the event in the case's outbox, in one step. Several
-- processes checking the same case at once, or a check repeated after a restart, send it once.
-- KEYS: warned hash, outbox. ARGV: field (<run>:<event>), event JSON ('' when no callback is set up), at.
-- Answers 1 when this run marked it, 0 when it was marked before.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[2]) end
return 1
