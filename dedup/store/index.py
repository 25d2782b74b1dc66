"""The index and the article records: every step one round trip.

Articles are partitioned into `shards` (DEDUP_SHARDS; an index parameter): an article, its
url claim and all its index entries live in the shard its url hashes to, and every key of a
shard carries the hash tag `{n}`. So storing or deleting an article is one atomic script in
one Redis Cluster slot, and a query is one lookup script per shard, all in one pipeline. On a
single server one shard is enough; on a cluster, several per master spread the slots. Index
entries are grouped into hashes by the top `group_bits` of their hash, as fields with packed
values, instead of one key each: a key costs Redis ~80 bytes before its value, a field of a
small hash (listpack encoded) about a tenth of that. The layout is in `keys.py`.
"""

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import redis

from dedup.core.article import Article
from dedup.core.candidates import Lookup
from dedup.core.language import language_code
from dedup.core.signatures import SIMHASH_MAX_DISTANCE
from dedup.errors import IndexMismatch, StoreUnavailable
from dedup.store.client import Client, ScriptCall, run_commands, run_scripts
from dedup.store.codecs import (
    ENTRY,
    ID_BYTES,
    LAYOUT,
    MAX_COUNT,
    RECORD_FIELDS,
    IndexEntries,
    article_of,
    epoch_seconds,
    near_simhashes,
    record_pairs,
    tally,
    time_or_none,
)
from dedup.store.keys import Keys
from dedup.store.leads import Leads
from dedup.store.scripts import StoreScript

ID_BLOCK = 64  # ids reserved per round trip; unused ones are skipped, so ids may have gaps


# A name pair shared by this many articles (two years, a minister and her party) says little
# about which one a translation came from: its field stops growing, and a lookup reads at
# most this many entries of it.
NAME_PAIR_CAP = 16


