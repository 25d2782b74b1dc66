-- Authorize one request of a key: its scope, then its quotas, counted atomically.
-- KEYS: record minute day
-- ARGV: scope requests articles minute_left day_left default_rpm default_apd
-- `scope` '' skips the scope check; `requests` is 1 to count the request against the
-- per-minute quota (0: only articles are charged); `articles` is charged against the daily
-- quota. A limit of 0 means none. `*_left` are the seconds to the window's end (its TTL).
-- Answers {outcome, name, scopes, rpm, rpm_left, apd, apd_left, retry_after}; outcome is
-- 1 granted, 0 unknown key, -1 scope missing, -2 over the minute's requests, -3 over the
-- day's articles (nothing is charged when refused, but a refused request still counts in
-- its minute: a client hammering past its quota stays refused).
local found = redis.call('HMGET', record, 'name', 'scopes', 'requests_per_minute', 'articles_per_day')
if not found[1] then return {0, '', '', 0, 0, 0, 0, 0} end
local name, scopes = found[1], found[2]
if scope ~= '' and not string.find(',' .. scopes .. ',', ',' .. scope .. ',', 1, true)
    and not string.find(',' .. scopes .. ',', ',admin,', 1, true) then
  return {-1, name, scopes, 0, 0, 0, 0, 0}
end
local rpm = tonumber(found[3]) or tonumber(default_rpm)
local apd = tonumber(found[4]) or tonumber(default_apd)
local used = 0
if rpm > 0 and requests == '1' then
  used = redis.call('INCR', minute)
  if used == 1 then redis.call('EXPIRE', minute, minute_left) end
  if used > rpm then return {-2, name, scopes, rpm, 0, apd, -1, redis.call('TTL', minute)} end
elseif rpm > 0 then
  used = tonumber(redis.call('GET', minute) or '0')
end
local spent = tonumber(redis.call('GET', day) or '0')
local cost = tonumber(articles)
if cost < 0 then  -- a refund (the article was refused after it was charged), never below 0
  spent = math.max(0, spent + cost)
  redis.call('SET', day, spent, 'KEEPTTL')
  return {1, name, scopes, rpm, rpm - used, apd, apd - spent, 0}
end
if apd > 0 and cost > 0 then
  if spent + cost > apd then
    local wait = redis.call('TTL', day)
    if wait < 0 then wait = tonumber(day_left) end
    return {-3, name, scopes, rpm, rpm - used, apd, apd - spent, wait}
  end
  spent = redis.call('INCRBY', day, cost)
  if spent == cost then redis.call('EXPIRE', day, day_left) end
end
return {1, name, scopes, rpm, rpm - used, apd, apd - spent, 0}
