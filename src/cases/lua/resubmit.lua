-- A resubmission with changed content (补正 done): taken only while the case's clock is stopped
-- for need_more, and only over the case as the caller read it (compare and set). Stores the new
-- content, restarts the clock, and puts every delivery whose result asked for more back to
-- `queued` (fresh attempts, the result cleared so that the same answer later is news again).
-- KEYS: case, clock, then n delivery hashes, then n history lists.
-- ARGV: the stored record JSON as read, the new record JSON, clock entry, history entry, at.
-- Answers {'resubmitted', i…} (the positions of the deliveries to send again, from 1), {'done'} when the new
-- content is already stored (a repeated run), or {'not_waiting'} / {'changed'}.
local n = (#KEYS - 2) / 2
local stored = redis.call('GET', KEYS[1])
if stored == ARGV[2] then return {'done'} end
if stored ~= ARGV[1] then return {'changed'} end
local waiting = false
for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local entry = cjson.decode(raw)
  if entry.reason == 'need_more' then waiting = (entry.event == 'stop') end
end
if not waiting then return {'not_waiting'} end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('RPUSH', KEYS[2], ARGV[3])
local answer = {'resubmitted'}
for i = 1, n do
  local result = redis.call('HGET', KEYS[2 + i], 'result')
  if result and cjson.decode(result).outcome == 'need_more' then
    redis.call('HSET', KEYS[2 + i], 'status', 'queued', 'attempts', '0', 'updatedAt', ARGV[5])
    redis.call('HDEL', KEYS[2 + i], 'result', 'discarded', 'discardedAt')
    redis.call('RPUSH', KEYS[2 + n + i], ARGV[4])
    answer[#answer + 1] = i
  end
end
return answer
