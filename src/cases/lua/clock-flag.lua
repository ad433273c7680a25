-- Counts the open cases that are due soon or overdue, per catalogue entry and system (the gauges
-- ow_cases_due_soon and ow_cases_overdue). Each such case has a flag saying what it is counted as;
-- a new flag moves its counts in the same step, so the counts always add up to the flags, whatever
-- process sets it or how often.
-- KEYS: flags hash (caseId -> flag), counts hash (field -> cases).
-- ARGV: caseId, the new flag ('' for none): JSON {"state": "due_soon"|"overdue", "item": <entry>, "systems": [...]}.
-- A counts field is the JSON array [state, item, systemId]. Answers 1 when the flag changed.
local old = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if old == ARGV[2] then return 0 end
local function fields(flag)
  if flag == '' then return {} end
  local f = cjson.decode(flag)
  local out = {}
  for _, system in ipairs(f.systems) do out[#out + 1] = cjson.encode({f.state, f.item, system}) end
  return out
end
for _, field in ipairs(fields(old)) do
  if redis.call('HINCRBY', KEYS[2], field, -1) <= 0 then redis.call('HDEL', KEYS[2], field) end
end
for _, field in ipairs(fields(ARGV[2])) do redis.call('HINCRBY', KEYS[2], field, 1) end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
