-- Emit an event once: its deliveries are stored and due now, unless it was emitted before.
-- KEYS: sent due ...deliveries
-- ARGV: ttl now ...payloads
-- `deliveries` are the keys of the event's deliveries (one per webhook), `payloads` their
-- JSON, in the same order; their ids (the due zset's members) follow them as ARGV.
-- Answers 1 when emitted now, 0 when this event was emitted before.
if not redis.call('SET', sent, '1', 'NX', 'EX', ttl) then return 0 end
local count = #KEYS - deliveries_at + 1
for i = 0, count - 1 do
  redis.call('SET', KEYS[deliveries_at + i], ARGV[payloads_at + i], 'EX', ttl)
  redis.call('ZADD', due, now, ARGV[payloads_at + count + i])
end
return 1
