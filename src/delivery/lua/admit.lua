-- Decides whether a delivery may go out now; makes the caller the probe when the cool-down is over.
-- KEYS: the system's circuit hash. ARGV: now (ms), how long a probe may take (ms).
-- Answers {'wait', ms}, {'probe', '0'}, or {'send', failures counted so far} (a success resets them).
local state, untilField, failures = unpack(redis.call('HMGET', KEYS[1], 'state', 'until', 'failures'))
local now = tonumber(ARGV[1])
if state == 'open' then
  local untilMs = tonumber(untilField)
  if now < untilMs then return {'wait', tostring(untilMs - now)} end
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'until', tostring(now + tonumber(ARGV[2])))
  return {'probe', '0'}
end
if state == 'half_open' then
  local untilMs = tonumber(untilField)
  -- Look again soon: the probe's outcome decides, and it may come any moment.
  if now < untilMs then return {'wait', tostring(math.min(untilMs - now, 500))} end
  -- The probe never reported back (its process died): let another one try.
  redis.call('HSET', KEYS[1], 'until', tostring(now + tonumber(ARGV[2])))
  return {'probe', '0'}
end
return {'send', failures or '0'}
