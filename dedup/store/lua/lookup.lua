-- Probe one shard's index.
-- USES: group_name
-- KEYS: urls
-- ARGV: tag group_ids bands blocks anchors skeleton words names url band_fields simhash_fields anchor_fields skeleton_fields word_fields name_fields
-- The groups are named as in add_article.lua (`tag`, `group_ids`); `urls` is the shard's url
-- hash, read when `url` is not ''. The fields come packed, which costs far less to send than
-- one argument per field (and one key name a group).
-- Answers {band ids, SimHash entries, anchor entries, skeleton entries, word entries, name
-- pair entries, url id or nil}, each
-- kind's values concatenated into one string: a few long strings cost the client far less to
-- read than thousands of short ones (a story copied hundreds of times), and a value per field
-- costs Redis far less than a hash of entries (HGETALL on the SimHash blocks of such a story
-- took 0.3 of its 0.4 ms).
local nb, ns, na, nk = tonumber(bands), tonumber(blocks), tonumber(anchors), tonumber(skeleton)
local nw, nn = tonumber(words), tonumber(names)
local function values(first, count, kind, fields)
  local out = {}
  for i = 0, count - 1 do
    local key = group_name(tag, kind, i, group_ids, first + i)
    local value = redis.call('HGET', key, string.sub(fields, i * 6 + 1, i * 6 + 6))
    if value then out[#out + 1] = value end
  end
  return table.concat(out)
end
local found = false
if url ~= '' then found = redis.call('HGET', urls, url) end
return {values(0, nb, 'l', band_fields), values(nb, ns, 's', simhash_fields),
        values(nb + ns, na, 'x', anchor_fields),
        values(nb + ns + na, nk, 'k', skeleton_fields),
        values(nb + ns + na + nk, nw, 'w', word_fields),
        values(nb + ns + na + nk + nw, nn, 'n', name_fields), found}
