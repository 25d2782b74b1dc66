"""Shared passages of two texts, aligned, with character offsets into both display texts.

Seed, extend, merge, filter (the scheme of the best PAN text-alignment systems): every word
3-gram the two texts share that holds a content word is a seed; each seed grows into the
longest run of equal words on its diagonal; runs that follow one another in both texts with
gaps of at most `gap` words (an edit: a word swapped, a clause inserted) are merged into one
passage; passages shorter than `min_words` are dropped; the rest are taken longest first so
that no word of either text is used twice. A verbatim copy gives one passage; a rewrite that
keeps most phrases gives passages spanning its edits.
"""

from dataclasses import dataclass

import numpy as np

from dedup.core.shingles import Hashes
from dedup.core.text import Tokens

MAX_SEEDS_PER_SHINGLE = 8  # a boilerplate phrase repeated all over a text seeds at most 8 runs


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of words the two texts share."""

    words: int
    start: int  # offsets into this article's display text
    end: int
    match_start: int  # offsets into the match's display text
    match_end: int


@dataclass(frozen=True, slots=True)
class Alignment:
    """All shared passages, longest first, and how many words they cover."""

    passages: tuple[Passage, ...]
    shared_words: int  # words of this text inside the passages
    match_words: int = 0  # words of the match inside them

    def coverage(self, this_words: int, match_words: int) -> tuple[float, float]:
        """The share of each text's words inside the passages."""
        return (
            round(self.shared_words / this_words, 4) if this_words else 0.0,
            round(self.match_words / match_words, 4) if match_words else 0.0,
        )


def _runs(
    this: Tokens, this_shingles: Hashes, match: Tokens, match_shingles: Hashes, size: int
) -> list[tuple[int, int, int]]:
    """Maximal runs (this_index, match_index, length) of equal words seeded by shared
    shingles, in seed order (this index, then match index).

    A seed is a position of `this` and one of the first MAX_SEEDS_PER_SHINGLE positions of
    `match` with the same shingle. Seeds are found with numpy; on each diagonal (i - j) a
    chain of consecutive seeds is one run, extended word by word past its last seed, and a
    seed inside a run already found starts none.
    """
    if not len(this_shingles) or not len(match_shingles):
        return []
    order = np.argsort(match_shingles, kind="stable")  # equal shingles keep position order
    ordered = match_shingles[order]
    left = np.searchsorted(ordered, this_shingles, "left")
    found = np.minimum(
        np.searchsorted(ordered, this_shingles, "right") - left, MAX_SEEDS_PER_SHINGLE
    )
    if not found.any():
        return []
    i = np.repeat(np.arange(len(this_shingles)), found)
    nth = np.arange(len(i)) - np.repeat(np.cumsum(found) - found, found)
    j = order[np.repeat(left, found) + nth]
    diagonal = i - j
    by_diagonal = np.lexsort((i, diagonal))
    i, diagonal = i[by_diagonal], diagonal[by_diagonal]
    # A chain ends where the diagonal changes or the next seed is not the next position.
    ends = np.flatnonzero((np.diff(diagonal) != 0) | (np.diff(i) != 1))
    starts = np.concatenate(([0], ends + 1))
    ends = np.concatenate((ends, [len(i) - 1]))
    a, b = this.words, match.words
    runs: list[tuple[int, int, int]] = []
    reached: dict[int, int] = {}  # diagonal -> first index of `this` not yet covered
    for first, last, d in zip(
        i[starts].tolist(), i[ends].tolist(), diagonal[starts].tolist(), strict=True
    ):
        at = first
        while at <= last:
            if reached.get(d, -1) > at:
                at = reached[d]
                continue
            length = _extend(a, b, at, at - d, size)
            runs.append((at, at - d, length))
            reached[d] = at + length
            at = at + length
    runs.sort(key=lambda run: (run[0], run[1]))
    return runs


STRIDE = 32  # words compared at once when a run is extended (a slice compare runs in C)


