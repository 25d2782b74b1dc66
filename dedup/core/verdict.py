"""The verdict on one article as every view shows it: plain data, made once from a `Result`.

A `Result` holds whole articles (texts included) for the evidence to be worked out; a
`Verdict` holds only what an answer says: the article's metadata, its likely original with
the reasons, and each match's relation, scores and quoted evidence. The API maps it to its
response, the CLI prints it, and a scan stores it (`to_plain` / `from_plain`, versioned by
the scans service), so that what a scan stored reads the same as a fresh answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from dedup.core.align import Passage
from dedup.core.article import Article
from dedup.core.copytype import CopyType
from dedup.core.markers import Marker
from dedup.core.result import UNSTORED_ID, Result
from dedup.core.rewrite import SentencePair
from dedup.core.score import Relation
from dedup.core.verification import Match, VerifiedBy


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """Who an article is: its id (0: not stored), where and when it was published."""

    id: int
    url: str
    site: str
    title: str | None
    published_at: datetime | None
    first_seen_at: datetime
    language: str

    @property
    def when(self) -> datetime:
        """Published, else first seen (as `Article.when`)."""
        return self.published_at or self.first_seen_at

    @classmethod
    def of(cls, article: Article) -> "ArticleRef":
        return cls(
            article.id,
            article.url,
            article.site,
            article.title,
            article.published_at,
            article.first_seen_at,
            article.language,
        )


@dataclass(frozen=True, slots=True)
class Quote:
    """A span of this article's text paired with a span of the match's: a shared passage
    (`words` > 0, `similarity` 1.0) or a sentence pair (`words` 0)."""

    text: str  # this article's display text[start:end]
    match_text: str  # the match's display text[match_start:match_end]
    start: int
    end: int
    match_start: int
    match_end: int
    words: int = 0
    similarity: float = 1.0

    @classmethod
    def of(cls, span: Passage | SentencePair, text: str, theirs: str, **measure: Any) -> "Quote":
        """A passage or sentence pair quoted from both display texts."""
        return cls(
            text[span.start : span.end],
            theirs[span.match_start : span.match_end],
            span.start,
            span.end,
            span.match_start,
            span.match_end,
            **measure,
        )


@dataclass(frozen=True, slots=True)
class MatchVerdict:
    """One verified (or related) article beside the query, with the evidence quoted."""

    article: ArticleRef
    relation: Relation
    verified_by: VerifiedBy
    reuse: float
    coverage: float  # share of the query's words inside the shared passages
    match_coverage: float  # ... of the match's words
    copy_type: CopyType | None
    jaccard: float
    containment: float
    contained_by: float
    simhash_distance: int
    skeleton_overlap: float
    sentences_explained: float
    sentences_explained_by: float
    sentence_order: float
    shared_words: int
    passages: tuple[Quote, ...]
    sentence_pairs: tuple[Quote, ...]
    markers: tuple[Marker, ...]
    explanation: str | None = None  # for a related pair: what it shares, and why no copy

    @property
    def is_copy(self) -> bool:
        return self.relation != "related"

    @classmethod
    def of(cls, match: Match, text: str) -> "MatchVerdict":
        """A match as the query (whose display text is `text`) sees it."""
        scores, sentences = match.scores, match.sentences
        theirs = match.article.text
        return cls(
            article=ArticleRef.of(match.article),
            relation=match.relation,
            verified_by=match.verified_by,
            reuse=match.reuse,
            coverage=match.coverage[0],
            match_coverage=match.coverage[1],
            copy_type=match.copy_type,
            jaccard=scores.jaccard,
            containment=scores.containment,
            contained_by=scores.contained_by,
            simhash_distance=scores.simhash_distance,
            skeleton_overlap=scores.skeleton_overlap,
            sentences_explained=sentences.explained if sentences else 1.0,
            sentences_explained_by=sentences.explained_by if sentences else 1.0,
            sentence_order=sentences.order if sentences else 1.0,
            shared_words=match.alignment.shared_words,
            passages=tuple(
                Quote.of(p, text, theirs, words=p.words) for p in match.alignment.passages
            ),
            sentence_pairs=tuple(
                Quote.of(p, text, theirs, similarity=p.similarity)
                for p in (sentences.pairs if sentences else ())
            ),
            markers=match.markers,
            explanation=_why_related(match) if match.relation == "related" else None,
        )


def _why_related(match: Match) -> str:
    """One sentence on a related pair: what the two share, and why that is no copy."""
    scores, passages = match.scores, match.alignment.passages
    if match.uncovered is not None:
        return (
            "Possibly a translation: the two share a run of names and numbers in the same "
            f"order, but {match.uncovered!r} is not covered by the sentence encoder, so their "
            "meaning was not compared; never called a copy on names alone."
        )
    shared = (
        f"they share {match.alignment.shared_words} words in {len(passages)} passage(s)"
        if passages
        else "they share no passage"
    )
    return (
        f"Related, not a copy: {shared} and {scores.skeleton_overlap:.0%} of their names and "
        f"numbers in order, as reports of one event do; neither is mostly inside the other "
        f"({max(scores.containment, scores.contained_by):.0%} at most) and the reuse model "
        f"scores the pair {match.reuse:.2f}, under its bar."
    )


@dataclass(frozen=True, slots=True)
class OriginalVerdict:
    """The likely original: None as id when it is the query and the query is not stored."""

    id: str | None
    url: str
    site: str
    published_at: datetime | None
    confidence: float
    reasons: tuple[str, ...]
    source_stored: bool = True  # False: copied (by its signs) from no stored article


@dataclass(frozen=True, slots=True)
class Source:
    """One stored article this text was found in, and how much of this text it holds."""

    id: str
    site: str
    published_at: datetime | None
    share: float  # of this text's characters inside the spans it shares with this source
    words: int  # words of this text inside its shared passages
    copy_type: CopyType | None
    relation: Relation


@dataclass(frozen=True, slots=True)
class Summary:
    """The overall answer: how much of the text is found elsewhere, and where."""

    share: float  # of the text's characters inside the union of every copy's evidence
    sources: tuple[Source, ...]  # most of this text first


def covered(spans: Sequence[tuple[int, int]]) -> int:
    """Characters inside the union of [start, end) spans.

    >>> covered([(0, 10), (5, 12), (20, 25)])
    17
    """
    total, reach = 0, 0
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def evidence_spans(match: "MatchVerdict") -> list[tuple[int, int]]:
    """The spans of this text a copy's evidence covers: its passages, and for a rewrite or
    a translation (which share few passages) its paired sentences."""
    spans = [(q.start, q.end) for q in match.passages]
    if match.verified_by in ("reuse", "meaning"):
        spans += [(q.start, q.end) for q in match.sentence_pairs]
    return spans


def summary_of(matches: Sequence["MatchVerdict"], length: int) -> Summary:
    """The summary of a text of `length` characters from its matches (copies only)."""
    copies = [m for m in matches if m.is_copy]
    if not copies or length <= 0:
        return Summary(0.0, ())
    sources = sorted(
        (
            Source(
                str(m.article.id),
                m.article.site,
                m.article.published_at,
                round(covered(evidence_spans(m)) / length, 4),
                m.shared_words,
                m.copy_type,
                m.relation,
            )
            for m in copies
        ),
        key=lambda s: (-s.share, s.id),
    )
    union = covered([span for m in copies for span in evidence_spans(m)])
    return Summary(round(union / length, 4), tuple(sources))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything an answer about one article says."""

    article: ArticleRef
    stored: bool
    created: bool
    word_count: int
    meaning: str | None
    original: OriginalVerdict
    matches: tuple[MatchVerdict, ...]
    unverified: int
    markers: tuple[Marker, ...]
    notes: tuple[str, ...] = ()
    summary: Summary = Summary(0.0, ())

    @property
    def id(self) -> str | None:
        """The article's id as the API gives it (None for a check, which stores nothing)."""
        return str(self.article.id) if self.stored else None

    @property
    def copies(self) -> tuple[MatchVerdict, ...]:
        return tuple(m for m in self.matches if m.is_copy)

    @classmethod
    def of(cls, result: Result) -> "Verdict":
        article = result.article
        source = result.original_article()
        matches = tuple(MatchVerdict.of(m, article.text) for m in result.matches)
        return cls(
            article=ArticleRef.of(article),
            stored=result.stored,
            created=result.created,
            word_count=result.word_count,
            meaning=result.meaning,
            original=OriginalVerdict(
                None if result.original.id == UNSTORED_ID else result.original.id,
                source.url,
                source.site,
                source.published_at,
                result.original.confidence,
                result.original.reasons,
                result.original.source_stored,
            ),
            matches=matches,
            unverified=result.unverified,
            markers=result.markers,
            notes=result.notes,
            summary=summary_of(matches, len(article.text)),
        )


