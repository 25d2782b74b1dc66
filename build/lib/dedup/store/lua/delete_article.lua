-- Remove an article and every index entry of it, atomically.
-- KEYS: record seen urls ...groups
-- ARGV: id url id_entry bands blocks anchors skeleton words names band_fields simhash_fields anchor_fields skeleton_fields word_fields name_fields
-- groups and *_fields as in add_article.lua. The url is forgotten only while it still points
-- at this id (it may have been stored again since).
local nb, ns, na, nk = tonumber(bands), tonumber(blocks), tonumber(anchors), tonumber(skeleton)
local nw, nn = tonumber(words), tonumber(names)
local function remove(key, field, width)
  local value = redis.call('HGET', key, field)
  if not value then return end
  for i = 1, #value, width do
    if string.sub(value, i, i + 3) == id_entry then
      local rest = string.sub(value, 1, i - 1) .. string.sub(value, i + width)
      if #rest == 0 then redis.call('HDEL', key, field)
      else redis.call('HSET', key, field, rest) end
      return
    end
  end
end
local function each(first, count, fields, width)
  for i = 0, count - 1 do
    remove(KEYS[first + i], string.sub(fields, i * 6 + 1, i * 6 + 6), width)
  end
end
redis.call('DEL', record)
redis.call('ZREM', seen, id)
if redis.call('HGET', urls, url) == id then redis.call('HDEL', urls, url) end
each(groups_at, nb, band_fields, 4)
each(groups_at + nb, ns, simhash_fields, 16)
each(groups_at + nb + ns, na, anchor_fields, 6)
each(groups_at + nb + ns + na, nk, skeleton_fields, 6)
each(groups_at + nb + ns + na + nk, nw, word_fields, 6)
each(groups_at + nb + ns + na + nk + nw, nn, name_fields, 6)
return 1
