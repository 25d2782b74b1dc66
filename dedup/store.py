"""All Redis I/O: one module spells every key, and every step is one round trip.

Articles are partitioned into `shards` (DEDUP_SHARDS; an index parameter): an article, its
url claim and all its index entries live in the shard its url hashes to, and every key of a
shard carries the hash tag `{n}`. So storing or deleting an article is one atomic script in
one Redis Cluster slot, and a query is one lookup script per shard, all in one pipeline. On a
single server one shard is enough; on a cluster, several per master spread the slots.

Layout of shard n under the key prefix P (ids are integers; id % shards = n):

    P:meta                   hash  index parameters (all shards; one key)
    P:{n}:next_id            int   last id counter handed out in this shard
    P:{n}:urls               hash  url -> id
    P:{n}:seen               zset  id -> first-seen time (epoch seconds), for retention
    P:{n}:a:<id>             hash  the article record (metadata, zlib display text, digest,
                                   signatures, skeleton 3-grams, ...)
    P:{n}:l:<band>:<group>   hash  band bucket (6 bytes) -> ids holding it (4 bytes each)
    P:{n}:s:<block>:<group>  hash  16-bit SimHash block value -> (id, full 64-bit SimHash,
                                   date) entries of the ids with it (group: its top 8 bits)
    P:{n}:x:<group>          hash  anchor shingle (low 6 bytes) -> (id, anchor count) entries
    P:{n}:k:<group>          hash  skeleton 3-gram (low 6 bytes) -> (id, skeleton count) entries

Index entries are grouped into hashes by the top `group_bits` of their hash, as fields with
packed values, instead of one key each: a key costs Redis ~80 bytes before its value, a field
of a small hash (ziplist/listpack encoded) about a tenth of that.

Sites (counted once per article by the follow-up jobs; see dedup/sites.py), all under the
tag {sites} (the count script touches two sites and their edge at once):

    P:{sites}:counted        set   ids already counted
    P:{sites} / :score       zset  site -> articles / stored farm score
    P:{sites}:site:<site>    hash  sums: articles, copies, credited_copies, fast_copies,
                                   copied, type:<copy type>, marker:<kind>, first_seen,
                                   last_seen, version
    ...:site:<site>:lags     zset  copy id -> lag behind its original, seconds
    ...:site:<site>:hours    hash  clock hour -> articles
    ...:site:<site>:sources / :copiers  zset  other site -> copies (the copy graph)
    ...:site:<site>:copied   set   its article ids other sites copied
    ...:site:<site>:examples list  its latest copies with their originals (the dossier)
    P:{sites}:edge:<copier>|<source>  hash  copies, credited, lag_seconds (summed)

Scans: P:scans (zset of scan ids) and P:scan:{<id>}:... (one tag per scan).
"""

import json
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import redis
import redis.cluster
import xxhash
from redis.commands.core import Script
from redis.typing import EncodableT

from dedup.article import Article
from dedup.config import Settings
from dedup.errors import IndexMismatch, StoreUnavailable
from dedup.signatures import (
    BUCKET_BYTES,
    SIMHASH_BLOCKS,
    SIMHASH_MAX_DISTANCE,
    simhash_blocks,
)
from dedup.sites import FAST_LAG_SECONDS, Observation, SiteFigures, hour_of, share

Client = redis.Redis | redis.cluster.RedisCluster
LAYOUT = "3"  # version of the key layout above; an index of another layout is refused
ID_BYTES = 4  # ids in packed index values (big-endian); 4.29 billion ids per index
ENTRY = struct.Struct(">IH")  # an anchor or skeleton entry: id, that article's count
ENTRY_DTYPE = np.dtype([("id", ">u4"), ("count", ">u2")])  # the same, read by numpy
# A SimHash entry: id, the full SimHash, and when the article was published (else first seen),
# epoch seconds, so that a query into a story copied hundreds of times knows its copies' dates
# without reading their records (see Detector._budget).
SIMHASH_ENTRY_DTYPE = np.dtype([("id", ">u4"), ("simhash", ">u8"), ("when", ">u4")])
SIMHASH_GROUP_SHIFT = 8  # a SimHash block value's top 8 bits name its group (256 a block)
# Every index field is 6 bytes: a band bucket, or the low bytes of an anchor or skeleton 3-gram
# (its group key holds the top bits); the scripts cut packed fields at this width.
FIELD_BYTES = BUCKET_BYTES
MAX_COUNT = 0xFFFF

# Store an article atomically, once per url. KEYS = urls, seen, record, band groups...,
# SimHash groups..., anchor groups..., skeleton groups...; ARGV = url, id, band count,
# SimHash block count, anchor count, skeleton count, entry cap (bytes), first seen (epoch
# seconds), SimHash entry (id, SimHash, date), packed id, anchor entry, skeleton entry, then the
# band, SimHash, anchor and skeleton fields each packed into one string (6 bytes a field),
# then the record's field/value pairs. An anchor (or skeleton) field already holding `cap`
# entries is a boilerplate phrase and is left as it is. Answers {1, id} when stored, {0,
# existing id} when the url is stored.
_ADD_ARTICLE = """
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {0, existing} end
local nb, ns, na, nk = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cap = tonumber(ARGV[7])
local function append(key, field, entry, limit)  -- most fields are new: one call for them
  if redis.call('HSETNX', key, field, entry) == 1 then return end
  local value = redis.call('HGET', key, field)
  if #value < limit then redis.call('HSET', key, field, value .. entry) end
end
local function each(first, count, fields, entry, limit)
  for i = 0, count - 1 do
    append(KEYS[first + i], string.sub(fields, i * 6 + 1, i * 6 + 6), entry, limit)
  end
end
each(4, nb, ARGV[13], ARGV[10], math.huge)
each(4 + nb, ns, ARGV[14], ARGV[9], math.huge)
each(4 + nb + ns, na, ARGV[15], ARGV[11], cap)
each(4 + nb + ns + na, nk, ARGV[16], ARGV[12], cap)
redis.call('HSET', KEYS[3], unpack(ARGV, 17))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[8], ARGV[2])
return {1, ARGV[2]}
"""
# Remove an article and every index entry of it, atomically. KEYS = record, seen, urls, band
# groups..., SimHash groups..., anchor groups..., skeleton groups...; ARGV = id, url, packed
# id, band count, SimHash count, anchor count, skeleton count, then the band, SimHash, anchor
# and skeleton fields each packed into one string. The url is forgotten only while it still
# points at this id.
_DELETE_ARTICLE = """
local id, id4 = ARGV[1], ARGV[3]
local nb, ns, na, nk = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local function remove(key, field, width)
  local value = redis.call('HGET', key, field)
  if not value then return end
  for i = 1, #value, width do
    if string.sub(value, i, i + 3) == id4 then
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
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], id)
if redis.call('HGET', KEYS[3], ARGV[2]) == id then redis.call('HDEL', KEYS[3], ARGV[2]) end
each(4, nb, ARGV[8], 4)
each(4 + nb, ns, ARGV[9], 16)
each(4 + nb + ns, na, ARGV[10], 6)
each(4 + nb + ns + na, nk, ARGV[11], 6)
return 1
"""
# Probe one shard's index in one script. KEYS = band groups..., SimHash groups..., anchor
# groups..., skeleton groups..., urls (only with a url); ARGV = band count, SimHash count,
# anchor count, skeleton count, url ('' for none), then the band, SimHash, anchor and
# skeleton fields each packed into one string (6 bytes a field), which costs far less to send
# than one argument per field. Answers {band ids, SimHash entries, anchor entries, skeleton
# entries, url id or nil}, each kind's values concatenated into one string: a few long strings
# cost the client far less to read than thousands of short ones (a story copied hundreds of
# times), and a value per field costs Redis far less than a hash of entries (HGETALL on the
# SimHash blocks of such a story took 0.3 of its 0.4 ms).
_LOOKUP = """
local nb, ns, na, nk = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function values(first, count, fields)
  local out = {}
  for i = 0, count - 1 do
    local value = redis.call('HGET', KEYS[first + i], string.sub(fields, i * 6 + 1, i * 6 + 6))
    if value then out[#out + 1] = value end
  end
  return table.concat(out)
end
local url = false
if ARGV[5] ~= '' then url = redis.call('HGET', KEYS[#KEYS], ARGV[5]) end
return {values(1, nb, ARGV[6]), values(nb + 1, ns, ARGV[7]), values(nb + ns + 1, na, ARGV[8]),
        values(nb + ns + na + 1, nk, ARGV[9]), url}
"""
# Read the same fields of several records in one script per shard: one reply for the client
# to read, not one per record. KEYS = records; ARGV = field names; answers every record's
# values in order, flat (nil where a field or the record is absent).
_READ_FIELDS = """
local out = {}
for _, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, unpack(ARGV))
  for j = 1, #ARGV do out[#out + 1] = values[j] end
end
return out
"""
ID_BLOCK = 64  # ids reserved per round trip; unused ones are skipped, so ids may have gaps
_RECORD_FIELDS = (
    "url", "site", "title", "published_at", "first_seen_at", "canonical_url",
    "text", "digest", "simhash", "buckets", "anchors", "skeleton", "skeleton_set",
)  # fmt: skip


