"""Verify candidates, align the shared passages, and attribute the original (pure)."""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dedup.align import Alignment, align
from dedup.article import Article
from dedup.attribution import Original, Party, likely_original
from dedup.copytype import CopyType, copy_type
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
    copy_type: CopyType | None = None  # of whichever of the pair is not the likely original


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


def label_copies(
    this: Party,
    matches: Sequence[Match],
    original: Original,
    thresholds: Thresholds,
    rules: Rules | None = None,
) -> list[Match]:
    """Each match with the type of its copy: the side of the pair that is not the likely
    original (when the original is a third article, the later of the two)."""
    labelled = []
    for match in matches:
        scores = match.scores
        larger = max(scores.containment, scores.contained_by)
        size_ratio = min(scores.containment, scores.contained_by) / larger if larger else 0.0
        match_is_copy = original.id == this.id or (
            original.id != str(match.article.id) and _later(match, this)
        )
        if match_is_copy:
            markers, site, inside = match.markers, match.article.site, scores.contained_by
        else:
            markers, site, inside = this.markers, this.site, scores.containment
        kind = copy_type(
            markers, site, inside, size_ratio, thresholds.near_duplicate_size_ratio,
            len(match.alignment.passages), match.alignment.shared_words, rules,
        )  # fmt: skip
        labelled.append(replace(match, copy_type=kind))
    return labelled


def _later(match: Match, this: Party) -> bool:
    """Whether the matched article came after the query."""
    when = match.article.published_at or match.article.first_seen_at
    return when > this.when
