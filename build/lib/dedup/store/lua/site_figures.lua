-- A site's sums in one reply.
-- KEYS: site lags hours sources copiers
-- ARGV:
-- Answers {the site hash's fields and values, median lag, p90 lag, active hours, articles in
-- the busiest hour, sources with counts, copiers with counts}.
local n = redis.call('ZCARD', lags)
local median, p90 = false, false
local function at(q)
  local rank = math.floor((n - 1) * q)
  return redis.call('ZRANGE', lags, rank, rank, 'WITHSCORES')[2]
end
if n > 0 then median, p90 = at(0.5), at(0.9) end
local counts, busiest = redis.call('HVALS', hours), 0
for _, v in ipairs(counts) do if tonumber(v) > busiest then busiest = tonumber(v) end end
return {redis.call('HGETALL', site), median, p90, #counts, busiest,
        redis.call('ZREVRANGE', sources, 0, -1, 'WITHSCORES'),
        redis.call('ZREVRANGE', copiers, 0, -1, 'WITHSCORES')}
