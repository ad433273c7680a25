-- Counts a retryable failure; opens the circuit at the threshold, or at once after a failed probe.
-- KEYS: the system's circuit hash. ARGV: now (ms), failure threshold, cool-down (ms).
local state = redis.call('HGET', KEYS[1], 'state')
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if state == 'half_open' or (state ~= 'open' and failures >= tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', tostring(tonumber(ARGV[1]) + tonumber(ARGV[3])))
  return 1
end
return 0