class Store:
    """The index and the article records of one key prefix on one Redis (or Redis Cluster)."""

    def __init__(
        self,
        client: Client,
        prefix: str,
        anchor_cap: int = 64,
        shards: int = 1,
        group_bits: int = 16,
    ) -> None:
        self._redis = client
        self.keys = Keys(prefix, shards, group_bits)
        self.anchor_cap = anchor_cap
        self._add = StoreScript(client, "add_article")
        self._delete = StoreScript(client, "delete_article")
        self._lookup = StoreScript(client, "lookup")
        self._read = StoreScript(client, "read_fields")
        self._ids: dict[int, Iterator[int]] = {}
        self._ids_lock = threading.Lock()
        self.leads = Leads(client, self.keys)

    @property
    def params(self) -> dict[str, str]:
        """The layout parameters an index is built with (recorded with the signatures')."""
        return {
            "layout": LAYOUT,
            "shards": str(self.keys.shards),
            "index_group_bits": str(self.keys.group_bits),
        }

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    def ensure_params(self, params: dict[str, str]) -> None:
        """Record the index parameters, or fail if the index was built with others.

        Signatures made with other parameters never match, and records laid out in other
        keys are not found: mixing them silently loses recall.
        """
        wanted = {**params, **self.params}
        meta = self.keys.meta
        stored = run_commands(self._redis, [("hgetall", (meta,))], atomic=False)[0]
        if stored and b"layout" not in stored:
            stored[b"layout"] = b"1"  # the first release recorded no layout
        else:
            writes = [("hsetnx", (meta, k, v)) for k, v in wanted.items()]
            run_commands(self._redis, writes, atomic=True)
            stored = run_commands(self._redis, [("hgetall", (meta,))], atomic=False)[0]
        stored_params = {k.decode(): v.decode() for k, v in stored.items()}
        differ = {
            k: (stored_params.get(k, "unset"), v)
            for k, v in wanted.items()
            if stored_params.get(k) != v
        }
        if differ:
            detail = ", ".join(
                f"{k} is {old} in the index but {new} now" for k, (old, new) in differ.items()
            )
            raise IndexMismatch(
                f"index '{self.keys.prefix}' was built with other parameters ({detail}); "
                "set them back, or use a new DEDUP_KEY_PREFIX for a new index"
            )

    def lookup(self, url: str | None, entries: IndexEntries) -> Lookup:
        """Candidates from LSH bands, SimHash blocks, anchors and skeleton anchors, and the
        url's id: one lookup script per shard, all in one round trip. Each reads the band
        buckets, every SimHash block (candidates beyond the Hamming bound are dropped here)
        and the entries of every anchor and skeleton anchor with each article's own count."""
        keys = self.keys
        counts, fields = entries.counts(), entries.fields()
        url_shard = keys.shard_of_url(url) if url else -1
        calls: list[ScriptCall] = []
        packed = keys.packed_groups(entries)
        for shard in range(keys.shards):
            probe_url = shard == url_shard
            args = {
                "tag": keys.tag(shard),
                "group_ids": packed,
                **counts,
                **fields,
                "url": url if probe_url else "",
            }
            calls.append((self._lookup, {"urls": keys.urls(shard)}, args))
        replies = run_scripts(self._redis, calls)  # shards hold disjoint ids: replies just join
        bands, blocks, anchored, skeletal, worded, named = (
            b"".join(r[k] for r in replies) for k in range(6)
        )
        found = [int(reply[6]) for reply in replies if reply[6]]
        near, near_times = near_simhashes(blocks, entries.simhash, SIMHASH_MAX_DISTANCE)
        return Lookup(
            url_id=found[0] if found else None,
            band_ids=np.frombuffer(bands, dtype=">u4").astype(np.int64),
            simhash_hits=near,
            near_times=near_times,
            anchors=tally(anchored),
            skeleton=tally(skeletal),
            words=tally(worded),
            names=tally(named),
        )

    def fetch(self, doc_ids: Sequence[int]) -> list[Article | None]:
        """The records of these ids (None where gone): one round trip."""
        values = self._fields_of(doc_ids, RECORD_FIELDS)
        return [article_of(i, v) for i, v in zip(doc_ids, values, strict=True)]

    def dates(self, doc_ids: Sequence[int]) -> list[int | None]:
        """When each article was published (else first seen), epoch seconds as the index
        keeps them, None where gone: one round trip that reads no text."""
        values = self._fields_of(doc_ids, ("published_at", "first_seen_at"))
        moments = [time_or_none(published or seen) for published, seen in values]
        return [None if m is None else epoch_seconds(m) for m in moments]

    def _fields_of(self, doc_ids: Sequence[int], fields: Sequence[str]) -> list[list[Any]]:
        """These fields of each record, in one script per shard and one round trip (a
        pipeline of one HMGET per record cost the client ~30 us a reply to read: ~3 ms for
        the 100 candidates of a story copied hundreds of times)."""
        by_shard: dict[int, list[int]] = {}
        for doc_id in doc_ids:
            by_shard.setdefault(self.keys.shard_of_id(doc_id), []).append(doc_id)
        calls: list[ScriptCall] = [
            (self._read, {"records": [self.keys.article(i) for i in ids]}, {"fields": fields})
            for ids in by_shard.values()
        ]
        width = len(fields)
        found: dict[int, list[Any]] = {}
        for ids, flat in zip(by_shard.values(), run_scripts(self._redis, calls), strict=True):
            found.update((i, flat[k * width : (k + 1) * width]) for k, i in enumerate(ids))
        return [found[i] for i in doc_ids]

    def _next_ids(self, shard: int, count: int) -> list[int]:
        """New article ids of a shard, from blocks this process reserved (one INCRBY per
        block); an id of shard n is n more than a multiple of the shard count."""
        shards = self.keys.shards
        with self._ids_lock:
            found: list[int] = []
            while len(found) < count:
                doc_id = next(self._ids.get(shard, iter(())), None)
                if doc_id is None:
                    reserve = [("incrby", (self.keys.next_id(shard), ID_BLOCK))]
                    (last,) = run_commands(self._redis, reserve, atomic=False)
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
        ids = {shard: iter(self._next_ids(shard, n)) for shard, n in Counter(shards).items()}
        calls = [
            self._add_call(article, shard, next(ids[shard]))
            for article, shard in zip(articles, shards, strict=True)
        ]
        return [(int(stored), bool(created)) for created, stored in run_scripts(self._redis, calls)]

    def _add_call(self, article: Article, shard: int, doc_id: int) -> ScriptCall:
        keys = self.keys
        if doc_id >= 1 << (8 * ID_BYTES):
            raise StoreUnavailable(f"id {doc_id} does not fit the index's {ID_BYTES}-byte ids")
        id_entry = doc_id.to_bytes(ID_BYTES, "big")
        when = epoch_seconds(article.when).to_bytes(4, "big")
        entries = IndexEntries.of(article)
        args = {
            "url": article.url,
            "id": doc_id,
            "tag": keys.tag(shard),
            "group_ids": keys.packed_groups(entries),
            **entries.counts(),
            "cap": self.anchor_cap * ENTRY.size,
            "name_cap": NAME_PAIR_CAP * ENTRY.size,
            "first_seen": int(article.first_seen_at.timestamp()),
            "simhash_entry": id_entry + article.simhash.to_bytes(8, "big") + when,
            "id_entry": id_entry,
            "anchor_entry": ENTRY.pack(doc_id, min(article.anchor_grams, MAX_COUNT)),
            "skeleton_entry": ENTRY.pack(doc_id, min(len(article.skeleton), MAX_COUNT)),
            "word_entry": ENTRY.pack(doc_id, min(len(article.word_anchors), MAX_COUNT)),
            # A name-pair entry carries the article's language instead of a count.
            "name_entry": ENTRY.pack(doc_id, language_code(article.language)),
            **entries.fields(),
            "pairs": record_pairs(article),
        }
        names = {
            "urls": keys.urls(shard),
            "seen": keys.seen(shard),
            "record": keys.article(doc_id),
        }
        return self._add, names, args

    def delete(self, record: Article) -> None:
        """Remove the record and every index entry at once (one atomic script). The record's
        `name_pairs` must be set (`fetch` leaves them empty: they are worked out of the text
        by the caller, `Detector.delete`)."""
        self.delete_many([record])

    def delete_many(self, records: Sequence[Article]) -> None:
        """Remove several records and all their index entries, each atomically, in one round
        trip."""
        run_scripts(self._redis, [self._delete_call(record) for record in records])

    def _delete_call(self, record: Article) -> ScriptCall:
        keys = self.keys
        shard = keys.shard_of_id(record.id)
        entries = IndexEntries.of(record)
        names = {
            "record": keys.article(record.id),
            "seen": keys.seen(shard),
            "urls": keys.urls(shard),
            "groups": keys.index_keys(shard, entries),
        }
        args = {
            "id": record.id,
            "url": record.url,
            "id_entry": record.id.to_bytes(ID_BYTES, "big"),
            **entries.counts(),
            **entries.fields(),
        }
        return self._delete, names, args

    def forget_seen(self, doc_ids: Sequence[int]) -> None:
        """Drop ids from the retention sets (their records are gone already)."""
        if doc_ids:
            commands = [("zrem", (self.keys.seen(self.keys.shard_of_id(i)), i)) for i in doc_ids]
            run_commands(self._redis, commands, atomic=False)

    def expired(self, before: datetime, limit: int) -> list[int]:
        """Ids of up to `limit` articles first seen before a moment, oldest first."""
        until = f"({before.timestamp()}"
        commands = [
            ("zrangebyscore", (self.keys.seen(shard), "-inf", until, 0, limit, True))
            for shard in range(self.keys.shards)
        ]
        replies = run_commands(self._redis, commands, atomic=False)
        oldest = sorted((when, int(i)) for reply in replies for i, when in reply)
        return [doc_id for _, doc_id in oldest[:limit]]

    def count(self) -> int:
        """How many articles are stored."""
        commands = [("hlen", (self.keys.urls(shard),)) for shard in range(self.keys.shards)]
        return sum(int(n) for n in run_commands(self._redis, commands, atomic=False))
