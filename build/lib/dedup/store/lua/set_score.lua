-- Store a site's farm score only if its sums have not changed since they were read.
-- KEYS: site by_score
-- ARGV: version score site_name
-- Answers 1 when stored, 0 when another count changed the sums in between (read again).
if (redis.call('HGET', site, 'version') or '0') ~= version then return 0 end
redis.call('ZADD', by_score, score, site_name)
return 1
