"""Every Redis key name, spelled from the key prefix in one place.

Layout of shard n of an index under the prefix P (ids are integers; id % shards = n):

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
    P:{n}:w:<group>          hash  content word of a short text (low 6 bytes) -> (id, that
                                   text's count of content words) entries
    P:{n}:n:<group>          hash  translingual name pair (low 6 bytes) -> (id, that text's
                                   language as two letters) entries (cross-language path)

Lead vectors (the cross-language candidate path, `core.semantic`), by the day an article
goes by (published, else first seen; epoch days), under the tag {leads}:

    P:{leads}:<day>          list  (id, language, lead vector) entries, in the order added;
                                   a deleted article's entry stays until its day's list is
                                   dropped (its record is gone: it is never a candidate)
    P:{leads}:days           zset  the days that have a list (retention drops the lists of
                                   days before its window, less DEDUP_SEMANTIC_WINDOW_DAYS)

Sites, all under the tag {sites} (the count script touches two sites and their edge at once).
A site name is the user's text: in a key it is written by `encode` (letters, digits, '.', '-'
and '_' as they are, every other byte of its UTF-8 as %XX), so no two names, and no name and
another name's key, ever share a key (`victim.example:lags` is `victim.example%3Alags`):

    P:{sites}:counted        set   ids already counted
    P:{sites}:copy_counted   set   of those, the ids counted as copies (a late original's
                                   copies are counted once more, as copies only)
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

Access (API keys and their quotas), under the tag {access}; a key is known by the SHA-256
of its secret, never by the secret itself:

    P:{access}:keys                 hash  key name -> its digest (hex)
    P:{access}:key:<digest>         hash  name, scopes, created_at, requests_per_minute,
                                          articles_per_day ('' for the deployment's default)
    P:{access}:use:<digest>:m:<n>   int   requests in minute n (epoch minutes; expires)
    P:{access}:use:<digest>:d:<n>   int   articles in day n (epoch days; expires)

A deployment's policy, under the tag {policy}:

    P:{policy}:watched / :excluded  set   site names watched / never named as copies
    P:{policy}:phrases              hash  phrase id -> boilerplate phrase ignored in matching
    P:{policy}:version              int   bumped by every change (processes read it to refresh)

Webhooks, under the tag {hooks}:

    P:{hooks}:hooks                 hash  webhook id -> JSON (url, events, secret, ...)
    P:{hooks}:log:<hook id>         list  JSON delivery attempts, newest first (capped)
    P:{hooks}:delivery:<id>         str   JSON of a delivery still to make (expires)
    P:{hooks}:due                   zset  delivery id -> when its next attempt is due
    P:{hooks}:sent:<event key>      str   set once an event was emitted (expires)
    P:{hooks}:stats                 hash  delivered, failed (attempts), given_up

Saved reports, under the tag {reports} (kept until deleted; the token is made by the service,
and written by `encode` all the same):

    P:{reports}:<token>             hash  article id, made_at, html (zlib): the report page as
                                          it was when saved, served at /reports/<token>

Totals for the metrics: P:{sites}:totals, hash: articles, copies:<copy type> (counted with
the site sums, once per article).
"""

import numpy as np
import xxhash

from dedup.core.signatures import SIMHASH_BLOCKS, simhash_blocks
from dedup.store.codecs import IndexEntries

SIMHASH_GROUP_SHIFT = 8  # a SimHash block value's top 8 bits name its group (256 a block)
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def encode(text: str) -> str:
    """A user's string as a part of a key name: ASCII letters, digits, '.', '-' and '_' as
    they are, every other byte of its UTF-8 (':', '|', '{', '%', spaces, ...) as %XX. One to
    one, and the result never holds a separator, so keys made of parts cannot collide.

    >>> encode("bbc.co.uk"), encode("victim.example:lags"), encode("a|b{c}%")
    ('bbc.co.uk', 'victim.example%3Alags', 'a%7Cb%7Bc%7D%25')
    """
    raw = text.encode("utf-8", "surrogatepass")
    if all(byte in _PLAIN for byte in raw):
        return text
    return "".join(chr(byte) if byte in _PLAIN else f"%{byte:02X}" for byte in raw)


