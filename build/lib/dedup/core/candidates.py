"""Which of the articles an index probe found are worth verifying, and in which order (pure).

An index probe (`Store.lookup`) answers with the ids sharing a band bucket, the ids within
the SimHash bound (with their dates), and, per anchor kind, how many of the query's anchors
each id holds (`Tally`). From these, `rank` picks the candidates (SimHash-nearest first, then
most anchors shared, then the oldest id) and `budget` the few verified with evidence: half
the SimHash-nearest, half the earliest, so that the original of a story copied hundreds of
times is among them.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Skeleton-only candidates whose estimated overlap (shared anchors / anchors) is under this
# both ways are not verified.
ANCHOR_PREFILTER = 0.25
ANCHOR_ESTIMATE_MIN = 3  # with this few anchors the estimate is too noisy to drop anything
# Word candidates (short texts sharing content words) whose share of the shorter text's
# content words is under this are not verified: accepted crowd paraphrases keep a median
# ~0.6 of their source's content words, rewrites of other passages ~0.1.
WORD_PREFILTER = 0.3
# Anchor (word 3-gram) candidates whose estimated containment either way is under this are
# not verified: real rewrites share 0.15 and more of their 3-grams (a wholly derived paper
# article a median 0.39 of its wire source's), and the estimate is noisy.
GRAM_PREFILTER = 0.02


@dataclass(frozen=True, slots=True)
class Tally:
    """The articles holding some of a query's anchors (or skeleton anchors), as arrays."""

    ids: np.ndarray  # distinct ids, ascending
    hits: np.ndarray  # how many of the query's entries each one holds
    counts: np.ndarray  # how many entries of this kind each one has

    def hits_of(self, ids: np.ndarray) -> np.ndarray:
        """The hits of these ids (0 for ids not in the tally).

        >>> t = Tally(np.array([2, 5]), np.array([3, 1]), np.array([9, 9]))
        >>> t.hits_of(np.array([5, 4, 2])).tolist()
        [1, 0, 3]
        """
        if not len(self.ids):
            return np.zeros(len(ids), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        hits: np.ndarray = np.where(self.ids[at] == ids, self.hits[at], 0)
        return hits


EMPTY_TALLY = Tally(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))


@dataclass(frozen=True, slots=True)
class Lookup:
    """What one index probe found: the url's id and candidates with their evidence."""

    url_id: int | None
    band_ids: np.ndarray  # ids sharing at least one LSH band bucket with the query (repeats)
    simhash_hits: dict[int, int]  # id -> SimHash distance, only ids within the bound
    near_times: dict[int, int]  # id -> published (else first seen), epoch seconds, of those
    anchors: Tally
    skeleton: Tally
    words: Tally  # content words shared (short texts)
    # Translingual name pairs shared (cross-language path); `counts` holds each article's
    # language (`core.language.language_code`), not a count.
    names: Tally = EMPTY_TALLY


@dataclass(frozen=True, slots=True)
class CandidateParams:
    """How many candidates to take and verify, and how anchors sample a text (the
    `DEDUP_*` settings of the same names)."""

    min_anchor_hits: int
    min_skeleton_hits: int
    max_candidates: int
    max_verified: int
    anchor_modulus: int
    anchor_target: int


def moduli(grams: np.ndarray, largest: int, target: int) -> np.ndarray:
    """`fingerprint.modulus_for` of many texts at once (their 3-gram counts).

    >>> moduli(np.array([40, 64, 65, 300, 5000]), 8, 64).tolist()
    [1, 1, 2, 8, 8]
    """
    ratio = np.maximum(grams / target, 1.0)
    found: np.ndarray = np.minimum(2 ** np.ceil(np.log2(ratio)), max(largest, 1))
    return found.astype(np.int64)


def gram_shares(tally: Tally, query_grams: int, params: CandidateParams) -> np.ndarray:
    """Per id of an anchor tally: its estimated 3-gram containment, the larger way. Two texts
    share a 3-gram as an anchor when it is 0 mod the larger of their moduli, so each hit
    stands for about that many shared 3-grams.

    >>> t = Tally(np.array([7, 8]), np.array([3, 1]), np.array([400, 60]))
    >>> p = CandidateParams(1, 2, 100, 8, 8, 64)
    >>> gram_shares(t, 120, p).round(3).tolist()  # 7: 3 hits at 1 in 8 of a 400-gram text
    [0.2, 0.033]
    """
    if not len(tally.ids):
        return np.zeros(0)
    query = moduli(np.array([query_grams]), params.anchor_modulus, params.anchor_target)[0]
    step = np.maximum(moduli(tally.counts, params.anchor_modulus, params.anchor_target), query)
    shared = tally.hits * step
    found: np.ndarray = np.minimum(
        np.maximum(shared / max(query_grams, 1), shared / np.maximum(tally.counts, 1)), 1.0
    )
    return found


def sharing(tally: Tally, query_count: int, min_hits: int) -> np.ndarray:
    """The ids of a tally that hold at least `min_hits` of the query's entries and whose
    shared entries leave room for either text to be mostly inside the other.

    Anchors (and skeleton anchors) are a uniform sample, so hits / entries estimates
    containment in each direction; a candidate far below the bar both ways is not worth
    fetching. With few entries the estimate says little, and the candidate is kept.

    >>> t = Tally(np.array([1, 2, 3]), np.array([1, 4, 5]), np.array([2, 40, 6]))
    >>> sharing(t, 20, 2).tolist()  # 1 holds too few; 2 shares 4/20 and 4/40: under 0.25
    [3]
    """
    hits, theirs = tally.hits, tally.counts
    fewest = np.minimum(theirs, query_count)
    share = np.maximum(hits / max(query_count, 1), hits / np.maximum(theirs, 1))
    may_share = (fewest <= ANCHOR_ESTIMATE_MIN) | (share >= ANCHOR_PREFILTER)
    kept: np.ndarray = tally.ids[(hits >= min_hits) & may_share]
    return kept


