"""How index entries and records are packed into Redis values, and read back."""

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from dedup.core.article import Article
from dedup.core.candidates import Tally
from dedup.core.fingerprint import Fingerprint
from dedup.core.signatures import BUCKET_BYTES, SIMHASH_BLOCKS, simhash_blocks

LAYOUT = "5"  # version of the key layout (keys.py); an index of another layout is refused
# (layout 5: spaceless scripts as character bigrams, the name-pair groups `n`)
# Layout 4: anchors are word 3-grams sampled by the text's length, an anchor entry's count is
# the text's number of 3-grams (layout 3: 5-gram anchors, count of anchors), and short texts
# index their content words (the `w` groups).
ID_BYTES = 4  # ids in packed index values (big-endian); 4.29 billion ids per index
ENTRY = struct.Struct(">IH")  # an anchor or skeleton entry: id, that article's count
# (of 3-grams for an anchor entry, of skeleton anchors for a skeleton one)
ENTRY_DTYPE = np.dtype([("id", ">u4"), ("count", ">u2")])  # the same, read by numpy
# A SimHash entry: id, the full SimHash, and when the article was published (else first seen),
# epoch seconds, so that a query into a story copied hundreds of times knows its copies' dates
# without reading their records (see core.candidates.budget).
SIMHASH_ENTRY_DTYPE = np.dtype([("id", ">u4"), ("simhash", ">u8"), ("when", ">u4")])
# Every index field is 6 bytes: a band bucket, or the low bytes of an anchor or skeleton 3-gram
# (its group key holds the top bits); the scripts cut packed fields at this width.
FIELD_BYTES = BUCKET_BYTES
MAX_COUNT = 0xFFFF
RECORD_FIELDS = (
    "url",
    "site",
    "title",
    "published_at",
    "first_seen_at",
    "canonical_url",
    "text",
    "digest",
    "simhash",
    "buckets",
    "anchors",
    "skeleton",
    "skeleton_set",
    "word_anchors",
    "language",
)


def entry_field(value: int) -> bytes:
    """The field an anchor or skeleton 3-gram is stored under inside its group: its low six
    bytes (the group key holds the top bits, so two grams share a field only by a 2**-48
    chance within one group)."""
    return (value & 0xFFFF_FFFF_FFFF).to_bytes(FIELD_BYTES, "big")


@dataclass(frozen=True, slots=True)
class IndexEntries:
    """What an article (or a query) has in each kind of index group: band buckets, SimHash
    blocks, anchors, skeleton 3-grams, content words and name pairs, the order in which
    every script takes the kinds (`Keys.index_keys` names their groups)."""

    buckets: Sequence[bytes]
    simhash: int
    anchors: Sequence[int] = ()
    skeleton: Sequence[int] = ()
    words: Sequence[int] = ()
    pairs: Sequence[int] = ()

    @classmethod
    def of(cls, found: "Article | Fingerprint") -> "IndexEntries":
        """The entries of a stored article, or of a query's fingerprint (same field names)."""
        return cls(
            found.buckets,
            found.simhash,
            found.anchors,
            found.skeleton,
            found.word_anchors,
            found.name_pairs,
        )

    def counts(self) -> dict[str, int]:
        """How many groups of each kind, named as the scripts take them."""
        return {
            "bands": len(self.buckets),
            "blocks": SIMHASH_BLOCKS,
            "anchors": len(self.anchors),
            "skeleton": len(self.skeleton),
            "words": len(self.words),
            "names": len(self.pairs),
        }

    def fields(self) -> dict[str, bytes]:
        """Each kind's fields packed into one string of 6-byte fields, named as the scripts
        take them."""
        if any(len(bucket) != FIELD_BYTES for bucket in self.buckets):
            raise ValueError(
                f"band buckets must be {FIELD_BYTES} bytes, as BUCKET_BYTES makes them"
            )
        blocks = simhash_blocks(self.simhash)
        return {
            "band_fields": b"".join(self.buckets),
            "simhash_fields": b"".join(v.to_bytes(FIELD_BYTES, "big") for v in blocks),
            "anchor_fields": b"".join(entry_field(a) for a in self.anchors),
            "skeleton_fields": b"".join(entry_field(g) for g in self.skeleton),
            "word_fields": b"".join(entry_field(w) for w in self.words),
            "name_fields": b"".join(entry_field(p) for p in self.pairs),
        }


def tally(packed: bytes) -> Tally:
    """Per article, how many of the packed (id, count) entries name it, and its count: one
    numpy pass, since a query into a story copied hundreds of times reads thousands of
    entries (a dict of counters cost ~0.2 ms a lookup at 200k articles)."""
    entries = np.frombuffer(packed, dtype=ENTRY_DTYPE)
    ids, first, hits = np.unique(entries["id"], return_index=True, return_counts=True)
    return Tally(ids.astype(np.int64), hits, entries["count"][first].astype(np.int64))


