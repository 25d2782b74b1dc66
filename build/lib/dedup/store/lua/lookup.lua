-- Probe one shard's index.
-- KEYS: ...groups
-- ARGV: bands blocks anchors skeleton words names url band_fields simhash_fields anchor_fields skeleton_fields word_fields name_fields
-- groups as in add_article.lua, then the shard's url hash when `url` is not ''. The fields
-- come packed, which costs far less to send than one argument per field.
-- Answers {band ids, SimHash entries, anchor entries, skeleton entries, word entries, name
-- pair entries, url id or nil}, each
-- kind's values concatenated into one string: a few long strings cost the client far less to
-- read than thousands of short ones (a story copied hundreds of times), and a value per field
-- costs Redis far less than a hash of entries (HGETALL on the SimHash blocks of such a story
-- took 0.3 of its 0.4 ms).
local nb, ns, na, nk = tonumber(bands), tonumber(blocks), tonumber(anchors), tonumber(skeleton)
local nw, nn = tonumber(words), tonumber(names)
local function values(first, count, fields)
  local out = {}
  for i = 0, count - 1 do
    local value = redis.call('HGET', KEYS[first + i], string.sub(fields, i * 6 + 1, i * 6 + 6))
    if value then out[#out + 1] = value end
  end
  return table.concat(out)
end
local found = false
if url ~= '' then found = redis.call('HGET', KEYS[#KEYS], url) end
return {values(groups_at, nb, band_fields), values(groups_at + nb, ns, simhash_fields),
        values(groups_at + nb + ns, na, anchor_fields),
        values(groups_at + nb + ns + na, nk, skeleton_fields),
        values(groups_at + nb + ns + na + nk, nw, word_fields),
        values(groups_at + nb + ns + na + nk + nw, nn, name_fields), found}
