"""The answer about one article: its verified matches, its likely original, its markers."""

from dataclasses import dataclass

from dedup.core.article import Article
from dedup.core.attribution import Original
from dedup.core.markers import Marker
from dedup.core.verification import Match

UNSTORED_ID = ""  # the id a checked (never stored) article goes by in the attribution


@dataclass(frozen=True, slots=True)
class Result:
    """An article with its verified matches, its likely original and its markers."""

    article: Article
    stored: bool  # False for a check: nothing was written
    created: bool  # True when this call stored it
    word_count: int
    markers: tuple[Marker, ...]
    matches: tuple[Match, ...]
    original: Original
    unverified: int = 0  # candidates found but left unverified (DEDUP_MAX_VERIFIED)
    meaning: str | None = None  # why no pairs by meaning were looked for (None: they were)
    verified: int = 0  # candidates verified (with `unverified`: every candidate found)
    notes: tuple[str, ...] = ()  # what the call did that it was not asked (kept metadata)

    def original_article(self) -> Article:
        """The article the original id names (the query itself or one of its matches)."""
        for match in self.matches:
            if str(match.article.id) == self.original.id:
                return match.article
        return self.article
