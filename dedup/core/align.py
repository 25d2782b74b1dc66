"""Shared passages of two texts, aligned, with character offsets into both display texts.

Seed and extend: every shingle the two texts share is a seed; each seed grows into the
longest run of equal words on its diagonal; runs are then taken longest first, trimmed so no
word of either text is used twice (greedy string tiling).
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
    shared_words: int


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


def _free_span(
    i: int, j: int, length: int, used_a: bytearray, used_b: bytearray
) -> tuple[int, int]:
    """The longest [offset, offset + size) of a run whose words are unused on both sides
    (the first one of several equally long)."""
    best_offset, best_size, offset = 0, 0, 0
    while offset < length:
        # The next used word on either side ends the free stretch that starts here.
        stop_a = used_a.find(1, i + offset, i + length)
        stop_b = used_b.find(1, j + offset, j + length)
        stop = min(length if stop_a < 0 else stop_a - i, length if stop_b < 0 else stop_b - j)
        if stop - offset > best_size:
            best_offset, best_size = offset, stop - offset
        offset = stop + 1
    return best_offset, best_size


def align(
    this: Tokens,
    this_shingles: Hashes,
    match: Tokens,
    match_shingles: Hashes,
    *,
    shingle_size: int,
    min_words: int,
) -> Alignment:
    """The shared passages of at least `min_words` words, longest first.

    `*_shingles` are the shingle hashes in text order (one per position) of the same tokens.
    """
    runs = _runs(this, this_shingles, match, match_shingles, shingle_size)
    runs.sort(key=lambda run: (-run[2], run[0]))
    used_a, used_b = bytearray(len(this)), bytearray(len(match))
    passages: list[Passage] = []
    for i, j, length in runs:
        offset, size = _free_span(i, j, length, used_a, used_b)
        if size < min_words:
            continue
        i, j = i + offset, j + offset
        used_a[i : i + size] = b"\x01" * size
        used_b[j : j + size] = b"\x01" * size
        passages.append(
            Passage(
                words=size,
                start=this.starts[i],
                end=this.ends[i + size - 1],
                match_start=match.starts[j],
                match_end=match.ends[j + size - 1],
            )
        )
    passages.sort(key=lambda p: (-p.words, p.start))
    return Alignment(tuple(passages), sum(p.words for p in passages))
