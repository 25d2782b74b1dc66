-- The name of an index group, as `Keys.index_keys` spells it: the shard's hash `tag`, the
-- kind's letter ('l' band buckets, 's' SimHash blocks, 'x' anchors, 'k' skeleton 3-grams,
-- 'w' content words, 'n' name pairs), for 'l' and 's' the band's or block's position `i`,
-- and the group's number in hex (a block's in at least two digits). The number of the group
-- at position `at` (0-based) is read from `packed`, 4 bytes (big-endian) a group.
local function group_name(tag, kind, i, packed, at)
  local a, b, c, d = string.byte(packed, at * 4 + 1, at * 4 + 4)
  local number = ((a * 256 + b) * 256 + c) * 256 + d
  if kind == 'l' then return tag .. ':l:' .. i .. ':' .. string.format('%x', number) end
  if kind == 's' then return tag .. ':s:' .. i .. ':' .. string.format('%02x', number) end
  return tag .. ':' .. kind .. ':' .. string.format('%x', number)
end
