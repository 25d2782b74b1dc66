"""Candidate ranking and the verification budget (pure: no Redis)."""

import math
import random
from typing import Any

import numpy as np

from dedup.core.candidates import (
    ANCHOR_ESTIMATE_MIN,
    ANCHOR_PREFILTER,
    GRAM_PREFILTER,
    WORD_PREFILTER,
    CandidateParams,
    Lookup,
    Tally,
    budget,
    rank,
)


def reference_candidates(
    lookup: dict[str, Any],
    exclude: int,
    query_grams: int,
    query_skeleton: int,
    query_words: int,
    params: CandidateParams,
) -> list[int]:
    """The candidate selection written plainly with dicts, one id at a time."""

    def modulus(grams: int) -> int:
        ratio = max(grams / params.anchor_target, 1.0)
        return int(min(2 ** math.ceil(math.log2(ratio)), max(params.anchor_modulus, 1)))

    def may_share(hits: int, query: int, theirs: int) -> bool:
        if min(query, theirs) <= ANCHOR_ESTIMATE_MIN:
            return True
        return max(hits / query, hits / max(theirs, 1)) >= ANCHOR_PREFILTER

    shares = {}
    for i, hits in lookup["anchor_hits"].items():
        theirs = lookup["anchor_counts"][i]
        shared = hits * max(modulus(theirs), modulus(query_grams))
        shares[i] = min(max(shared / max(query_grams, 1), shared / max(theirs, 1)), 1.0)
    anchored = {
        i
        for i, share in shares.items()
        if lookup["anchor_hits"][i] >= params.min_anchor_hits and share >= GRAM_PREFILTER
    }
    skeleton_hits, skeleton_counts = lookup["skeleton_hits"], lookup["skeleton_counts"]
    skeletal = {
        i
        for i, hits in skeleton_hits.items()
        if hits >= params.min_skeleton_hits and may_share(hits, query_skeleton, skeleton_counts[i])
    }
    word_hits, word_counts = lookup["word_hits"], lookup["word_counts"]
    worded = {
        i
        for i, hits in word_hits.items()
        if hits / max(min(word_counts[i], max(query_words, 1)), 1) >= WORD_PREFILTER
    }
    ids = lookup["band_ids"] | set(lookup["simhash_hits"]) | anchored | skeletal | worded
    ids.discard(exclude)
    ranked = sorted(
        ids,
        key=lambda i: (
            lookup["simhash_hits"].get(i, 64),
            -shares.get(i, 0.0),
            -skeleton_hits.get(i, 0) - word_hits.get(i, 0),
            i,
        ),
    )
    return ranked[: params.max_candidates]


def test_numpy_candidate_selection_equals_the_plain_one() -> None:
    rng = random.Random(11)
    params = CandidateParams(
        min_anchor_hits=1,
        min_skeleton_hits=2,
        max_candidates=20,
        max_verified=8,
        anchor_modulus=8,
        anchor_target=64,
    )
    for _ in range(300):
        pool = range(rng.choice([5, 50, 500]))
        tallies = [random_tally(rng, pool) for _ in range(3)]
        (anchor_hits, anchor_counts), (skeleton_hits, skeleton_counts) = tallies[:2]
        anchor_counts = {i: rng.choice([5, 60, 200, 900]) for i in anchor_counts}
        word_hits, word_counts = tallies[2]
        band = rng.sample(pool, rng.randrange(min(len(pool), 8)))
        near = {i: rng.randint(0, 3) for i in rng.sample(pool, rng.randrange(min(len(pool), 5)))}
        query_grams = rng.choice([0, 30, 64, 150, 1200])
        query_skeleton, query_words = rng.randint(0, 30), rng.randint(0, 30)
        exclude = rng.choice([-1, *pool])
        lookup = Lookup(
            url_id=None,
            band_ids=np.array(band + band[:2], dtype=np.int64),  # ids come once per band
            simhash_hits=near,
            near_times={},
            anchors=as_tally(anchor_hits, anchor_counts),
            skeleton=as_tally(skeleton_hits, skeleton_counts),
            words=as_tally(word_hits, word_counts),
        )
        plain = {
            "band_ids": set(band),
            "simhash_hits": near,
            "anchor_hits": anchor_hits,
            "anchor_counts": anchor_counts,
            "skeleton_hits": skeleton_hits,
            "skeleton_counts": skeleton_counts,
            "word_hits": word_hits,
            "word_counts": word_counts,
        }
        expected = reference_candidates(
            plain, exclude, query_grams, query_skeleton, query_words, params
        )
        found = rank(lookup, exclude, query_grams, query_skeleton, params, query_words)
        assert found == expected


def random_tally(rng: random.Random, pool: range) -> tuple[dict[int, int], dict[int, int]]:
    ids = rng.sample(pool, rng.randrange(min(len(pool), 60)))
    return {i: rng.randint(1, 12) for i in ids}, {i: rng.randint(0, 40) for i in ids}


def as_tally(hits: dict[int, int], counts: dict[int, int]) -> Tally:
    ids = sorted(hits)
    return Tally(
        np.array(ids, dtype=np.int64),
        np.array([hits[i] for i in ids], dtype=np.int64),
        np.array([counts[i] for i in ids], dtype=np.int64),
    )


def test_the_budget_takes_half_nearest_then_the_earliest_and_reads_only_unknown_dates() -> None:
    ranked = [7, 3, 9, 4, 8, 1]  # nearest first
    known = {9: 500, 8: 100}
    read: list[list[int]] = []

    def dates(ids: list[int]) -> list[int | None]:
        read.append(ids)
        return [{4: 50, 1: None}[i] for i in ids]  # 1 is gone since the lookup

    chosen, left = budget(ranked, known, 4, dates)
    assert chosen == [7, 3, 4, 8]  # the two nearest, then the two earliest known dates
    assert left == 2
    assert read == [[4, 1]]
    assert budget(ranked, known, 10, dates) == (ranked, 0)  # under the limit: all of them
