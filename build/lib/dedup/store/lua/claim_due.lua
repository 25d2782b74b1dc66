-- Claim the deliveries that are due: each is pushed back by the lease, so that a worker that
-- dies while delivering leaves it to be claimed again once the lease is over.
-- KEYS: due
-- ARGV: now lease limit
-- Answers the ids claimed, earliest due first.
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(limit))
for _, id in ipairs(ids) do
  redis.call('ZADD', due, 'XX', tonumber(now) + tonumber(lease), id)
end
return ids