class Keys:
    """Every Redis key of one index, spelled from its prefix, its shard count and how many
    top bits of an index entry's hash name its group."""

    def __init__(self, prefix: str, shards: int = 1, group_bits: int = 16) -> None:
        self.prefix = prefix
        self.shards = shards
        self.group_bits = group_bits
        self.meta = f"{prefix}:meta"

    def shard_of_url(self, url: str) -> int:
        return xxhash.xxh3_64_intdigest(url.encode()) % self.shards if self.shards > 1 else 0

    def shard_of_id(self, doc_id: int) -> int:
        return doc_id % self.shards

    def _tag(self, shard: int) -> str:
        return f"{self.prefix}:{{{shard}}}"

    def next_id(self, shard: int) -> str:
        return f"{self._tag(shard)}:next_id"

    def urls(self, shard: int) -> str:
        return f"{self._tag(shard)}:urls"

    def seen(self, shard: int) -> str:
        return f"{self._tag(shard)}:seen"

    def article(self, doc_id: int) -> str:
        return f"{self._tag(self.shard_of_id(doc_id))}:a:{doc_id}"

    def band(self, shard: int, band: int, bucket: bytes) -> str:
        group = int.from_bytes(bucket[:4], "big") >> (32 - self.group_bits)
        return f"{self._tag(shard)}:l:{band}:{group:x}"

    def simhash_block(self, shard: int, block: int, value: int) -> str:
        return f"{self._tag(shard)}:s:{block}:{value >> SIMHASH_GROUP_SHIFT:02x}"

    def anchor(self, shard: int, shingle: int) -> str:
        return f"{self._tag(shard)}:x:{shingle >> (64 - self.group_bits):x}"

    def skeleton(self, shard: int, gram: int) -> str:
        return f"{self._tag(shard)}:k:{gram >> (64 - self.group_bits):x}"

    def pattern(self) -> str:
        """A SCAN pattern matching every key of this index."""
        return f"{self.prefix}:*"

    def index_keys(
        self, shard: int, buckets: Sequence[bytes], simhash: int, anchors: Sequence[int],
        skeleton: Sequence[int],
    ) -> list[str]:  # fmt: skip
        """A shard's band groups, SimHash hashes, anchor groups and skeleton groups for these
        entries, in the order every script takes them."""
        names = [self.band(shard, band, bucket) for band, bucket in enumerate(buckets)]
        names += [self.simhash_block(shard, i, v) for i, v in enumerate(simhash_blocks(simhash))]
        names += [self.anchor(shard, a) for a in anchors]
        names += [self.skeleton(shard, g) for g in skeleton]
        return names

    def records_pattern(self) -> str:
        """A SCAN pattern matching every article record of this index, in every shard."""
        return f"{self.prefix}:{{*}}:a:*"


def entry_field(value: int) -> bytes:
    """The field an anchor or skeleton 3-gram is stored under inside its group: its low six
    bytes (the group key holds the top bits, so two grams share a field only by a 2**-48
    chance within one group)."""
    return (value & 0xFFFF_FFFF_FFFF).to_bytes(FIELD_BYTES, "big")


def packed_fields(
    buckets: Sequence[bytes], simhash: int, anchors: Sequence[int], skeleton: Sequence[int]
) -> tuple[bytes, bytes, bytes, bytes]:
    """The index fields of band buckets, SimHash blocks, anchors and skeleton 3-grams, each
    kind packed into one string of 6-byte fields, as the scripts take them."""
    if any(len(bucket) != FIELD_BYTES for bucket in buckets):
        raise ValueError(f"band buckets must be {FIELD_BYTES} bytes, as BUCKET_BYTES makes them")
    return (
        b"".join(buckets),
        b"".join(v.to_bytes(FIELD_BYTES, "big") for v in simhash_blocks(simhash)),
        b"".join(entry_field(a) for a in anchors),
        b"".join(entry_field(g) for g in skeleton),
    )


def _packed_fields(article: Article) -> tuple[bytes, bytes, bytes, bytes]:
    return packed_fields(article.buckets, article.simhash, article.anchors, article.skeleton)


