"""MinHash (datasketch) with LSH band buckets, and a 64-bit SimHash (simhash) with blocks.

Both are computed from the same words as the shingles, with fast non-cryptographic hashes:
the simhash package's default character 4-grams with MD5 cost ~8.9 ms an article here.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from simhash import Simhash

from dedup.shingles import Hashes

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


def _identity(value: int) -> int:
    return value


def minhash(shingles: Hashes, num_perm: int) -> np.ndarray:
    """The MinHash signature (uint32 array of num_perm values) of a set of shingle hashes.

    The 64-bit shingle hashes are folded to the scheme's 32 bits and fed as they are.
    """
    folded = ((shingles >> np.uint64(32)) ^ shingles) & np.uint64(0xFFFFFFFF)
    sketch = MinHash(
        num_perm=num_perm,
        seed=MINHASH_SEED,
        scheme=MINHASH_SCHEME,
        hashfunc=_identity,
        permutations=_permutations(num_perm),
    )
    sketch.update_batch(folded.tolist())
    return np.asarray(sketch.hashvalues, dtype=np.uint32)


def band_buckets(signature: np.ndarray, params: LshParams) -> list[bytes]:
    """One bucket id per band: a 48-bit hash of that band's rows of the signature."""
    raw = signature[: params.bands * params.rows].astype("<u4").tobytes()
    width = params.rows * 4
    return [
        xxhash.xxh3_64_digest(raw[band * width : (band + 1) * width])[:BUCKET_BYTES]
        for band in range(params.bands)
    ]


def simhash_digest(feature: bytes) -> bytes:
    """The hash the SimHash gives each word: xxh3-64, big-endian (simhash passes UTF-8 bytes)."""
    return xxhash.xxh3_64_digest(feature)


def reference_simhash(words: list[str] | tuple[str, ...]) -> int:
    """The 64-bit SimHash of a text's words, each weighted by its count, computed by the
    simhash package: the definition `simhash_of_hashes` must reproduce bit for bit.

    >>> a = reference_simhash("the cold war ended in nineteen ninety one after talks".split())
    >>> b = reference_simhash("the cold war ended in nineteen ninety one after long talks".split())
    >>> simhash_distance(a, b) <= 8
    True
    """
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return int(Simhash(counts, f=SIMHASH_BITS, hashfunc=simhash_digest).value)


def simhash_of_hashes(word_hashes: Hashes) -> int:
    """The same SimHash as `reference_simhash`, vectorised over the words' xxh3-64 hashes.

    The simhash package loops over features in Python (~1.5 ms an article here); this sums
    the same weighted bits with numpy. A bit is set when more than half the weight has it.
    """
    distinct, counts = np.unique(word_hashes, return_counts=True)
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
