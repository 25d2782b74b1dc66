"""The article as the core sees it: plain data, no storage (pure)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """An article as a user sends it: text or HTML, with what they know about it."""

    url: str
    text: str | None = None
    html: str | None = None
    title: str | None = None
    site: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A stored (or about to be stored) article with its index entries."""

    id: int
    url: str
    site: str
    title: str | None
    published_at: datetime | None
    first_seen_at: datetime
    canonical_url: str | None
    text: str  # the display text: every reported offset indexes it
    digest: bytes
    simhash: int
    buckets: tuple[bytes, ...]
    anchors: tuple[int, ...] = ()  # word 3-gram anchors
    skeleton: tuple[int, ...] = ()  # skeleton anchors (names-and-numbers 3-grams)
    anchor_grams: int = 0  # distinct 3-grams with a content word (0: unknown, from a record)
    word_anchors: tuple[int, ...] = ()  # content-word anchors (short texts only)
    # Every distinct skeleton 3-gram, ascending (None: not stored, read them off the text).
    skeleton_set: tuple[int, ...] | None = None
    language: str = "und"  # ISO 639-1 code of its text ("und": undetermined; core.language)
    # Translingual name pairs indexed (cross-language path). Not kept in the record: a record
    # read back has none, and whoever deletes it works them out of its text again.
    name_pairs: tuple[int, ...] = ()

    @property
    def when(self) -> datetime:
        """Published, else first seen: the time attribution and site figures go by."""
        return self.published_at or self.first_seen_at
