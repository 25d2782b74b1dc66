-- Close a chunk and, when the upload is sealed and every chunk is done, finish the scan.
-- KEYS: scan done
-- ARGV: chunk finished_at
-- `chunk` is '' to close none (a sealed upload checks whether it is done already).
-- Answers the scan's status after it.
if chunk ~= '' then redis.call('SADD', done, chunk) end
local state = redis.call('HMGET', scan, 'status', 'sealed', 'chunks')
local all_done = redis.call('SCARD', done) >= tonumber(state[3])
if (state[1] == 'running' or state[1] == 'queued') and state[2] == '1' and all_done then
  redis.call('HSET', scan, 'status', 'done', 'finished_at', finished_at)
end
return redis.call('HGET', scan, 'status')