def rank(
    lookup: Lookup,
    exclude: int,
    query_grams: int,
    query_skeleton: int,
    params: CandidateParams,
    query_words: int = 0,
) -> list[int]:
    """Candidate ids to verify, at most `max_candidates`: SimHash-nearest first, then the
    highest estimated 3-gram containment, then most skeleton anchors shared, then the oldest
    (lowest id) first, so that in a cluster of hundreds of copies of one wire story the
    earliest articles, where the original is, are verified. `query_grams` is the query's
    count of 3-grams (what its anchors sample), `query_words` of content-word anchors (a short
    text's); `exclude` its own id (0 when it has none)."""
    near = np.fromiter(lookup.simhash_hits, dtype=np.int64, count=len(lookup.simhash_hits))
    anchored = lookup.anchors
    shares = gram_shares(anchored, query_grams, params)
    keep = (anchored.hits >= params.min_anchor_hits) & (shares >= GRAM_PREFILTER)
    worded = lookup.words
    word_share = worded.hits / np.maximum(np.minimum(worded.counts, max(query_words, 1)), 1)
    ids = np.unique(
        np.concatenate(
            [
                lookup.band_ids,
                near,
                anchored.ids[keep],
                sharing(lookup.skeleton, query_skeleton, params.min_skeleton_hits),
                worded.ids[word_share >= WORD_PREFILTER],
            ]
        )
    )
    ids = ids[ids != exclude]
    distance = np.array([lookup.simhash_hits.get(i, 64) for i in ids.tolist()], dtype=np.int64)
    share_of = (
        Tally(anchored.ids, shares, anchored.counts).hits_of(ids)
        if len(shares)
        else np.zeros(len(ids))
    )
    skeletal = lookup.skeleton.hits_of(ids) + lookup.words.hits_of(ids)
    ranked = ids[np.lexsort((ids, -skeletal, -share_of, distance))]  # the last key sorts first
    chosen: list[int] = ranked[: params.max_candidates].tolist()
    return chosen


def across_languages(
    lookup: Lookup,
    exclude: int,
    ranked: Sequence[int],
    min_hits: int,
    limit: int,
    wanted: Callable[[int], bool],
) -> list[int]:
    """Candidates found only through shared name pairs, for the meaning path: at most
    `limit` of those whose language (as the entries carry it) is `wanted` (another language
    the encoder knows), most pairs shared first, then the oldest. A same-language pair
    sharing only names is not a copy the word paths missed: it is never fetched.

    >>> en, fr = 25966, 26226
    >>> names = Tally(np.array([3, 4, 5, 6, 7]), np.array([2, 9, 1, 4, 5]),
    ...               np.array([fr, fr, fr, fr, en]))
    >>> look = Lookup(None, np.empty(0, np.int64), {}, {}, EMPTY_TALLY, EMPTY_TALLY,
    ...               EMPTY_TALLY, names)
    >>> across_languages(look, 0, [6], 2, 8, lambda code: code == fr)  # 5: one pair only
    [4, 3]
    """
    named = lookup.names
    taken = set(ranked) | {exclude}
    keep = (named.hits >= min_hits) & np.fromiter(
        (wanted(int(c)) for c in named.counts), dtype=bool, count=len(named.counts)
    )
    order = np.lexsort((named.ids[keep], -named.hits[keep]))
    found = [i for i in named.ids[keep][order].tolist() if i not in taken]
    return found[:limit]


def budget(
    ranked: Sequence[int],
    known: dict[int, int],
    limit: int,
    read_dates: Callable[[list[int]], list[int | None]],
) -> tuple[list[int], int]:
    """The candidates to verify with evidence, at most `limit`: half the SimHash-nearest
    (the head of `ranked`), the rest the earliest published (else first seen); and how many
    candidates are left unverified.

    Verification costs ~0.7 ms a candidate (tokens with offsets, shingles, alignment,
    markers), which hundreds of copies would pay on every query. `known` holds the dates the
    lookup brought (epoch seconds: those of the SimHash-near candidates, where the copies of
    such a story are); `read_dates` reads the others' (None for an article gone since).

    >>> budget([5, 6, 7, 8, 9], {6: 30, 7: 10, 8: 20, 9: 40}, 3, lambda ids: [])
    ([5, 6, 7], 2)
    """
    if len(ranked) <= limit:
        return list(ranked), 0
    nearest = list(ranked[: (limit + 1) // 2])
    taken = set(nearest)
    rest = [doc_id for doc_id in ranked if doc_id not in taken]
    unknown = [doc_id for doc_id in rest if doc_id not in known]
    dated = [(known[doc_id], doc_id) for doc_id in rest if doc_id in known]
    dated += [
        (when, doc_id)
        for doc_id, when in zip(unknown, read_dates(unknown) if unknown else [], strict=True)
        if when is not None
    ]
    earliest = [doc_id for _, doc_id in sorted(dated)[: limit - len(nearest)]]
    return nearest + earliest, len(ranked) - len(nearest) - len(earliest)
