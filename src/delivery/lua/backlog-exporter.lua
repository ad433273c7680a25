-- Claims (or keeps) the right to export the backlog gauges: one process per deployment, so sums
-- across scraped processes count each waiting job once. A holder that stops renewing loses it.
-- KEYS: the exporter key. ARGV: this process's id, the lease (ms). Answers 1 when this process exports.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
