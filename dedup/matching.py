"""Verify candidates, align the shared passages, and attribute the original (pure)."""

from collections.abc import Sequence
from dataclasses import dataclass

from dedup.align import Alignment, align
from dedup.article import Article
from dedup.attribution import Original, Party, likely_original
from dedup.fingerprint import Fingerprint, FingerprintParams, stored_fingerprint
from dedup.markers import Marker, Rules, find_markers
from dedup.score import Relation, Scores, Thresholds, compare, is_copy, relation
from dedup.text import tokenize


@dataclass(frozen=True, slots=True)
class Match:
    """A verified copy relation between the query and a stored article, with evidence."""

    article: Article
    relation: Relation
    scores: Scores
    alignment: Alignment
    markers: tuple[Marker, ...]


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Everything verification needs besides the texts."""

    fingerprint: FingerprintParams
    thresholds: Thresholds
    min_passage_words: int = 5


def verify(
    text: str,
    this: Fingerprint,
    candidates: Sequence[Article],
    params: MatchParams,
    rules: Rules | None = None,
) -> list[Match]:
    """The candidates that pass the verification bar, most similar first, with evidence.

    Candidates below the bar are dropped: no unverified pair is ever reported.
    """
    this_tokens = None
    matches: list[Match] = []
    for candidate in candidates:
        other = stored_fingerprint(
            candidate.text, candidate.simhash, candidate.digest, params.fingerprint.shingle_size
        )
        scores = compare(this, other)
        if not is_copy(scores, params.thresholds):
            continue
        this_tokens = this_tokens or tokenize(text)
        alignment = align(
            this_tokens,
            this.shingles,
            tokenize(candidate.text),
            other.shingles,
            shingle_size=params.fingerprint.shingle_size,
            min_words=params.min_passage_words,
        )
        matches.append(
            Match(
                article=candidate,
                relation=relation(scores, params.thresholds),
                scores=scores,
                alignment=alignment,
                markers=tuple(find_markers(candidate.text, rules)),
            )
        )
    matches.sort(
        key=lambda m: (-max(m.scores.containment, m.scores.contained_by), -m.scores.jaccard)
    )
    return matches


def attribute(this: Party, matches: Sequence[Match], rules: Rules | None = None) -> Original:
    """The likely original among the query and its verified matches."""
    parties = [
        Party(
            id=this.id,
            site=this.site,
            published_at=this.published_at,
            first_seen_at=this.first_seen_at,
            markers=this.markers,
            is_fuller_text=any(m.relation == "contains" for m in matches),
        )
    ]
    parties += [
        Party(
            id=str(m.article.id),
            site=m.article.site,
            published_at=m.article.published_at,
            first_seen_at=m.article.first_seen_at,
            markers=m.markers,
            is_fuller_text=m.relation == "excerpt",
        )
        for m in matches
    ]
    return likely_original(parties, rules)
