"""From display text to everything the index and the verification need (pure)."""

import hashlib
from dataclasses import dataclass

import numpy as np

from dedup.errors import InvalidArticle
from dedup.shingles import Hashes, shingle_hashes, shingle_set, word_hashes
from dedup.signatures import LshParams, band_buckets, lsh_params, minhash, simhash
from dedup.text import words


@dataclass(frozen=True, slots=True)
class FingerprintParams:
    """The parameters that make two fingerprints comparable."""

    shingle_size: int = 5
    num_perm: int = 128
    lsh_threshold: float = 0.5
    min_words: int = 20

    @property
    def lsh(self) -> LshParams:
        return lsh_params(self.lsh_threshold, self.num_perm)


@dataclass(frozen=True, slots=True, eq=False)
class Fingerprint:
    """A text's words, shingles, signatures and digest."""

    words: tuple[str, ...]
    shingles: Hashes  # in text order, one per position (alignment seeds)
    shingle_set: Hashes  # sorted distinct (Jaccard and containment)
    buckets: tuple[bytes, ...]  # one LSH bucket per band
    simhash: int
    digest: bytes  # of the normalised text: equal digests mean a duplicate

    @property
    def word_count(self) -> int:
        return len(self.words)


def text_digest(normalized_words: tuple[str, ...] | list[str]) -> bytes:
    """A 16-byte digest of the normalised text (words joined by spaces)."""
    return hashlib.blake2b(" ".join(normalized_words).encode(), digest_size=16).digest()


def fingerprint(text: str, params: FingerprintParams, *, with_buckets: bool = True) -> Fingerprint:
    """Fingerprint a display text; raise InvalidArticle when it is too short to compare.

    >>> fp = fingerprint("word " * 30, FingerprintParams())
    >>> fp.word_count, len(fp.buckets), len(fp.shingle_set)
    (30, 25, 1)
    """
    found = tuple(words(text))
    if len(found) < params.min_words:
        raise InvalidArticle(
            f"text has {len(found)} words after normalisation; at least {params.min_words} "
            "are needed to fingerprint it (send the full article text)"
        )
    shingles = shingle_hashes(word_hashes(found), params.shingle_size)
    distinct = shingle_set(shingles)
    buckets: tuple[bytes, ...] = ()
    if with_buckets:
        buckets = tuple(band_buckets(minhash(distinct, params.num_perm), params.lsh))
    return Fingerprint(
        words=found,
        shingles=shingles,
        shingle_set=distinct,
        buckets=buckets,
        simhash=simhash(found),
        digest=text_digest(found),
    )


def empty_hashes() -> Hashes:
    return np.empty(0, dtype=np.uint64)
