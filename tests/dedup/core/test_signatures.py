import numpy as np
import xxhash
from datasketch import MinHash, MinHashLSH

from dedup.core.fingerprint import fingerprint
from dedup.core.shingles import overlap, shingle_hashes, word_hashes
from dedup.core.signatures import (
    lsh_params,
    minhash,
    reference_simhash,
    simhash_blocks,
    simhash_distance,
    simhash_of_shingles,
)
from dedup.core.text import words
from tests.conftest import fingerprint_params


def test_band_layout_is_datasketchs_optimum_for_the_threshold() -> None:
    for threshold, num_perm in [(0.5, 128), (0.3, 64), (0.7, 256)]:
        params = lsh_params(threshold, num_perm)
        reference = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert (params.bands, params.rows) == (reference.b, reference.r)


def test_minhash_estimates_the_exact_jaccard_of_real_texts(bbc: list[dict[str, str]]) -> None:
    params = fingerprint_params()
    text = bbc[0]["text"]
    half = text[: len(text) // 2] + bbc[1]["text"][: len(text) // 2]
    a, b = fingerprint(text, params), fingerprint(half, params)
    shared = overlap(a.shingle_set, b.shingle_set)
    exact = shared / (len(a.shingle_set) + len(b.shingle_set) - shared)
    estimate = float(np.mean(minhash(a.shingle_set, 128) == minhash(b.shingle_set, 128)))
    assert 0.1 < exact < 0.6
    assert abs(estimate - exact) < 0.15  # 128 permutations: standard error ~0.044


def test_minhash_is_datasketchs_affine32_scheme_fed_the_same_values() -> None:
    shingles = np.array([3, 10**12, 2**63 + 5], dtype=np.uint64)
    folded = ((shingles >> np.uint64(32)) ^ shingles) & np.uint64(0xFFFFFFFF)
    reference = MinHash(num_perm=64, seed=1, scheme="affine32", hashfunc=int)
    reference.update_batch(folded.tolist())
    assert minhash(shingles, 64).tolist() == reference.hashvalues.tolist()


def test_identical_texts_share_every_bucket_and_simhash(bbc: list[dict[str, str]]) -> None:
    params = fingerprint_params()
    a = fingerprint(bbc[2]["text"], params)
    b = fingerprint("  " + bbc[2]["text"].replace("'", "’") + "\n", params)
    assert a.buckets == b.buckets
    assert a.simhash == b.simhash
    assert a.digest == b.digest


def test_simhash_blocks_reassemble_the_hash() -> None:
    value = 0xDEADBEEF12345678
    blocks = simhash_blocks(value)
    assert sum(block << (16 * i) for i, block in enumerate(blocks)) == value
    assert simhash_distance(value, value ^ 0b101) == 2


def package_simhash(found: list[str], shingles: np.ndarray) -> int:
    """The simhash package's SimHash of the same shingles: features are the shingle texts,
    weighted by count, hashed to the 64-bit shingle hash dedup uses."""
    hash_of = {" ".join(found[i : i + 5]): h for i, h in enumerate(shingles.tolist())}
    counts: dict[str, int] = {}
    for feature in hash_of:
        counts[feature] = 0
    for i in range(len(shingles)):
        counts[" ".join(found[i : i + 5])] += 1

    def shingle_hash(feature: bytes) -> bytes:  # simhash also probes it with b"test"
        return int(hash_of.get(feature.decode(), 0)).to_bytes(8, "big")

    return reference_simhash(counts, shingle_hash)


def test_vectorised_simhash_equals_the_simhash_package_on_real_articles(
    bbc: list[dict[str, str]],
) -> None:
    for row in bbc[:200]:
        found = words(row["text"])
        shingles = shingle_hashes(word_hashes(found), 5)
        distinct, counts = np.unique(shingles, return_counts=True)
        assert simhash_of_shingles(distinct, counts) == package_simhash(found, shingles), row["id"]


def test_unrelated_articles_are_far_apart_in_simhash(bbc: list[dict[str, str]]) -> None:
    params = fingerprint_params()
    hashes = [fingerprint(row["text"], params).simhash for row in bbc[:300]]
    close = sum(simhash_distance(a, b) <= 3 for i, a in enumerate(hashes) for b in hashes[i + 1 :])
    assert close == 0


def test_word_hashes_are_xxh3_whether_remembered_or_not() -> None:
    found = ["the", "cold", "war", "ended", "the", "cold", "war", "in", "1989", "und", "über"]
    expected = [xxhash.xxh3_64_intdigest(w.encode()) for w in found]
    assert word_hashes(found).tolist() == expected  # first sight: hashed
    assert word_hashes(tuple(found)).tolist() == expected  # then remembered