def _extend(a: tuple[str, ...], b: tuple[str, ...], i: int, j: int, length: int) -> int:
    """How long the run of equal words starting at a[i] and b[j] is, given its first
    `length` words are equal: STRIDE words at a time while whole strides match, then
    word by word."""
    while (
        i + length + STRIDE <= len(a)
        and j + length + STRIDE <= len(b)
        and a[i + length : i + length + STRIDE] == b[j + length : j + length + STRIDE]
    ):
        length += STRIDE
    while i + length < len(a) and j + length < len(b) and a[i + length] == b[j + length]:
        length += 1
    return length


GAP_WORDS = 4  # an edit this long (or shorter) inside a passage keeps it one passage


def _chains(runs: list[tuple[int, int, int]], gap: int) -> list[tuple[int, int, int, int]]:
    """Runs (i, j, length) merged into chains (i0, i1, j0, j1): a run joins the chain it
    follows in both texts, with at most `gap` words skipped on either side and the two
    texts' skips differing by at most `gap` (the passage stays on its diagonal).

    >>> _chains([(0, 0, 5), (7, 6, 4), (30, 3, 6)], 4)
    [(0, 11, 0, 10), (30, 36, 3, 9)]
    """
    chains: list[list[int]] = []
    for i, j, length in sorted(runs):
        best = None
        for chain in chains[-16:]:  # recent chains: passages rarely interleave further back
            skip_i, skip_j = i - chain[1], j - chain[3]
            follows = 0 <= skip_i <= gap and 0 <= skip_j <= gap and abs(skip_i - skip_j) <= gap
            if follows and (best is None or skip_i + skip_j < best[0]):
                best = (skip_i + skip_j, chain)
        if best is None:
            chains.append([i, i + length, j, j + length])
        else:
            chain = best[1]
            chain[1], chain[3] = max(chain[1], i + length), max(chain[3], j + length)
    return [(a, b, c, d) for a, b, c, d in chains]


def align(
    this: Tokens,
    this_shingles: Hashes,
    match: Tokens,
    match_shingles: Hashes,
    *,
    shingle_size: int,
    min_words: int,
    gap: int = GAP_WORDS,
    seedable: np.ndarray | None = None,
) -> Alignment:
    """The shared passages of at least `min_words` words, longest first.

    `*_shingles` are the word n-gram hashes in text order (one per position) of the same
    tokens, n = `shingle_size`; `seedable` marks this text's n-grams that may seed (those
    holding a content word: "of the" alone says nothing). Passages merge runs across edits
    of up to `gap` words.
    """
    grams = this_shingles
    if seedable is not None and len(grams) and not seedable.all():
        grams = grams.copy()  # a stopword-only gram gets a value no other gram has
        grams[~seedable] = np.arange(int((~seedable).sum()), dtype=np.uint64) ^ np.uint64(
            0xA5A5_A5A5_A5A5_A5A5
        )
    runs = _runs(this, grams, match, match_shingles, shingle_size)
    chains = _chains(runs, gap) if gap > 0 else [(i, i + n, j, j + n) for i, j, n in runs]
    chains.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    used_a, used_b = bytearray(len(this)), bytearray(len(match))
    passages: list[Passage] = []
    matched = 0
    for i0, i1, j0, j1 in chains:
        if i1 - i0 < min_words or used_a.find(1, i0, i1) >= 0 or used_b.find(1, j0, j1) >= 0:
            continue
        used_a[i0:i1] = b"\x01" * (i1 - i0)
        used_b[j0:j1] = b"\x01" * (j1 - j0)
        matched += j1 - j0
        passages.append(
            Passage(
                words=i1 - i0,
                start=this.starts[i0],
                end=this.ends[i1 - 1],
                match_start=match.starts[j0],
                match_end=match.ends[j1 - 1],
            )
        )
    passages.sort(key=lambda p: (-p.words, p.start))
    return Alignment(tuple(passages), sum(p.words for p in passages), matched)
