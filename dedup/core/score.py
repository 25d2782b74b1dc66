"""Exact verification of a candidate pair, and the relation it shows (pure)."""

from dataclasses import dataclass
from typing import Literal

from dedup.core.fingerprint import Fingerprint
from dedup.core.shingles import Hashes, overlap
from dedup.core.signatures import simhash_distance

Relation = Literal[
    "duplicate", "near_duplicate", "excerpt", "contains", "partial", "sibling", "related"
]  # fmt: skip
# "partial": part of one text is reused in the other, neither is mostly inside the other
# "sibling": both copy one source that is not stored (each carries signs of being copied)
# "related": not a copy, but the two share names in order or a sentence (same-event coverage)


@dataclass(frozen=True, slots=True)
class Scores:
    """How much two texts share, measured on their word shingles."""

    jaccard: float
    containment: float  # share of this article's shingles found in the match
    contained_by: float  # share of the match's shingles found in this article
    simhash_distance: int
    same_text: bool
    skeleton_overlap: float = 0.0  # share of the shorter skeleton's 3-grams in the other's


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision rule: a pair is a copy when either text is mostly inside the other;
    a copy of about the same size is a near-duplicate, a much smaller one an excerpt.
    Defaults: the `DEDUP_MIN_CONTAINMENT` and `DEDUP_NEAR_DUPLICATE_SIZE_RATIO` settings."""

    min_containment: float
    near_duplicate_size_ratio: float


def jaccard(shared: int, first_size: int, second_size: int) -> float:
    """Jaccard similarity from the overlap and the two set sizes.

    >>> jaccard(2, 3, 3)
    0.5
    """
    union = first_size + second_size - shared
    return shared / union if union else 0.0


def containment(shared: int, size: int) -> float:
    """Share of a set found in the other (0.0 for an empty set).

    >>> containment(3, 4)
    0.75
    """
    return shared / size if size else 0.0


def compare(this: Fingerprint, match: Fingerprint) -> Scores:
    """Exact scores of this article against a candidate match."""
    shared = overlap(this.shingle_set, match.shingle_set)
    this_size, match_size = len(this.shingle_set), len(match.shingle_set)
    return Scores(
        jaccard=round(jaccard(shared, this_size, match_size), 4),
        containment=round(containment(shared, this_size), 4),
        contained_by=round(containment(shared, match_size), 4),
        simhash_distance=simhash_distance(this.simhash, match.simhash),
        same_text=this.digest == match.digest,
        skeleton_overlap=skeleton_overlap(this.skeleton_set, match.skeleton_set),
    )


def skeleton_overlap(first: Hashes, second: Hashes) -> float:
    """Share of the smaller set of skeleton 3-grams found in the other (0.0 if either is empty).

    >>> import numpy as np
    >>> skeleton_overlap(np.array([1, 2], dtype=np.uint64), np.array([2, 3, 4], dtype=np.uint64))
    0.5
    """
    return round(containment(overlap(first, second), min(len(first), len(second))), 4)


def is_copy(scores: Scores, thresholds: Thresholds) -> bool:
    """Whether the pair passes the verification bar.

    >>> rule = Thresholds(min_containment=0.5, near_duplicate_size_ratio=0.8)
    >>> is_copy(Scores(0.3, 0.9, 0.3, 20, False), rule)
    True
    >>> is_copy(Scores(0.05, 0.1, 0.08, 30, False), rule)
    False
    """
    return scores.same_text or max(scores.containment, scores.contained_by) >= (
        thresholds.min_containment
    )


def relation(scores: Scores, thresholds: Thresholds) -> Relation:
    """Name the relation of a verified pair, from this article's point of view.

    >>> rule = Thresholds(min_containment=0.5, near_duplicate_size_ratio=0.8)
    >>> relation(Scores(0.4, 0.95, 0.4, 20, False), rule)
    'excerpt'
    >>> relation(Scores(0.4, 0.4, 0.95, 20, False), rule)
    'contains'
    >>> relation(Scores(0.6, 0.75, 0.76, 9, False), rule)  # lightly edited copy
    'near_duplicate'
    """
    if scores.same_text:
        return "duplicate"
    # contained_by / containment is the ratio of the two shingle-set sizes
    return relation_of(scores.containment, scores.contained_by, thresholds)


def relation_of(this_share: float, match_share: float, thresholds: Thresholds) -> Relation:
    """The relation of a verified pair from the share of each text found in the other.

    >>> rule = Thresholds(min_containment=0.5, near_duplicate_size_ratio=0.8)
    >>> relation_of(1.0, 0.3, rule), relation_of(0.9, 0.95, rule)
    ('excerpt', 'near_duplicate')
    """
    smaller, larger = sorted((this_share, match_share))
    if larger and smaller / larger >= thresholds.near_duplicate_size_ratio:
        return "near_duplicate"
    return "excerpt" if this_share > match_share else "contains"
