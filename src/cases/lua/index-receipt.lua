-- Adds a case to the holders of a receipt number (a set per system and number) and answers how many
-- hold it now: more than one, and a result naming only the number is ambiguous.
-- KEYS: the receipt's set. ARGV: caseId.
redis.call('SADD', KEYS[1], ARGV[1])
return redis.call('SCARD', KEYS[1])