@dataclass(frozen=True, slots=True)
class Tally:
    """The articles holding some of a query's anchors (or skeleton anchors), as arrays."""

    ids: np.ndarray  # distinct ids, ascending
    hits: np.ndarray  # how many of the query's entries each one holds
    counts: np.ndarray  # how many entries of this kind each one has

    def hits_of(self, ids: np.ndarray) -> np.ndarray:
        """The hits of these ids (0 for ids not in the tally)."""
        if not len(self.ids):
            return np.zeros(len(ids), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return np.where(self.ids[at] == ids, self.hits[at], 0)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What one index probe found: the url's id and candidates with their evidence."""

    url_id: int | None
    band_ids: np.ndarray  # ids sharing at least one LSH band bucket with the query (repeats)
    simhash_hits: dict[int, int]  # id -> SimHash distance, only ids within the bound
    near_times: dict[int, int]  # id -> published (else first seen), epoch seconds, of those
    anchors: Tally
    skeleton: Tally


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Turn Redis failures into StoreUnavailable (nothing was written)."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise StoreUnavailable(f"Redis did not answer: {exc}") from exc
    except redis.exceptions.RedisClusterException as exc:
        raise StoreUnavailable(f"Redis Cluster did not answer: {exc}") from exc


def _tally(packed: bytes) -> Tally:
    """Per article, how many of the packed (id, count) entries name it, and its count: one
    numpy pass, since a query into a story copied hundreds of times reads thousands of
    entries (a dict of counters cost ~0.2 ms a lookup at 200k articles)."""
    entries = np.frombuffer(packed, dtype=ENTRY_DTYPE)
    ids, first, hits = np.unique(entries["id"], return_index=True, return_counts=True)
    return Tally(ids.astype(np.int64), hits, entries["count"][first].astype(np.int64))


def _near_simhashes(
    packed: bytes, simhash: int, bound: int
) -> tuple[dict[int, int], dict[int, int]]:
    """id -> Hamming distance, and id -> date, of the packed SimHash entries within the
    bound; one numpy pass (copies of one story share their blocks, so a query into a story
    copied hundreds of times reads hundreds of entries)."""
    entries = np.frombuffer(packed, dtype=SIMHASH_ENTRY_DTYPE)
    distances = np.bitwise_count(entries["simhash"] ^ np.uint64(simhash))
    near = np.flatnonzero(distances <= bound)
    ids = entries["id"][near].tolist()
    return (dict(zip(ids, distances[near].tolist(), strict=True)),
            dict(zip(ids, entries["when"][near].tolist(), strict=True)))  # fmt: skip


def epoch_seconds(moment: datetime) -> int:
    """A moment as the index keeps dates: whole seconds since 1970 in 4 bytes (dates before
    1970 read as 1970, after 2106 as 2106)."""
    return min(max(int(moment.timestamp()), 0), 0xFFFF_FFFF)


def _when_bytes(article: Article) -> bytes:
    """When an article was published (else first seen), as its SimHash entries keep it."""
    return epoch_seconds(article.published_at or article.first_seen_at).to_bytes(4, "big")


def _pack_hashes(values: Sequence[int]) -> bytes:
    """64-bit hashes (anchors, skeleton anchors or 3-grams) as a record field: 8 bytes each."""
    return struct.pack(f">{len(values)}Q", *values)


def _unpack_hashes(packed: bytes | None) -> tuple[int, ...]:
    """The hashes of a record field `_pack_hashes` wrote."""
    raw = packed or b""
    return struct.unpack(f">{len(raw) // 8}Q", raw)


def _bucket_width(buckets: Sequence[bytes]) -> int:
    return len(buckets[0]) if buckets else 0


def _text_or_none(value: bytes | None) -> str | None:
    return value.decode() if value else None


def _time_or_none(value: bytes | None) -> datetime | None:
    return datetime.fromisoformat(value.decode()) if value else None


ScriptCall = tuple[Script, list[Any], list[Any]]


class Store:
    """The index and the article records of one key prefix on one Redis (or Redis Cluster)."""

    def __init__(
        self, client: Client, prefix: str, anchor_cap: int = 64, shards: int = 1,
        group_bits: int = 16,
    ) -> None:  # fmt: skip
        self._redis = client
        self.keys = Keys(prefix, shards, group_bits)
        self.anchor_cap = anchor_cap
        self._add_article = client.register_script(_ADD_ARTICLE)
        self._delete_article = client.register_script(_DELETE_ARTICLE)
        self._lookup = client.register_script(_LOOKUP)
        self._read_fields = client.register_script(_READ_FIELDS)
        self._ids: dict[int, Iterator[int]] = {}
        self._ids_lock = threading.Lock()

    @classmethod
    def for_settings(cls, client: Client, settings: Settings, prefix: str | None = None) -> "Store":
        """The store of the index these settings name (or of another prefix)."""
        return cls(client, prefix or settings.key_prefix, settings.anchor_cap, settings.shards,
                   settings.index_group_bits)  # fmt: skip

    @property
    def params(self) -> dict[str, str]:
        """The layout parameters an index is built with (recorded with the signatures')."""
        return {
            "layout": LAYOUT, "shards": str(self.keys.shards),
            "index_group_bits": str(self.keys.group_bits),
        }  # fmt: skip

    def _run(self, commands: Iterable[tuple[str, tuple[Any, ...]]], *, atomic: bool) -> list[Any]:
        """Send commands in one pipeline (MULTI/EXEC when atomic); map Redis failures."""
        try:
            with unavailable_on_failure(), self._redis.pipeline(transaction=atomic) as pipe:
                for name, args in commands:
                    getattr(pipe, name)(*args)
                return list(pipe.execute())
        except redis.ResponseError as exc:
            raise StoreUnavailable(f"Redis refused the command: {exc}") from exc

    def _scripts(self, calls: Sequence[ScriptCall]) -> list[Any]:
        """Run scripts (each atomic within its shard's slot) in one pipeline; load them into
        the server first if it does not know them (restarted, or a new cluster node)."""
        if len(calls) == 1:
            script, keys, args = calls[0]
            try:
                with unavailable_on_failure():
                    return [script(keys=keys, args=args)]
            except redis.ResponseError as exc:
                raise StoreUnavailable(f"Redis refused the command: {exc}") from exc
        # redis-py's cluster pipeline refuses EVALSHA; EVAL sends the text, which the server
        # compiles once and caches by its SHA-1.
        by_text = isinstance(self._redis, redis.cluster.RedisCluster)
        for attempt in range(2):
            try:
                with unavailable_on_failure(), self._redis.pipeline(transaction=False) as pipe:
                    for script, keys, args in calls:
                        if by_text:
                            pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
                        else:
                            pipe.evalsha(script.sha, len(keys), *keys, *args)
                    return list(pipe.execute())
            except redis.exceptions.NoScriptError:
                if attempt:
                    raise
                with unavailable_on_failure():
                    for script in {call[0] for call in calls}:
                        self._redis.script_load(script.script)
            except redis.ResponseError as exc:
                raise StoreUnavailable(f"Redis refused the command: {exc}") from exc
        raise AssertionError("unreachable")

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self._redis.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.RedisError):
            return False

    def ensure_params(self, params: dict[str, str]) -> None:
        """Record the index parameters, or fail if the index was built with others.

        Signatures made with other parameters never match, and records laid out in other
        keys are not found: mixing them silently loses recall.
        """
        wanted = {**params, **self.params}
        stored = self._run([("hgetall", (self.keys.meta,))], atomic=False)[0]
        if stored and b"layout" not in stored:
            stored[b"layout"] = b"1"  # the first release recorded no layout
        else:
            self._run([("hsetnx", (self.keys.meta, k, v)) for k, v in wanted.items()],
                      atomic=True)  # fmt: skip
            stored = self._run([("hgetall", (self.keys.meta,))], atomic=False)[0]
        stored_params = {k.decode(): v.decode() for k, v in stored.items()}
        differ = {
            k: (stored_params.get(k, "unset"), v)
            for k, v in wanted.items() if stored_params.get(k) != v
        }  # fmt: skip
        if differ:
            detail = ", ".join(
                f"{k} is {old} in the index but {new} now" for k, (old, new) in differ.items()
            )
            raise IndexMismatch(
                f"index '{self.keys.prefix}' was built with other parameters ({detail}); "
                "set them back, or use a new DEDUP_KEY_PREFIX for a new index"
            )

    def lookup(
        self,
        url: str | None,
        buckets: Sequence[bytes],
        simhash: int,
        anchors: Sequence[int] = (),
        skeleton: Sequence[int] = (),
    ) -> Lookup:
        """Candidates from LSH bands, SimHash blocks, anchors and skeleton anchors, and the
        url's id: one lookup script per shard, all in one round trip. Each reads the band
        buckets, every SimHash block (candidates beyond the Hamming bound are dropped here)
        and the entries of every anchor and skeleton anchor with each article's own count."""
        keys = self.keys
        fields = packed_fields(buckets, simhash, anchors, skeleton)
        url_shard = keys.shard_of_url(url) if url else -1
        calls: list[ScriptCall] = []
        for shard in range(keys.shards):
            names = keys.index_keys(shard, buckets, simhash, anchors, skeleton)
            probe_url = shard == url_shard
            if probe_url:
                names.append(keys.urls(shard))
            counts = [len(buckets), SIMHASH_BLOCKS, len(anchors), len(skeleton)]
            args: list[Any] = [*counts, url if probe_url else "", *fields]
            calls.append((self._lookup, names, args))
        replies = self._scripts(calls)  # shards hold disjoint ids: their replies just join
        bands, blocks, anchored, skeletal = (b"".join(reply[k] for reply in replies)
                                             for k in range(4))  # fmt: skip
        found = [int(reply[4]) for reply in replies if reply[4]]
        near, near_times = _near_simhashes(blocks, simhash, SIMHASH_MAX_DISTANCE)
        return Lookup(
            url_id=found[0] if found else None,
            band_ids=np.frombuffer(bands, dtype=">u4").astype(np.int64),
            simhash_hits=near,
            near_times=near_times,
            anchors=_tally(anchored),
            skeleton=_tally(skeletal),
        )

    def fetch(self, doc_ids: Sequence[int]) -> list[Article | None]:
        """The records of these ids (None where gone): one round trip."""
        values = self._fields_of(doc_ids, _RECORD_FIELDS)
        return [self._record(i, v) for i, v in zip(doc_ids, values, strict=True)]

    def times(self, doc_ids: Sequence[int]) -> list[datetime | None]:
        """When each article was published (else first seen), None where gone: one round
        trip that reads no text."""
        values = self._fields_of(doc_ids, ("published_at", "first_seen_at"))
        return [_time_or_none(published or seen) for published, seen in values]

    def _fields_of(self, doc_ids: Sequence[int], fields: Sequence[str]) -> list[list[Any]]:
        """These fields of each record, in one script per shard and one round trip (a
        pipeline of one HMGET per record cost the client ~30 us a reply to read: ~3 ms for
        the 100 candidates of a story copied hundreds of times)."""
        by_shard: dict[int, list[int]] = {}
        for doc_id in doc_ids:
            by_shard.setdefault(self.keys.shard_of_id(doc_id), []).append(doc_id)
        calls: list[ScriptCall] = [
            (self._read_fields, [self.keys.article(i) for i in ids], list(fields))
            for ids in by_shard.values()
        ]
        width = len(fields)
        found: dict[int, list[Any]] = {}
        for ids, flat in zip(by_shard.values(), self._scripts(calls) if calls else [],
                             strict=True):  # fmt: skip
            found.update((i, flat[k * width : (k + 1) * width]) for k, i in enumerate(ids))
        return [found[i] for i in doc_ids]

    @staticmethod
    def _record(doc_id: int, values: list[bytes | None]) -> Article | None:
        fields = dict(zip(_RECORD_FIELDS, values, strict=True))
        if fields["text"] is None:
            return None
        packed = fields["buckets"] or b"\x00"
        size, packed = packed[0], packed[1:]  # first byte: width of one bucket
        buckets = tuple(packed[i : i + size] for i in range(0, len(packed), size)) if size else ()
        return Article(
            id=doc_id,
            url=(fields["url"] or b"").decode(),
            site=(fields["site"] or b"").decode(),
            title=_text_or_none(fields["title"]),
            published_at=_time_or_none(fields["published_at"]),
            first_seen_at=datetime.fromisoformat((fields["first_seen_at"] or b"").decode()),
            canonical_url=_text_or_none(fields["canonical_url"]),
            text=zlib.decompress(fields["text"]).decode(),
            digest=fields["digest"] or b"",
            simhash=int.from_bytes(fields["simhash"] or b"", "big"),
            buckets=buckets,
            anchors=_unpack_hashes(fields["anchors"]),
            skeleton=_unpack_hashes(fields["skeleton"]),
            skeleton_set=None
            if fields["skeleton_set"] is None
            else _unpack_hashes(fields["skeleton_set"]),
        )

    def _next_ids(self, shard: int, count: int) -> list[int]:
        """New article ids of a shard, from blocks this process reserved (one INCRBY per
        block); an id of shard n is n more than a multiple of the shard count."""
        shards = self.keys.shards
        with self._ids_lock:
            found: list[int] = []
            while len(found) < count:
                doc_id = next(self._ids.get(shard, iter(())), None)
                if doc_id is None:
                    (last,) = self._run([("incrby", (self.keys.next_id(shard), ID_BLOCK))],
                                        atomic=False)  # fmt: skip
                    first = int(last) - ID_BLOCK + 1
                    self._ids[shard] = iter(n * shards + shard for n in range(first, int(last) + 1))
                    continue
                found.append(doc_id)
            return found

    def add(self, article: Article) -> tuple[int, bool]:
        """Store an article and every index entry in one atomic script, once per url.

        Returns (id, True) when stored, or (existing id, False) when the url was stored
        already, in which case nothing was written. The article's own id is ignored.
        """
        return self.add_many([article])[0]

    def add_many(self, articles: Sequence[Article]) -> list[tuple[int, bool]]:
        """Store several articles, each atomically in its shard, in one round trip (plus
        one per 64 new ids of a shard); (id, created) for each, as `add` answers."""
        shards = [self.keys.shard_of_url(a.url) for a in articles]
        wanted = Counter(shards)
        ids = {shard: iter(self._next_ids(shard, n)) for shard, n in wanted.items()}
        calls = [
            self._add_call(article, shard, next(ids[shard]))
            for article, shard in zip(articles, shards, strict=True)
        ]
        return [(int(stored_id), bool(created)) for created, stored_id in self._scripts(calls)]

    def _add_call(self, article: Article, shard: int, doc_id: int) -> ScriptCall:
        keys = self.keys
        if doc_id >= 1 << (8 * ID_BYTES):
            raise StoreUnavailable(f"id {doc_id} does not fit the index's {ID_BYTES}-byte ids")
        simhash = article.simhash.to_bytes(8, "big")
        names = [keys.urls(shard), keys.seen(shard), keys.article(doc_id)]
        names += keys.index_keys(shard, article.buckets, article.simhash, article.anchors,
                                 article.skeleton)  # fmt: skip
        packed_id = doc_id.to_bytes(ID_BYTES, "big")
        args: list[Any] = [
            article.url, doc_id, len(article.buckets), SIMHASH_BLOCKS, len(article.anchors),
            len(article.skeleton), self.anchor_cap * ENTRY.size,
            int(article.first_seen_at.timestamp()), packed_id + simhash + _when_bytes(article),
            packed_id,
            ENTRY.pack(doc_id, min(len(article.anchors), MAX_COUNT)),
            ENTRY.pack(doc_id, min(len(article.skeleton), MAX_COUNT)),
            *_packed_fields(article),
        ]  # fmt: skip
        args += [
            "url", article.url, "site", article.site, "title", article.title or "",
            "published_at", article.published_at.isoformat() if article.published_at else "",
            "first_seen_at", article.first_seen_at.isoformat(),
            "canonical_url", article.canonical_url or "",
            "text", zlib.compress(article.text.encode(), 6), "digest", article.digest,
            "simhash", simhash,
            "buckets", bytes([_bucket_width(article.buckets)]) + b"".join(article.buckets),
            "anchors", _pack_hashes(article.anchors),
            "skeleton", _pack_hashes(article.skeleton),
        ]  # fmt: skip
        if article.skeleton_set is not None:  # verification reads it instead of the text
            args += ["skeleton_set", _pack_hashes(article.skeleton_set)]
        return self._add_article, names, args

    def delete(self, record: Article) -> None:
        """Remove the record and every index entry at once (one atomic script)."""
        self.delete_many([record])

    def delete_many(self, records: Sequence[Article]) -> None:
        """Remove several records and all their index entries, each atomically, in one round
        trip."""
        if records:
            self._scripts([self._delete_call(record) for record in records])

    def _delete_call(self, record: Article) -> ScriptCall:
        keys = self.keys
        shard = keys.shard_of_id(record.id)
        names = [keys.article(record.id), keys.seen(shard), keys.urls(shard)]
        names += keys.index_keys(shard, record.buckets, record.simhash, record.anchors,
                                 record.skeleton)  # fmt: skip
        args: list[Any] = [
            record.id, record.url, record.id.to_bytes(ID_BYTES, "big"), len(record.buckets),
            SIMHASH_BLOCKS, len(record.anchors), len(record.skeleton), *_packed_fields(record),
        ]  # fmt: skip
        return self._delete_article, names, args

    def forget_seen(self, doc_ids: Sequence[int]) -> None:
        """Drop ids from the retention sets (their records are gone already)."""
        if doc_ids:
            self._run(
                [("zrem", (self.keys.seen(self.keys.shard_of_id(i)), i)) for i in doc_ids],
                atomic=False,
            )

    def expired(self, before: datetime, limit: int) -> list[int]:
        """Ids of up to `limit` articles first seen before a moment, oldest first."""
        until = f"({before.timestamp()}"
        replies = self._run(
            [
                ("zrangebyscore", (self.keys.seen(shard), "-inf", until, 0, limit, True))
                for shard in range(self.keys.shards)
            ],
            atomic=False,
        )
        oldest = sorted((when, int(i)) for reply in replies for i, when in reply)
        return [doc_id for _, doc_id in oldest[:limit]]

    def count(self) -> int:
        """How many articles are stored."""
        replies = self._run(
            [("hlen", (self.keys.urls(shard),)) for shard in range(self.keys.shards)],
            atomic=False,
        )
        return sum(int(n) for n in replies)