# -- plain data (JSON types) and back ---------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _ref_plain(ref: ArticleRef) -> dict[str, Any]:
    return {
        "id": ref.id,
        "url": ref.url,
        "site": ref.site,
        "title": ref.title,
        "published_at": _time(ref.published_at),
        "first_seen_at": _time(ref.first_seen_at),
        "language": ref.language,
    }


def _ref(plain: dict[str, Any]) -> ArticleRef:
    return ArticleRef(
        plain["id"],
        plain["url"],
        plain["site"],
        plain["title"],
        _moment(plain["published_at"]),
        cast(datetime, _moment(plain["first_seen_at"])),
        plain["language"],
    )


def _quote_plain(quote: Quote) -> list[Any]:
    return [
        quote.text,
        quote.match_text,
        quote.start,
        quote.end,
        quote.match_start,
        quote.match_end,
        quote.words,
        quote.similarity,
    ]


def _marker_plain(marker: Marker) -> list[Any]:
    return [marker.kind, marker.label, marker.text, marker.start, marker.end, marker.detail]


_MATCH_NUMBERS = (
    "reuse", "coverage", "match_coverage", "jaccard", "containment", "contained_by",
    "simhash_distance", "skeleton_overlap", "sentences_explained", "sentences_explained_by",
    "sentence_order", "shared_words",
)  # fmt: skip