class Keys:
    """The keys of one index, from its prefix, its shard count and how many top bits of an
    index entry's hash name its group."""

    def __init__(self, prefix: str, shards: int = 1, group_bits: int = 16) -> None:
        self.prefix = prefix
        self.shards = shards
        self.group_bits = group_bits
        self.meta = f"{prefix}:meta"

    def shard_of_url(self, url: str) -> int:
        return xxhash.xxh3_64_intdigest(url.encode()) % self.shards if self.shards > 1 else 0

    def shard_of_id(self, doc_id: int) -> int:
        return doc_id % self.shards

    def tag(self, shard: int) -> str:
        """The hash tag every key of a shard starts with (one cluster slot holds them)."""
        return f"{self.prefix}:{{{shard}}}"

    def next_id(self, shard: int) -> str:
        return f"{self.tag(shard)}:next_id"

    def urls(self, shard: int) -> str:
        return f"{self.tag(shard)}:urls"

    def seen(self, shard: int) -> str:
        return f"{self.tag(shard)}:seen"

    def article(self, doc_id: int) -> str:
        return f"{self.tag(self.shard_of_id(doc_id))}:a:{doc_id}"

    def leads(self, day: int) -> str:
        """The lead vectors of the articles of one day (epoch days), in the order added."""
        return f"{self.prefix}:{{leads}}:{day}"

    def lead_days(self) -> str:
        """The days that have a list of leads (member and score: the day)."""
        return f"{self.prefix}:{{leads}}:days"

    def index_groups(self, entries: IndexEntries) -> list[int]:
        """The number of each index group of these entries, in the order every script takes
        them (`groups`): a band bucket's first 4 bytes and an anchor's, skeleton 3-gram's,
        word's or name pair's hash keep their top `group_bits` bits, a SimHash block value
        its top 8."""
        low = 32 - self.group_bits
        high = 64 - self.group_bits
        groups = [int.from_bytes(bucket[:4], "big") >> low for bucket in entries.buckets]
        groups += [v >> SIMHASH_GROUP_SHIFT for v in simhash_blocks(entries.simhash)]
        for kind in (entries.anchors, entries.skeleton, entries.words, entries.pairs):
            groups += [value >> high for value in kind]
        return groups

    def index_keys(self, shard: int, entries: IndexEntries) -> list[str]:
        """A shard's band groups, SimHash hashes, anchor, skeleton, word and name-pair groups
        for these entries, in the order every script takes them (`groups`). add_article.lua
        spells the same names from `packed_groups`."""
        tag, groups = self.tag(shard), iter(self.index_groups(entries))
        names = [f"{tag}:l:{band}:{next(groups):x}" for band in range(len(entries.buckets))]
        names += [f"{tag}:s:{block}:{next(groups):02x}" for block in range(SIMHASH_BLOCKS)]
        for letter, kind in zip(
            "xkwn", (entries.anchors, entries.skeleton, entries.words, entries.pairs), strict=True
        ):
            names += [f"{tag}:{letter}:{next(groups):x}" for _ in kind]
        return names

    def packed_groups(self, entries: IndexEntries) -> bytes:
        """`index_groups` packed 4 bytes (big-endian) a group, as add_article.lua reads them."""
        return np.array(self.index_groups(entries), dtype=">u4").tobytes()


class SiteKeys:
    """The keys of the per-site sums and the copy graph (one hash tag for all of them)."""

    def __init__(self, prefix: str) -> None:
        self.base = f"{prefix}:{{sites}}"
        self.by_size = self.base
        self.by_score = f"{self.base}:score"
        self.counted = f"{self.base}:counted"
        self.copy_counted = f"{self.base}:copy_counted"  # counted articles counted as copies
        self.totals = f"{self.base}:totals"

    def site(self, site: str) -> str:
        return f"{self.base}:site:{encode(site)}"

    def part(self, site: str, part: str) -> str:
        """One of a site's keys besides its sums: lags, hours, sources, copiers, copied,
        examples."""
        return f"{self.site(site)}:{part}"

    def edge(self, copier: str, source: str) -> str:
        return f"{self.base}:edge:{encode(copier)}|{encode(source)}"


class ScanKeys:
    """The keys of one scan, under the index prefix (one hash tag: its scripts span them)."""

    def __init__(self, prefix: str, scan_id: str) -> None:
        self._base = f"{prefix}:scan:{{{scan_id}}}"
        self.scan = self._base
        self.results = f"{self._base}:results"
        self.done = f"{self._base}:done"
        self.attempts = f"{self._base}:attempts"

    def chunk(self, number: int) -> str:
        return f"{self._base}:chunk:{number}"

    def lease(self, number: int) -> str:
        return f"{self._base}:lease:{number}"


def scans_index(prefix: str) -> str:
    """The zset of every scan of an index: scan id -> created time."""
    return f"{prefix}:scans"


class AccessKeys:
    """The keys of the API keys and their quotas (one hash tag: the script spans them)."""

    def __init__(self, prefix: str) -> None:
        self.base = f"{prefix}:{{access}}"
        self.names = f"{self.base}:keys"

    def key(self, digest: str) -> str:
        return f"{self.base}:key:{digest}"

    def minute(self, digest: str, minute: int) -> str:
        return f"{self.base}:use:{digest}:m:{minute}"

    def day(self, digest: str, day: int) -> str:
        return f"{self.base}:use:{digest}:d:{day}"

    def session(self, digest: str) -> str:
        """A page session, by the SHA-256 of its cookie: string -> the key's digest."""
        return f"{self.base}:session:{digest}"


class PolicyKeys:
    """The keys of a deployment's watched sites and exclusions."""

    def __init__(self, prefix: str) -> None:
        base = f"{prefix}:{{policy}}"
        self.watched = f"{base}:watched"
        self.excluded = f"{base}:excluded"
        self.phrases = f"{base}:phrases"
        self.version = f"{base}:version"


class HookKeys:
    """The keys of the webhooks and their deliveries."""

    def __init__(self, prefix: str) -> None:
        self.base = f"{prefix}:{{hooks}}"
        self.hooks = f"{self.base}:hooks"
        self.due = f"{self.base}:due"
        self.stats = f"{self.base}:stats"

    def log(self, hook_id: str) -> str:
        return f"{self.base}:log:{encode(hook_id)}"

    def delivery(self, delivery_id: str) -> str:
        return f"{self.base}:delivery:{encode(delivery_id)}"

    def sent(self, event_key: str) -> str:
        return f"{self.base}:sent:{encode(event_key)}"


def report(prefix: str, token: str) -> str:
    """The key of one saved report."""
    return f"{prefix}:{{reports}}:{encode(token)}"