# Record one scanned line once: KEYS = results hash, scan hash; ARGV = line, payload, outcome
# counter ('stored' or 'failed'), 1 when the article was already stored, 1 when it has copies.
# A retried chunk finds the line recorded and changes nothing, so counters always add up.
_RECORD_RESULT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'processed', 1)
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[2], 'already_stored', 1) end
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[2], 'duplicates_found', 1) end
return 1
"""
# Close a chunk (ARGV[1], or '' for none) and, when the upload is sealed and every chunk is
# done, finish the scan. KEYS = scan hash, done set; ARGV = chunk, finished_at.
_FINISH_CHUNK = """
if ARGV[1] ~= '' then redis.call('SADD', KEYS[2], ARGV[1]) end
local scan = redis.call('HMGET', KEYS[1], 'status', 'sealed', 'chunks')
local all_done = redis.call('SCARD', KEYS[2]) >= tonumber(scan[3])
if (scan[1] == 'running' or scan[1] == 'queued') and scan[2] == '1' and all_done then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[2])
end
return redis.call('HGET', KEYS[1], 'status')
"""
SCAN_FIELDS = (
    "status", "total", "processed", "stored", "already_stored", "duplicates_found", "failed",
    "chunks", "sealed", "last_line", "created_at", "started_at", "finished_at", "error",
)  # fmt: skip
SCAN_COUNTERS = ("total", "processed", "stored", "already_stored", "duplicates_found", "failed")


@dataclass(frozen=True, slots=True)
class ScanLine:
    """One input line of a scan: its number, its text, or why it could not be read."""

    line: int
    text: str
    error: str | None = None


class ScanKeys:
    """The keys of one scan, under the index prefix."""

    def __init__(self, prefix: str, scan_id: str) -> None:
        base = f"{prefix}:scan:{{{scan_id}}}"  # one hash tag: its scripts span its keys
        self.scan = base
        self.results = f"{base}:results"
        self.done = f"{base}:done"
        self.attempts = f"{base}:attempts"
        self._base = base

    def chunk(self, number: int) -> str:
        return f"{self._base}:chunk:{number}"

    def lease(self, number: int) -> str:
        return f"{self._base}:lease:{number}"

    def leases_pattern(self) -> str:
        """A SCAN pattern matching the leases of every chunk of this scan."""
        return f"{self._base}:lease:*"


class ScanStore:
    """Batch scans: their state, their input chunks and their per-line results."""

    def __init__(self, client: Client, prefix: str, ttl_seconds: int) -> None:
        self._redis = client
        self.prefix = prefix
        self.index = f"{prefix}:scans"  # zset: scan id -> created time
        self.ttl_seconds = ttl_seconds
        self._record = client.register_script(_RECORD_RESULT)
        self._finish = client.register_script(_FINISH_CHUNK)

    def keys(self, scan_id: str) -> ScanKeys:
        return ScanKeys(self.prefix, scan_id)

    def _call(self, action: Any) -> Any:
        with unavailable_on_failure():
            return action()

    def create(self, scan_id: str, created_at: datetime) -> None:
        keys = self.keys(scan_id)
        fields: dict[EncodableT, EncodableT] = {name: 0 for name in SCAN_COUNTERS}
        fields.update(
            status="queued", chunks=0, sealed=0, last_line=0, created_at=created_at.isoformat()
        )
        # Not one transaction: the list of scans is another key (another cluster slot).
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.scan, mapping=fields)
            pipe.expire(keys.scan, self.ttl_seconds)
            pipe.zadd(self.index, {scan_id: created_at.timestamp()})
            self._call(pipe.execute)

    def add_chunk(self, scan_id: str, number: int, items: list[ScanLine]) -> None:
        """Store one chunk of lines and count them in the total."""
        keys = self.keys(scan_id)
        rows = [(item.line, item.text, item.error) for item in items]
        blob = zlib.compress(json.dumps(rows).encode(), 6)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.chunk(number), blob, ex=self.ttl_seconds)
            pipe.hincrby(keys.scan, "total", len(items))
            pipe.hincrby(keys.scan, "chunks", 1)
            self._call(pipe.execute)

    def seal(self, scan_id: str, last_line: int, finished_at: datetime) -> str:
        """Mark the upload complete; a scan whose chunks are all done (or that has none)
        finishes now. Returns the status."""
        keys = self.keys(scan_id)
        self._call(
            lambda: self._redis.hset(keys.scan, mapping={"sealed": 1, "last_line": last_line})
        )
        return self._close(scan_id, "", finished_at)

    def _close(self, scan_id: str, chunk: str, finished_at: datetime) -> str:
        keys = self.keys(scan_id)
        args = [chunk, finished_at.isoformat()]
        status = self._call(lambda: self._finish(keys=[keys.scan, keys.done], args=args))
        if status == b"done":
            self.expire(scan_id)
        return status.decode() if status else "missing"

    def chunk_items(self, scan_id: str, number: int) -> list[ScanLine] | None:
        blob = self._call(lambda: self._redis.get(self.keys(scan_id).chunk(number)))
        if blob is None:
            return None
        return [
            ScanLine(int(n), text, error) for n, text, error in json.loads(zlib.decompress(blob))
        ]

    def start(self, scan_id: str, started_at: datetime) -> str:
        """Move a queued scan to running (first chunk started); returns the current status."""
        keys = self.keys(scan_id)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(keys.scan, "started_at", started_at.isoformat())
            pipe.hget(keys.scan, "status")
            _, status = self._call(pipe.execute)
        if status == b"queued":
            self._call(lambda: self._redis.hset(keys.scan, "status", "running"))
            return "running"
        return status.decode() if status else "missing"

    def recorded_lines(self, scan_id: str, lines: Sequence[int]) -> set[int]:
        """Which of these lines already have a result (a retried chunk skips them)."""
        if not lines:
            return set()
        values = self._call(lambda: self._redis.hmget(self.keys(scan_id).results, list(lines)))
        return {line for line, value in zip(lines, values, strict=True) if value is not None}

    def record(self, scan_id: str, line: int, payload: dict[str, Any], *, ok: bool,
               already_stored: bool, has_copies: bool) -> bool:  # fmt: skip
        """Record a line's result once; False when it was recorded before."""
        keys = self.keys(scan_id)
        args: list[EncodableT] = [
            line, json.dumps(payload, separators=(",", ":")), "stored" if ok else "failed",
            int(already_stored), int(has_copies),
        ]  # fmt: skip
        return bool(self._call(lambda: self._record(keys=[keys.results, keys.scan], args=args)))

    def finish_chunk(self, scan_id: str, number: int, finished_at: datetime) -> str:
        """Mark a chunk done; returns the scan's status ('done' after its last chunk)."""
        return self._close(scan_id, str(number), finished_at)

    def expire(self, scan_id: str) -> None:
        """Give every key of a finished scan the retention TTL; chunks are no longer needed."""
        keys = self.keys(scan_id)
        chunks = int(self._call(lambda: self._redis.hget(keys.scan, "chunks")) or 0)
        with self._redis.pipeline(transaction=False) as pipe:
            for key in (keys.scan, keys.results, keys.done, keys.attempts):
                pipe.expire(key, self.ttl_seconds)
            for number in range(chunks):
                pipe.delete(keys.chunk(number))
            self._call(pipe.execute)

    def get(self, scan_id: str) -> dict[str, str] | None:
        raw = self._call(lambda: self._redis.hmget(self.keys(scan_id).scan, list(SCAN_FIELDS)))
        if raw[0] is None:
            return None
        return {name: (value or b"").decode() for name, value in zip(SCAN_FIELDS, raw, strict=True)}

    def cancel(self, scan_id: str, finished_at: datetime) -> str:
        keys = self.keys(scan_id)
        status = self._call(lambda: self._redis.hget(keys.scan, "status"))
        if status in (b"queued", b"running"):
            cancelled: dict[EncodableT, EncodableT] = {
                "status": "cancelled",
                "finished_at": finished_at.isoformat(),
            }
            self._call(lambda: self._redis.hset(keys.scan, mapping=cancelled))
            self.expire(scan_id)
            return "cancelled"
        return status.decode() if status else "missing"

    def status(self, scan_id: str) -> str:
        status = self._call(lambda: self._redis.hget(self.keys(scan_id).scan, "status"))
        return status.decode() if status else "missing"

    def results(
        self, scan_id: str, after_line: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `limit` results in line order after a line number, and the next cursor
        (None when no line after the page exists)."""
        keys = self.keys(scan_id)
        last_line = int(self._call(lambda: self._redis.hget(keys.scan, "last_line")) or 0)
        found: list[dict[str, Any]] = []
        cursor = after_line
        while len(found) < limit and cursor < last_line:
            window = list(range(cursor + 1, min(cursor + 1 + limit, last_line + 1)))
            values = self._call(lambda w=window: self._redis.hmget(keys.results, w))
            for line, value in zip(window, values, strict=True):
                cursor = line
                if value is not None:
                    found.append(json.loads(value))
                    if len(found) == limit:
                        break
        return found, (cursor if cursor < last_line else None)

    def recent(self, limit: int) -> list[str]:
        ids = self._call(lambda: self._redis.zrevrange(self.index, 0, limit - 1))
        return [i.decode() for i in ids]

    def hold_lease(self, scan_id: str, number: int, owner: str, seconds: int) -> None:
        self._call(lambda: self._redis.set(self.keys(scan_id).lease(number), owner, ex=seconds))

    def release_lease(self, scan_id: str, number: int) -> None:
        self._call(lambda: self._redis.delete(self.keys(scan_id).lease(number)))

    def open_chunks(self, scan_id: str) -> list[tuple[int, bool]]:
        """(chunk, leased) for each chunk of a running scan that is not done."""
        keys = self.keys(scan_id)
        chunks = int(self._call(lambda: self._redis.hget(keys.scan, "chunks")) or 0)
        done = {int(n) for n in self._call(lambda: self._redis.smembers(keys.done))}
        open_ = [n for n in range(chunks) if n not in done]
        if not open_:
            return []
        leased = self._call(lambda: self._redis.mget([keys.lease(n) for n in open_]))
        return [(n, lease is not None) for n, lease in zip(open_, leased, strict=True)]

    def unclaimed(self, scan_id: str, number: int) -> bool:
        """Whether a chunk is neither done nor leased, both read at one moment. A worker marks
        its chunk done before it lets go of the lease, so such a chunk has not been taken
        yet, or its worker died; `open_chunks` reads the two apart, so a chunk that a worker
        finished in between looks abandoned there."""
        keys = self.keys(scan_id)
        with unavailable_on_failure(), self._redis.pipeline(transaction=True) as pipe:
            pipe.sismember(keys.done, str(number))
            pipe.exists(keys.lease(number))
            done, leased = pipe.execute()
        return not done and not leased

    def attempt(self, scan_id: str, number: int) -> int:
        value = self._call(lambda: self._redis.hget(self.keys(scan_id).attempts, str(number)))
        return int(value or 0)

    def fail(self, scan_id: str, reason: str, finished_at: datetime) -> None:
        failed: dict[EncodableT, EncodableT] = {
            "status": "failed",
            "error": reason,
            "finished_at": finished_at.isoformat(),
        }
        self._call(lambda: self._redis.hset(self.keys(scan_id).scan, mapping=failed))
        self.expire(scan_id)

    def next_attempt(self, scan_id: str, number: int) -> int:
        return int(
            self._call(lambda: self._redis.hincrby(self.keys(scan_id).attempts, str(number), 1))
        )

    def running(self) -> list[str]:
        """Ids of recent scans still queued or running (for the reaper)."""
        ids = self.recent(200)
        with unavailable_on_failure(), self._redis.pipeline(transaction=False) as pipe:
            for scan_id in ids:
                pipe.hget(self.keys(scan_id).scan, "status")
            statuses = pipe.execute()
        return [i for i, s in zip(ids, statuses, strict=True) if s in (b"queued", b"running")]


# Count one article into its site's figures once: KEYS = done set, site hash, source edges
# zset (this site -> sources), copier edges zset (source -> copiers); ARGV = article id,
# 1 if it copies another site's article, 1 if the copy credits its source, source site.
# Count one observed article into its site's sums, once (KEYS[1] is the set of counted ids).
# KEYS = counted, site hash, site sources, source copiers, site lags, site hours, source's
# copied set, source hash, site examples, edge hash, sites by size, sites by score;
# ARGV = id, is copy, credited, source site, site, lag, hour, copy type, marker kinds
# (comma-separated), source id, epoch seconds, example, examples kept, fast lag.
_COUNT_ARTICLE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
local site, when = KEYS[2], tonumber(ARGV[11])
redis.call('HINCRBY', site, 'articles', 1)
redis.call('HINCRBY', site, 'version', 1)
local first = tonumber(redis.call('HGET', site, 'first_seen') or '')
if not first or when < first then redis.call('HSET', site, 'first_seen', when) end
local last = tonumber(redis.call('HGET', site, 'last_seen') or '')
if not last or when > last then redis.call('HSET', site, 'last_seen', when) end
redis.call('HINCRBY', KEYS[6], ARGV[7], 1)
for kind in string.gmatch(ARGV[9], '[^,]+') do redis.call('HINCRBY', site, 'marker:' .. kind, 1) end
redis.call('ZINCRBY', KEYS[11], 1, ARGV[5])
redis.call('ZADD', KEYS[12], 'NX', 0, ARGV[5])
if ARGV[2] == '1' then
  local lag = tonumber(ARGV[6])
  redis.call('HINCRBY', site, 'copies', 1)
  if ARGV[3] == '1' then redis.call('HINCRBY', site, 'credited_copies', 1) end
  if lag <= tonumber(ARGV[14]) then redis.call('HINCRBY', site, 'fast_copies', 1) end
  if ARGV[8] ~= '' then redis.call('HINCRBY', site, 'type:' .. ARGV[8], 1) end
  redis.call('ZINCRBY', KEYS[3], 1, ARGV[4])
  redis.call('ZINCRBY', KEYS[4], 1, ARGV[5])
  redis.call('ZADD', KEYS[5], lag, ARGV[1])
  if redis.call('SADD', KEYS[7], ARGV[10]) == 1 then redis.call('HINCRBY', KEYS[8], 'copied', 1) end
  redis.call('HINCRBY', KEYS[8], 'version', 1)
  redis.call('LPUSH', KEYS[9], ARGV[12])
  redis.call('LTRIM', KEYS[9], 0, tonumber(ARGV[13]) - 1)
  redis.call('HINCRBY', KEYS[10], 'copies', 1)
  redis.call('HINCRBY', KEYS[10], 'credited', tonumber(ARGV[3]))
  redis.call('HINCRBY', KEYS[10], 'lag_seconds', lag)
end
return 1
"""
# A site's sums in one reply: KEYS = site hash, lags, hours, sources, copiers.
_SITE_FIGURES = """
local n = redis.call('ZCARD', KEYS[2])
local median, p90 = false, false
local function at(q)
  local rank = math.floor((n - 1) * q)
  return redis.call('ZRANGE', KEYS[2], rank, rank, 'WITHSCORES')[2]
end
if n > 0 then median, p90 = at(0.5), at(0.9) end
local hours, busiest = redis.call('HVALS', KEYS[3]), 0
for _, v in ipairs(hours) do if tonumber(v) > busiest then busiest = tonumber(v) end end
return {redis.call('HGETALL', KEYS[1]), median, p90, #hours, busiest,
        redis.call('ZREVRANGE', KEYS[4], 0, -1, 'WITHSCORES'),
        redis.call('ZREVRANGE', KEYS[5], 0, -1, 'WITHSCORES')}
"""
# Write a site's score only if its sums have not changed since they were read.
_SET_SCORE = """
if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
EXAMPLES_KEPT = 50  # recent copies kept per site as dossier examples


@dataclass(frozen=True, slots=True)
class Example:
    """A copy a site published, with its original: the evidence behind a site's score."""

    article_id: int
    source_id: int
    source_site: str
    copy_type: str | None
    credited: bool
    lag_seconds: int


@dataclass(frozen=True, slots=True)
class Edge:
    """Copies from one site (copier) of another's (source) articles."""

    copier: str
    source: str
    copies: int
    credited: int
    mean_lag_seconds: float


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    return {_str(flat[i]): _str(flat[i + 1]) for i in range(0, len(flat), 2)}


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _moment(epoch: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else None


class SiteStore:
    """Per-site sums, examples and the copy graph, counted once per article by follow-ups."""

    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self.prefix = prefix
        self._count = client.register_script(_COUNT_ARTICLE)
        self._figures = client.register_script(_SITE_FIGURES)
        self._set_score = client.register_script(_SET_SCORE)
        self.base = f"{prefix}:{{sites}}"  # one hash tag: a count touches two sites at once
        self.by_size = self.base
        self.by_score = f"{self.base}:score"
        self.counted = f"{self.base}:counted"

    def _site(self, site: str) -> str:
        return f"{self.base}:site:{site}"

    def _edge(self, copier: str, source: str) -> str:
        return f"{self.base}:edge:{copier}|{source}"

    def count(self, seen: Observation) -> bool:
        """Count an observed article into its site's sums (and the edge to its source), once.
        Returns False when it was counted before."""
        source = seen.source_site or seen.site
        example = json.dumps(
            [seen.article_id, seen.source_id, source, seen.copy_type, seen.credited,
             seen.lag_seconds]
        )  # fmt: skip
        keys = [
            self.counted, self._site(seen.site),
            f"{self._site(seen.site)}:sources", f"{self._site(source)}:copiers",
            f"{self._site(seen.site)}:lags", f"{self._site(seen.site)}:hours",
            f"{self._site(source)}:copied", self._site(source),
            f"{self._site(seen.site)}:examples", self._edge(seen.site, source),
            self.by_size, self.by_score,
        ]  # fmt: skip
        args: list[EncodableT] = [
            seen.article_id, int(seen.is_copy), int(seen.credited), source, seen.site,
            seen.lag_seconds or 0, hour_of(seen.when), seen.copy_type or "",
            ",".join(seen.marker_kinds), seen.source_id or 0, int(seen.when.timestamp()),
            example, EXAMPLES_KEPT, FAST_LAG_SECONDS,
        ]  # fmt: skip
        with unavailable_on_failure():
            return bool(self._count(keys=keys, args=args))

    def figures(self, site: str) -> tuple[SiteFigures, str]:
        """A site's sums (all zero for an unknown site) and their version."""
        base = self._site(site)
        keys = [base, f"{base}:lags", f"{base}:hours", f"{base}:sources", f"{base}:copiers"]
        with unavailable_on_failure():
            raw, median, p90, hours, busiest, sources, copiers = self._figures(keys=keys)
        fields = _pairs(raw)

        def number(name: str) -> int:
            return int(fields.get(name, 0))

        return SiteFigures(
            site=site,
            articles=number("articles"),
            copies=number("copies"),
            credited_copies=number("credited_copies"),
            fast_copies=number("fast_copies"),
            copied=number("copied"),
            copy_types={k[5:]: int(v) for k, v in fields.items() if k.startswith("type:")},
            markers={k[7:]: int(v) for k, v in fields.items() if k.startswith("marker:")},
            lag_median_seconds=int(float(median)) if median else None,
            lag_p90_seconds=int(float(p90)) if p90 else None,
            sources={k: int(float(v)) for k, v in _pairs(sources).items()},
            copiers={k: int(float(v)) for k, v in _pairs(copiers).items()},
            first_seen=_moment(fields.get("first_seen")),
            last_seen=_moment(fields.get("last_seen")),
            active_hours=int(hours),
            busiest_hour=int(busiest),
        ), fields.get("version", "0")

    def rescore(self, site: str, score_of: Callable[[SiteFigures], float]) -> float:
        """Recompute a site's stored score from its sums; retried until no other count
        changed them in between, so the stored score always matches the final sums."""
        for _ in range(10):
            figures, version = self.figures(site)
            value = score_of(figures)
            with unavailable_on_failure():
                if self._set_score(keys=[self._site(site), self.by_score],
                                   args=[version, value, site]):  # fmt: skip
                    return value
        return value

    def ranked(self, min_articles: int, offset: int, limit: int) -> tuple[list[str], int]:
        """(sites by stored farm score, highest first, with at least `min_articles`, one
        page; how many sites pass the filter)."""
        with unavailable_on_failure(), self._redis.pipeline(transaction=False) as pipe:
            pipe.zrevrange(self.by_score, 0, -1)
            pipe.zrangebyscore(self.by_size, min_articles, "+inf")
            ordered, big_enough = pipe.execute()
        keep = {_str(s) for s in big_enough}
        passing = [_str(s) for s in ordered if _str(s) in keep]
        return passing[offset : offset + limit], len(passing)

    def forget(self, articles: Sequence[tuple[int, str]]) -> None:
        """Drop evicted (id, site) articles from the per-article parts of the site sums (the
        counted set and the lag sets); the totals and the copy graph keep their history."""
        with unavailable_on_failure(), self._redis.pipeline(transaction=False) as pipe:
            for doc_id, site in articles:
                pipe.srem(self.counted, doc_id)
                pipe.zrem(f"{self._site(site)}:lags", doc_id)
            pipe.execute()

    def examples(self, site: str) -> list[Example]:
        with unavailable_on_failure():
            raw = self._redis.lrange(f"{self._site(site)}:examples", 0, -1)
        return [Example(*json.loads(item)) for item in raw]

    def edges(self, site: str, direction: str) -> list[Edge]:
        """Copy edges out of a site (direction 'sources') or into it ('copiers'), most
        copies first."""
        figures, _ = self.figures(site)
        others = figures.sources if direction == "sources" else figures.copiers
        pairs = [(site, o) if direction == "sources" else (o, site) for o in others]
        with unavailable_on_failure(), self._redis.pipeline(transaction=False) as pipe:
            for copier, source in pairs:
                pipe.hgetall(self._edge(copier, source))
            replies = pipe.execute()
        edges = []
        for (copier, source), raw in zip(pairs, replies, strict=True):
            fields = {_str(k): _str(v) for k, v in raw.items()}
            copies = int(fields.get("copies", 0))
            edges.append(
                Edge(copier, source, copies, int(fields.get("credited", 0)),
                     share(int(fields.get("lag_seconds", 0)), copies))
            )  # fmt: skip
        return sorted(edges, key=lambda e: (-e.copies, e.copier, e.source))