def near_simhashes(
    packed: bytes, simhash: int, bound: int
) -> tuple[dict[int, int], dict[int, int]]:
    """id -> Hamming distance, and id -> date, of the packed SimHash entries within the
    bound; one numpy pass (copies of one story share their blocks, so a query into a story
    copied hundreds of times reads hundreds of entries)."""
    entries = np.frombuffer(packed, dtype=SIMHASH_ENTRY_DTYPE)
    distances = np.bitwise_count(entries["simhash"] ^ np.uint64(simhash))
    near = np.flatnonzero(distances <= bound)
    ids = entries["id"][near].tolist()
    return (
        dict(zip(ids, distances[near].tolist(), strict=True)),
        dict(zip(ids, entries["when"][near].tolist(), strict=True)),
    )


def epoch_seconds(moment: datetime) -> int:
    """A moment as the index keeps dates: whole seconds since 1970 in 4 bytes (dates before
    1970 read as 1970, after 2106 as 2106)."""
    return min(max(int(moment.timestamp()), 0), 0xFFFF_FFFF)


def pack_hashes(values: Sequence[int]) -> bytes:
    """64-bit hashes (anchors, skeleton anchors or 3-grams) as a record field: 8 bytes each."""
    return struct.pack(f">{len(values)}Q", *values)


def unpack_hashes(packed: bytes | None) -> tuple[int, ...]:
    """The hashes of a record field `pack_hashes` wrote."""
    raw = packed or b""
    return struct.unpack(f">{len(raw) // 8}Q", raw)


def text_of(value: Any) -> str:
    """A reply's value as text (replies are bytes; a client may decode them already)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _text_or_none(value: bytes | None) -> str | None:
    return value.decode() if value else None


def time_or_none(value: bytes | None) -> datetime | None:
    return datetime.fromisoformat(value.decode()) if value else None


def record_pairs(article: Article) -> list[Any]:
    """The record of an article as field/value pairs (what `add_article.lua` stores)."""
    fields: dict[str, Any] = {
        "url": article.url,
        "site": article.site,
        "title": article.title or "",
        "published_at": article.published_at.isoformat() if article.published_at else "",
        "first_seen_at": article.first_seen_at.isoformat(),
        "canonical_url": article.canonical_url or "",
        "text": zlib.compress(article.text.encode(), 6),
        "digest": article.digest,
        "simhash": article.simhash.to_bytes(8, "big"),
        "buckets": bytes([len(article.buckets[0]) if article.buckets else 0])
        + b"".join(article.buckets),
        "anchors": pack_hashes(article.anchors),
        "skeleton": pack_hashes(article.skeleton),
        "word_anchors": pack_hashes(article.word_anchors),
        "language": article.language,
    }
    if article.skeleton_set is not None:  # verification reads it instead of the text
        fields["skeleton_set"] = pack_hashes(article.skeleton_set)
    return [part for pair in fields.items() for part in pair]


def article_of(doc_id: int, values: Sequence[bytes | None]) -> Article | None:
    """The article a record's RECORD_FIELDS values hold (None when the record is gone)."""
    fields = dict(zip(RECORD_FIELDS, values, strict=True))
    if fields["text"] is None:
        return None
    packed = fields["buckets"] or b"\x00"
    size, packed = packed[0], packed[1:]  # first byte: width of one bucket
    buckets = tuple(packed[i : i + size] for i in range(0, len(packed), size)) if size else ()
    skeleton_set = fields["skeleton_set"]
    return Article(
        id=doc_id,
        url=(fields["url"] or b"").decode(),
        site=(fields["site"] or b"").decode(),
        title=_text_or_none(fields["title"]),
        published_at=time_or_none(fields["published_at"]),
        first_seen_at=datetime.fromisoformat((fields["first_seen_at"] or b"").decode()),
        canonical_url=_text_or_none(fields["canonical_url"]),
        text=zlib.decompress(fields["text"]).decode(),
        digest=fields["digest"] or b"",
        simhash=int.from_bytes(fields["simhash"] or b"", "big"),
        buckets=buckets,
        anchors=unpack_hashes(fields["anchors"]),
        skeleton=unpack_hashes(fields["skeleton"]),
        word_anchors=unpack_hashes(fields["word_anchors"]),
        skeleton_set=None if skeleton_set is None else unpack_hashes(skeleton_set),
        language=(fields["language"] or b"und").decode(),
    )
