"""Name the likely original of a verified group and label each copy with its type (pure)."""

from collections.abc import Sequence
from dataclasses import replace

from dedup.core.attribution import Original, Party, likely_original, same_time
from dedup.core.copytype import copy_type
from dedup.core.markers import Rules
from dedup.core.score import Thresholds
from dedup.core.verification import Match

# The share of the excerpt's words inside passages it shares with the fuller text for the
# fuller-text point: sentences that merely pair (two papers rewriting one wire story) say
# nothing of which holds the other (held out: a paper 27% inside a sibling was named its copy).
FULLER_COVERAGE = 0.5


def attribute(
    this: Party,
    matches: Sequence[Match],
    rules: Rules | None = None,
    wires: frozenset[str] = frozenset(),
) -> Original:
    """The likely original among the query and its verified matches (related articles,
    which are not copies, take no part). A site in `wires` is a wire service."""
    matches = [m for m in matches if m.is_copy]
    parties = [
        Party(
            id=this.id,
            site=this.site,
            published_at=this.published_at,
            first_seen_at=this.first_seen_at,
            markers=this.markers,
            is_fuller_text=any(
                m.relation == "contains"
                and m.coverage[1] >= FULLER_COVERAGE
                and same_time(m.article.when, this.when)
                for m in matches
            ),
            is_wire=this.site in wires,
        )
    ]
    parties += [
        Party(
            id=str(m.article.id),
            site=m.article.site,
            published_at=m.article.published_at,
            first_seen_at=m.article.first_seen_at,
            markers=m.markers,
            is_fuller_text=m.relation == "excerpt"
            and m.coverage[0] >= FULLER_COVERAGE
            and same_time(m.article.when, this.when),
            is_wire=m.article.site in wires,
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
    original (when the original is a third article, the later of the two). When the group's
    source is not stored (`Original.source_stored`: every article carries signs of being
    copied), each copy link is a `sibling`: a copy of the same absent source."""
    siblings = not original.source_stored
    labelled = []
    for match in matches:
        if not match.is_copy:
            labelled.append(match)
            continue
        scores = match.scores
        larger = max(scores.containment, scores.contained_by)
        size_ratio = min(scores.containment, scores.contained_by) / larger if larger else 0.0
        match_is_copy = original.id == this.id or (
            original.id != str(match.article.id) and _later(match, this)
        )
        sentences = match.sentences
        if match_is_copy:
            markers, site, inside = match.markers, match.article.site, scores.contained_by
            original_paired = sentences.explained if sentences else 1.0
            if match.verified_by in ("reuse", "meaning") and sentences:
                inside = sentences.explained_by
        else:
            markers, site, inside = this.markers, this.site, scores.containment
            original_paired = sentences.explained_by if sentences else 1.0
            if match.verified_by in ("reuse", "meaning") and sentences:
                inside = sentences.explained
        kind = copy_type(
            markers,
            site,
            inside,
            size_ratio,
            thresholds.near_duplicate_size_ratio,
            sentences,
            original_paired,
            rules,
            rewritten=match.verified_by in ("reuse", "meaning"),
            partial=match.relation == "partial",
            translated=match.verified_by == "meaning",
        )
        relation = "sibling" if siblings else match.relation
        labelled.append(replace(match, copy_type=kind, relation=relation))
    return labelled


def _later(match: Match, this: Party) -> bool:
    """Whether the matched article came after the query."""
    return match.article.when > this.when
