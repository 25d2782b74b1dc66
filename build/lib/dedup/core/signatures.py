"""MinHash (datasketch) with LSH band buckets, and a 64-bit SimHash (simhash) with blocks.

Both are computed from the same words as the shingles, with fast non-cryptographic hashes:
the simhash package's default character 4-grams with MD5 cost ~8.9 ms an article here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from datasketch.minhash import _fmix
from simhash import Simhash

from dedup.core.shingles import Hashes

MINHASH_SEED = 1  # fixed: signatures must stay comparable across processes and releases
MINHASH_SCHEME = "affine32"  # datasketch 2.0's bijective 32-bit scheme (fast, no fold bias)
SIMHASH_BITS = 64
SIMHASH_BLOCKS = 4  # pigeonhole: two hashes within Hamming distance 3 share a 16-bit block
SIMHASH_MAX_DISTANCE = SIMHASH_BLOCKS - 1
BUCKET_BYTES = 6  # 48-bit band buckets: collisions stay rare far past 100M articles


@dataclass(frozen=True, slots=True)
class LshParams:
    """How a MinHash signature is cut into bands of rows."""

    num_perm: int
    bands: int
    rows: int


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> LshParams:
    """datasketch's (bands, rows) that minimise false positives plus false negatives.

    >>> lsh_params(0.5, 128)
    LshParams(num_perm=128, bands=25, rows=5)
    """
    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return LshParams(num_perm, bands, rows)


@lru_cache(maxsize=16)
def _permutations(num_perm: int) -> np.ndarray:
    sketch = MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
    permutations: np.ndarray = sketch.permutations
    return permutations


def minhash(shingles: Hashes, num_perm: int) -> np.ndarray:
    """The MinHash signature (uint32 array of num_perm values) of a set of shingle hashes.

    datasketch's "affine32" scheme computed directly on the array: the 64-bit shingle hashes
    are folded to 32 bits, pre-mixed with datasketch's MurmurHash3 finalizer, permuted by
    a*h+b mod 2**32 with datasketch's own (a, b), and the minimum kept. It equals
    `MinHash(scheme="affine32").update_batch` bit for bit (see the tests) without its
    per-value Python loop.
    """
    a, b = _permutations(num_perm)
    if not len(shingles):
        return np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    folded = (((shingles >> np.uint64(32)) ^ shingles) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    mixed = _fmix(folded, 32).reshape(-1, 1)
    signature: np.ndarray = (mixed * a + b).min(axis=0)
    return signature


def band_buckets(signature: np.ndarray, params: LshParams) -> list[bytes]:
    """One bucket id per band: a 48-bit hash of that band's rows of the signature."""
    raw = signature[: params.bands * params.rows].astype("<u4").tobytes()
    width = params.rows * 4
    return [
        xxhash.xxh3_64_digest(raw[band * width : (band + 1) * width])[:BUCKET_BYTES]
        for band in range(params.bands)
    ]


def reference_simhash(features: dict[str, int], hashfunc: Callable[[bytes], bytes]) -> int:
    """The 64-bit SimHash of weighted features as the simhash package computes it: the
    definition `simhash_of_shingles` must reproduce bit for bit (see the tests)."""
    return int(Simhash(features, f=SIMHASH_BITS, hashfunc=hashfunc).value)


def simhash_of_shingles(distinct: Hashes, counts: np.ndarray) -> int:
    """The SimHash of a text's distinct word shingles weighted by their counts, vectorised.

    Features are shingles, not words: over words, stopwords dominate and unrelated English
    articles land within a few bits of each other. The simhash package loops over features
    in Python (~1.5 ms an article here); this sums the same weighted bits with numpy. A bit
    is set when more than half the weight has it.

    >>> from dedup.core.shingles import shingle_hashes, word_hashes
    >>> import numpy as np
    >>> def sh(text):
    ...     return simhash_of_shingles(*np.unique(shingle_hashes(word_hashes(text.split()), 3),
    ...                                           return_counts=True))
    >>> a = sh("the cold war ended in nineteen ninety one after years of talks")
    >>> b = sh("the cold war ended in nineteen ninety one after many years of talks")
    >>> c = sh("shares in the bank rose sharply after it reported record profits today")
    >>> simhash_distance(a, b) < simhash_distance(a, c)
    True
    """
    if not len(distinct):
        return 0
    bits = np.unpackbits(distinct.astype(">u8").view(np.uint8)).reshape(-1, SIMHASH_BITS)
    sums = counts @ bits
    return int.from_bytes(np.packbits(sums > counts.sum() / 2).tobytes(), "big")


def simhash_blocks(value: int) -> list[int]:
    """The four 16-bit blocks of a SimHash, lowest first.

    >>> simhash_blocks(0x0004_0003_0002_0001)
    [1, 2, 3, 4]
    """
    width = SIMHASH_BITS // SIMHASH_BLOCKS
    mask = (1 << width) - 1
    return [(value >> (width * block)) & mask for block in range(SIMHASH_BLOCKS)]


def simhash_distance(first: int, second: int) -> int:
    """How many of the 64 bits differ.

    >>> simhash_distance(0b1011, 0b0001)
    2
    """
    return (first ^ second).bit_count()
