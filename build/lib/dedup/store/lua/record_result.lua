-- Record one scanned line's result once, with the scan's counters.
-- KEYS: results scan
-- ARGV: line payload outcome already_stored has_copies
-- `outcome` is the counter to add to ('stored' or 'failed'); the last two are '1' or '0'.
-- A retried chunk finds the line recorded and changes nothing, so the counters add up.
-- Answers 1 when recorded now, 0 when it was recorded before.
if redis.call('HSETNX', results, line, payload) == 0 then return 0 end
redis.call('HINCRBY', scan, 'processed', 1)
redis.call('HINCRBY', scan, outcome, 1)
if already_stored == '1' then redis.call('HINCRBY', scan, 'already_stored', 1) end
if has_copies == '1' then redis.call('HINCRBY', scan, 'duplicates_found', 1) end
return 1
