-- Count one observed article into its site's sums (and the edge to its source), once.
-- KEYS: counted site sources copiers lags hours source_copied source_site examples edge by_size by_score totals copy_counted
-- ARGV: id is_copy credited source site_name lag hour copy_type marker_kinds source_id when example keep fast_lag late unknown
-- With `late` = 1 the article was counted before as no copy (its source was not stored yet)
-- and only its copy is counted now: nothing happens unless it was counted and its copy not.
-- `sources` is this site's source zset, `copiers` the source's copier zset; `marker_kinds`
-- comma-separated; `example` a JSON copy record pushed to the site's examples (the latest
-- `keep` of them are kept); `totals` counts articles and copies by type for the metrics.
-- With `unknown` = 1 the copy's source is not stored (a sibling): it counts as a copy of its
-- site, with no source edge, no lag and no example (an example names its original).
-- Answers 1 when counted now, 0 when it was counted before.
if late == '1' then
  if redis.call('SISMEMBER', counted, id) == 0 then return 0 end
  if is_copy ~= '1' or redis.call('SADD', copy_counted, id) == 0 then return 0 end
  redis.call('HINCRBY', site, 'version', 1)
else
if redis.call('SADD', counted, id) == 0 then return 0 end
local moment = tonumber(when)
redis.call('HINCRBY', site, 'articles', 1)
redis.call('HINCRBY', totals, 'articles', 1)
redis.call('HINCRBY', site, 'version', 1)
local first = tonumber(redis.call('HGET', site, 'first_seen') or '')
if not first or moment < first then redis.call('HSET', site, 'first_seen', moment) end
local last = tonumber(redis.call('HGET', site, 'last_seen') or '')
if not last or moment > last then redis.call('HSET', site, 'last_seen', moment) end
redis.call('HINCRBY', hours, hour, 1)
for kind in string.gmatch(marker_kinds, '[^,]+') do
  redis.call('HINCRBY', site, 'marker:' .. kind, 1)
end
redis.call('ZINCRBY', by_size, 1, site_name)
redis.call('ZADD', by_score, 'NX', 0, site_name)
if is_copy == '1' then redis.call('SADD', copy_counted, id) end
end
if is_copy == '1' then
  redis.call('HINCRBY', site, 'copies', 1)
  redis.call('HINCRBY', totals, 'copies:' .. (copy_type ~= '' and copy_type or 'unknown'), 1)
  if credited == '1' then redis.call('HINCRBY', site, 'credited_copies', 1) end
  if copy_type ~= '' then redis.call('HINCRBY', site, 'type:' .. copy_type, 1) end
end
if is_copy == '1' and unknown ~= '1' then
  local seconds = tonumber(lag)
  if seconds <= tonumber(fast_lag) then redis.call('HINCRBY', site, 'fast_copies', 1) end
  redis.call('ZINCRBY', sources, 1, source)
  redis.call('ZINCRBY', copiers, 1, site_name)
  redis.call('ZADD', lags, seconds, id)
  if redis.call('SADD', source_copied, source_id) == 1 then
    redis.call('HINCRBY', source_site, 'copied', 1)
  end
  redis.call('HINCRBY', source_site, 'version', 1)
  redis.call('LPUSH', examples, example)
  redis.call('LTRIM', examples, 0, tonumber(keep) - 1)
  redis.call('HINCRBY', edge, 'copies', 1)
  redis.call('HINCRBY', edge, 'credited', tonumber(credited))
  redis.call('HINCRBY', edge, 'lag_seconds', seconds)
end
return 1