def to_plain(verdict: Verdict) -> dict[str, Any]:
    """A verdict as JSON-ready data (lists for the many small records)."""
    original = verdict.original
    return {
        "article": _ref_plain(verdict.article),
        "stored": verdict.stored,
        "created": verdict.created,
        "word_count": verdict.word_count,
        "meaning": verdict.meaning,
        "original": {
            "id": original.id,
            "url": original.url,
            "site": original.site,
            "published_at": _time(original.published_at),
            "confidence": original.confidence,
            "reasons": list(original.reasons),
            "source_stored": original.source_stored,
        },
        "matches": [
            {
                "article": _ref_plain(m.article),
                "relation": m.relation,
                "verified_by": m.verified_by,
                "copy_type": m.copy_type,
                **{name: getattr(m, name) for name in _MATCH_NUMBERS},
                "passages": [_quote_plain(q) for q in m.passages],
                "sentence_pairs": [_quote_plain(q) for q in m.sentence_pairs],
                "markers": [_marker_plain(k) for k in m.markers],
                "explanation": m.explanation,
            }
            for m in verdict.matches
        ],
        "unverified": verdict.unverified,
        "markers": [_marker_plain(k) for k in verdict.markers],
        "notes": list(verdict.notes),
        "summary": {
            "share": verdict.summary.share,
            "sources": [
                [s.id, s.site, _time(s.published_at), s.share, s.words, s.copy_type, s.relation]
                for s in verdict.summary.sources
            ],
        },
    }


def from_plain(plain: dict[str, Any]) -> Verdict:
    """The verdict `to_plain` wrote."""
    original = plain["original"]
    return Verdict(
        article=_ref(plain["article"]),
        stored=plain["stored"],
        created=plain["created"],
        word_count=plain["word_count"],
        meaning=plain["meaning"],
        original=OriginalVerdict(
            original["id"],
            original["url"],
            original["site"],
            _moment(original["published_at"]),
            original["confidence"],
            tuple(original["reasons"]),
            original["source_stored"],
        ),
        matches=tuple(
            MatchVerdict(
                article=_ref(m["article"]),
                relation=m["relation"],
                verified_by=m["verified_by"],
                copy_type=m["copy_type"],
                **{name: m[name] for name in _MATCH_NUMBERS},
                passages=tuple(Quote(*q) for q in m["passages"]),
                sentence_pairs=tuple(Quote(*q) for q in m["sentence_pairs"]),
                markers=tuple(Marker(*k) for k in m["markers"]),
                explanation=m["explanation"],
            )
            for m in plain["matches"]
        ),
        unverified=plain["unverified"],
        markers=tuple(Marker(*k) for k in plain["markers"]),
        notes=tuple(plain["notes"]),
        summary=Summary(
            plain["summary"]["share"],
            tuple(
                Source(i, site, _moment(when), share, words, kind, relation)
                for i, site, when, share, words, kind, relation in plain["summary"]["sources"]
            ),
        ),
    )
