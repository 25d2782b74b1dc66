"""Word shingles as 64-bit hashes, in text order (for alignment) and as a set (for scores)."""

import numpy as np
import numpy.typing as npt
import xxhash

# Odd 64-bit multiplier (the golden-ratio constant) for the polynomial shingle hash; uint64
# arithmetic wraps, which is the intended modulo 2**64.
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

Hashes = npt.NDArray[np.uint64]


CACHED_WORDS = 200_000  # ~25 MB at most


class WordHashes(dict[str, int]):
    """word -> its xxh3 hash, remembered for the first `limit` distinct words (news
    vocabulary is Zipfian: a dict lookup is a third cheaper than hashing the word again).

    A cache, so it is an argument: whoever fingerprints many texts (the detector) keeps one
    and passes it; without one, every word is hashed afresh. Either way the hashes are equal.
    """

    def __init__(self, limit: int = CACHED_WORDS) -> None:
        super().__init__()
        self.limit = limit

    def __missing__(self, word: str) -> int:
        value = xxhash.xxh3_64_intdigest(word.encode())
        if len(self) < self.limit:
            self[word] = value
        return value


def _hash(word: str) -> int:
    return xxhash.xxh3_64_intdigest(word.encode())


def word_hashes(words: list[str] | tuple[str, ...], cache: WordHashes | None = None) -> Hashes:
    """A stable 64-bit hash of each word (xxh3), the same in every process, with or without
    a cache.

    >>> bool(word_hashes(["war"])[0] == word_hashes(("war",), WordHashes())[0])
    True
    """
    hash_of = _hash if cache is None else cache.__getitem__
    return np.fromiter(map(hash_of, words), dtype=np.uint64, count=len(words))


def shingle_hashes(hashes: Hashes, size: int) -> Hashes:
    """The hash of every run of `size` consecutive words, in text order.

    A text of n words has n - size + 1 shingles (none when n < size).

    >>> h = word_hashes("the cold war ended the cold war".split())
    >>> s = shingle_hashes(h, 2)
    >>> len(s), bool(s[0] == s[4]), bool(s[0] == s[1])
    (6, True, False)
    """
    count = len(hashes) - size + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    combined = hashes[:count].copy()
    for offset in range(1, size):
        combined = combined * _MULTIPLIER + hashes[offset : offset + count]
    return combined


def shingle_set(shingles: Hashes) -> Hashes:
    """The distinct shingle hashes, sorted (the set that Jaccard and containment count)."""
    return np.unique(shingles)


def overlap(first: Hashes, second: Hashes) -> int:
    """How many shingle hashes two sorted distinct arrays share.

    >>> overlap(np.array([1, 2, 3], dtype=np.uint64), np.array([2, 3, 4], dtype=np.uint64))
    2
    """
    return int(np.intersect1d(first, second, assume_unique=True).size)
