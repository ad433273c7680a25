-- The parked results that name a case or a receipt number, oldest first: what a delivery that was
-- just acknowledged may now match. One command whether anything is parked or not (nearly always not).
-- KEYS: items, then the index sets the delivery names. Answers the results' JSON, oldest first.
local seqOf = {}
local ids = {}
for i = 2, #KEYS do
  local flat = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  for j = 1, #flat, 2 do
    if not seqOf[flat[j]] then ids[#ids + 1] = flat[j] end
    seqOf[flat[j]] = tonumber(flat[j + 1])
  end
end
if #ids == 0 then return {} end
table.sort(ids, function(a, b) return seqOf[a] < seqOf[b] end)
local found = {}
for _, raw in ipairs(redis.call('HMGET', KEYS[1], unpack(ids))) do
  if raw then found[#found + 1] = raw end
end
return found
