-- Store an article and every index entry of it atomically, once per url.
-- KEYS: urls seen record
-- USES: group_name
-- ARGV: url id tag group_ids bands blocks anchors skeleton words names cap name_cap first_seen simhash_entry id_entry anchor_entry skeleton_entry word_entry name_entry band_fields simhash_fields anchor_fields skeleton_fields word_fields name_fields ...pairs
-- The index groups written are the hashes of the band buckets, SimHash blocks, anchors,
-- skeleton 3-grams, content words and name pairs, in that order (`bands`, `blocks`,
-- `anchors`, `skeleton`, `words`, `names` of them). Their names are built here
-- (`group_name`) from the shard's `tag` (the hash tag every key of the script shares, so one
-- cluster slot holds them all) and `group_ids`, each group's number packed in 4 bytes: one
-- argument instead of a key name a group (~180 an article).
-- Each *_fields is that kind's fields packed into one string, 6 bytes a field. An anchor,
-- skeleton or word field already `cap` bytes long (`name_cap` for a name pair) is
-- boilerplate shared by many articles and is left as it is. `pairs` is the record's
-- field/value pairs.
-- Answers {1, id} when stored, {0, existing id} when the url is stored already (then
-- nothing is written).
local existing = redis.call('HGET', urls, url)
if existing then return {0, existing} end
local nb, ns, na, nk = tonumber(bands), tonumber(blocks), tonumber(anchors), tonumber(skeleton)
local nw, nn = tonumber(words), tonumber(names)
local limit = tonumber(cap)
local function append(key, field, entry, most)  -- most fields are new: one call for them
  if redis.call('HSETNX', key, field, entry) == 1 then return end
  local value = redis.call('HGET', key, field)
  if #value < most then redis.call('HSET', key, field, value .. entry) end
end
local function each(first, count, kind, fields, entry, most)
  for i = 0, count - 1 do
    local name = group_name(tag, kind, i, group_ids, first + i)
    append(name, string.sub(fields, i * 6 + 1, i * 6 + 6), entry, most)
  end
end
each(0, nb, 'l', band_fields, id_entry, math.huge)
each(nb, ns, 's', simhash_fields, simhash_entry, math.huge)
each(nb + ns, na, 'x', anchor_fields, anchor_entry, limit)
each(nb + ns + na, nk, 'k', skeleton_fields, skeleton_entry, limit)
each(nb + ns + na + nk, nw, 'w', word_fields, word_entry, limit)
each(nb + ns + na + nk + nw, nn, 'n', name_fields, name_entry, tonumber(name_cap))
redis.call('HSET', record, unpack(ARGV, pairs_at))
redis.call('HSET', urls, url, id)
redis.call('ZADD', seen, first_seen, id)
return {1, id}
