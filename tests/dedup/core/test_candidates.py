"""Candidate ranking and the verification budget (pure: no Redis)."""

import random
from typing import Any

import numpy as np

from dedup.core.candidates import CandidateParams, Lookup, Tally, budget, rank


def reference_candidates(
    lookup: dict[str, Any],
    exclude: int,
    query_anchors: int,
    query_skeleton: int,
    settings: CandidateParams,
) -> list[int]:
    """The candidate selection as it was written with dicts, before the numpy one."""

    def may_share(hits: int, query: int, theirs: int) -> bool:
        if min(query, theirs) <= 3:
            return True
        return max(hits / query, hits / max(theirs, 1)) >= 0.25

    anchor_hits, anchor_counts = lookup["anchor_hits"], lookup["anchor_counts"]
    skeleton_hits, skeleton_counts = lookup["skeleton_hits"], lookup["skeleton_counts"]
    anchored = {
        i
        for i, hits in anchor_hits.items()
        if hits >= settings.min_anchor_hits and may_share(hits, query_anchors, anchor_counts[i])
    }
    skeletal = {
        i
        for i, hits in skeleton_hits.items()
        if hits >= settings.min_skeleton_hits
        and may_share(hits, query_skeleton, skeleton_counts[i])
    }
    ids = lookup["band_ids"] | set(lookup["simhash_hits"]) | anchored | skeletal
    ids.discard(exclude)
    ranked = sorted(
        ids,
        key=lambda i: (
            lookup["simhash_hits"].get(i, 64),
            -anchor_hits.get(i, 0) - skeleton_hits.get(i, 0),
            i,
        ),
    )
    return ranked[: settings.max_candidates]


def test_numpy_candidate_selection_equals_the_dict_one() -> None:
    rng = random.Random(11)
    params = CandidateParams(
        min_anchor_hits=1, min_skeleton_hits=2, max_candidates=20, max_verified=8
    )
    for _ in range(300):
        pool = range(rng.choice([5, 50, 500]))

        (anchor_hits, anchor_counts), (skeleton_hits, skeleton_counts) = (
            random_tally(rng, pool),
            random_tally(rng, pool),
        )
        band = rng.sample(pool, rng.randrange(min(len(pool), 8)))
        near = {i: rng.randint(0, 3) for i in rng.sample(pool, rng.randrange(min(len(pool), 5)))}
        query_anchors, query_skeleton = rng.randint(0, 30), rng.randint(0, 30)
        exclude = rng.choice([-1, *pool])
        lookup = Lookup(
            url_id=None,
            band_ids=np.array(band + band[:2], dtype=np.int64),  # ids come once per band
            simhash_hits=near,
            near_times={},
            anchors=as_tally(anchor_hits, anchor_counts),
            skeleton=as_tally(skeleton_hits, skeleton_counts),
        )
        expected = reference_candidates(
            {
                "band_ids": set(band),
                "simhash_hits": near,
                "anchor_hits": anchor_hits,
                "anchor_counts": anchor_counts,
                "skeleton_hits": skeleton_hits,
                "skeleton_counts": skeleton_counts,
            },
            exclude,
            query_anchors,
            query_skeleton,
            params,
        )
        assert rank(lookup, exclude, query_anchors, query_skeleton, params) == expected


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
