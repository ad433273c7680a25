-- Whether a case id may be among those that left Redis for the ledger.
-- KEYS[1] the filter (a bitmap), KEYS[2] its marker, set once the filter holds every archived id.
-- ARGV the id's bit positions.
-- Returns 0 when the id was certainly never archived, 1 when it may have been or the filter is not
-- complete (the ledger is asked then).
if redis.call('EXISTS', KEYS[2]) == 0 then return 1 end
for i = 1, #ARGV do
  if redis.call('GETBIT', KEYS[1], ARGV[i]) == 0 then return 0 end
end
return 1
