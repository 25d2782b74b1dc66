"""From display text to everything the index and the verification need (pure)."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from dedup.core.reuse import GRAM, stopwords
from dedup.core.rewrite import skeleton_grams
from dedup.core.shingles import Hashes, WordHashes, shingle_hashes, shingle_set, word_hashes
from dedup.core.signatures import LshParams, band_buckets, lsh_params, minhash, simhash_of_shingles
from dedup.core.text import skeleton, translingual, words
from dedup.core.unspin import unspin_words
from dedup.errors import InvalidArticle


@dataclass(frozen=True, slots=True)
class FingerprintParams:
    """The parameters that make two fingerprints comparable. No defaults here: the one
    source of defaults is `dedup.config.Settings` (fields of the same names), so anything
    built from these runs the detector the service runs."""

    shingle_size: int
    num_perm: int
    lsh_threshold: float
    min_words: int
    anchor_modulus: int  # the sparsest anchor sampling (long texts): 0 mod this; 0: none
    anchor_target: int  # anchors a text aims for: shorter texts sample more densely
    short_words: int  # a text this short also indexes its content words (paraphrase path)
    skeleton_modulus: int  # the same for skeleton 3-grams (names and numbers); 0: none
    spin_normalisation: bool  # map known spun phrases back to their canonical words first

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
    anchors: tuple[int, ...]  # word 3-gram hashes indexed for the reuse path
    anchor_grams: int  # distinct 3-grams with a content word (what the anchors sample)
    word_anchors: tuple[int, ...]  # a short text's distinct content words, indexed
    skeleton_set: Hashes  # sorted distinct skeleton 3-grams (the rewrite path's gate)
    skeleton: tuple[int, ...]  # skeleton 3-grams indexed for the rewrite path
    simhash: int
    digest: bytes  # of the normalised text: equal digests mean a duplicate
    name_pairs: tuple[int, ...] = ()  # translingual name pairs indexed (cross-language path)

    @property
    def word_count(self) -> int:
        return len(self.words)


def text_digest(normalized_words: tuple[str, ...] | list[str]) -> bytes:
    """A 16-byte digest of the normalised text (words joined by spaces)."""
    return hashlib.blake2b(" ".join(normalized_words).encode(), digest_size=16).digest()


def fingerprint(
    text: str, params: FingerprintParams, cache: WordHashes | None = None
) -> Fingerprint:
    """Fingerprint a display text; raise InvalidArticle when it is too short to compare.
    `cache` remembers word hashes between calls (see `WordHashes`).

    >>> params = FingerprintParams(5, 128, 0.5, 20, 8, 64, 150, 0, spin_normalisation=False)
    >>> fp = fingerprint("word " * 30, params)
    >>> fp.word_count, len(fp.buckets), len(fp.shingle_set), fp.anchor_grams
    (30, 25, 1, 1)
    """
    found = normalised_words(text, params.spin_normalisation)
    if len(found) < params.min_words:
        raise InvalidArticle(
            f"text has {len(found)} words after normalisation; at least {params.min_words} "
            "are needed to fingerprint it (send the full article text)"
        )
    hashes = word_hashes(found, cache)
    shingles = shingle_hashes(hashes, params.shingle_size)
    distinct, counts = np.unique(shingles, return_counts=True)
    names = skeleton(text)
    grams = skeleton_grams(names, cache)
    content = content_grams(found, hashes)
    return Fingerprint(
        words=found,
        shingles=shingles,
        shingle_set=distinct,
        buckets=tuple(band_buckets(minhash(distinct, params.num_perm), params.lsh)),
        anchors=anchors_of(
            content, modulus_for(len(content), params.anchor_modulus, params.anchor_target)
        ),
        anchor_grams=len(content),
        word_anchors=content_words(found, hashes) if len(found) <= params.short_words else (),
        skeleton_set=grams,
        skeleton=anchors_of(grams, params.skeleton_modulus),
        simhash=simhash_of_shingles(distinct, counts),
        digest=text_digest(found),
        name_pairs=indexed_pairs(names, params),
    )


def content_grams(found: Sequence[str], hashes: Hashes) -> Hashes:
    """The distinct word 3-grams holding a content word (not only stopwords), sorted: what
    the reuse features count, and what anchors sample."""
    grams = shingle_hashes(hashes, GRAM)
    if not len(grams):
        return grams
    stops = stopwords()
    content = np.fromiter((w not in stops for w in found), dtype=bool, count=len(found))
    keep = content[: len(grams)] | content[1 : len(grams) + 1] | content[2 : len(grams) + 2]
    return np.unique(grams[keep])


def content_words(found: Sequence[str], hashes: Hashes) -> tuple[int, ...]:
    """The distinct content words (not stopwords) of a text, as hashes, sorted.

    >>> from dedup.core.shingles import word_hashes
    >>> words = ("the", "court", "ruled", "the", "court")
    >>> len(content_words(words, word_hashes(words)))
    2
    """
    stops = stopwords()
    keep = np.fromiter((w not in stops for w in found), dtype=bool, count=len(found))
    return tuple(int(h) for h in np.unique(hashes[keep]).tolist())


def modulus_for(grams: int, largest: int, target: int) -> int:
    """The anchor sampling of a text of `grams` 3-grams: the smallest power of two that
    leaves it about `target` anchors, at most `largest` (0: no anchors). Powers of two nest,
    so two texts always agree on the anchors they share: those 0 mod the larger modulus.

    >>> [modulus_for(n, 8, 64) for n in (40, 64, 65, 300, 5000)]
    [1, 1, 2, 8, 8]
    """
    if largest <= 0:
        return 0
    modulus = 1
    while modulus < largest and grams > modulus * target:
        modulus *= 2
    return modulus


def anchors_of(distinct: Hashes, modulus: int) -> tuple[int, ...]:
    """The hashes kept as anchors: those that are 0 mod `modulus` (none for 0).

    Anchors are chosen by the hash alone, so a copy and its source agree on them: a text
    sharing n 3-grams with another shares about n / modulus of them as anchors (the larger
    of the two texts' moduli), however short it is next to it (LSH sees only their Jaccard
    similarity).

    >>> import numpy as np
    >>> anchors_of(np.array([16, 17, 32, 40], dtype=np.uint64), 16)
    (16, 32)
    """
    if modulus <= 0:
        return ()
    return tuple(int(h) for h in distinct[distinct % np.uint64(modulus) == 0].tolist())


def normalised_words(text: str, unspin: bool) -> tuple[str, ...]:
    """The words shingles are made of: normalised, and unspun when asked.

    >>> normalised_words("The Chilly Battle ended", unspin=True)
    ('the', 'cold', 'war', 'ended')
    """
    found = words(text)
    return tuple(unspin_words(found) if unspin else found)


def stored_fingerprint(
    found: tuple[str, ...],
    simhash: int,
    digest: bytes,
    shingle_size: int,
    cache: WordHashes | None = None,
) -> Fingerprint:
    """What verification needs of a stored article, from its normalised (and, when the index
    unspins, unspun) words: its shingles, plus the SimHash and digest its record already
    holds (no signatures are recomputed; the skeleton, needed only when the shingles do not
    decide, is left empty: see `skeleton_set_of`)."""
    shingles = shingle_hashes(word_hashes(found, cache), shingle_size)
    empty = np.empty(0, dtype=np.uint64)
    return Fingerprint(
        found, shingles, shingle_set(shingles), (), (), 0, (), empty, (), simhash, digest
    )


NAME_PAIRS_MAX = 256


def indexed_pairs(names: list[str], params: FingerprintParams) -> tuple[int, ...]:
    """The name pairs an article indexes, from its skeleton: none when the skeleton path is
    off (DEDUP_SKELETON_MODULUS=0), which turns the name pairs off too."""
    return pairs_of(translingual(names)) if params.skeleton_modulus else ()


def indexed_name_pairs(text: str, params: FingerprintParams) -> tuple[int, ...]:
    """`indexed_pairs` of a display text: what deleting a record must remove again."""
    return indexed_pairs(skeleton(text), params)


def name_pairs(text: str) -> tuple[int, ...]:
    """The cross-language candidate path's index entries of a text (see `pairs_of`).

    >>> len(name_pairs("Then Ana Lopez met Bo Kim and Ana Lopez in 2021."))
    4
    """
    return pairs_of(translingual(skeleton(text)))


def pairs_of(found: Sequence[str]) -> tuple[int, ...]:
    """Each two neighbouring words of a translingual skeleton (`text.translingual`), and each
    two neighbouring numbers of it (German capitalises every noun, Japanese no name, and
    numbers survive both), unordered and hashed: the name-pair index entries (groups `n`).

    A translation keeps a median 6-10 of its source's pairs (WMT21 dev); its source is then
    among the candidates for 0.83-0.89 of de-fr and fr-de pairs, 0.74 of ru-en, 0.66 of ja-en
    (Japanese spells foreign names in katakana and capitalises nothing: numbers carry over).
    All are indexed: sampling them (by hash, as anchors are) lost a third of those pairs.
    """
    numbers = [w for w in found if w.startswith("#")]
    pairs = sorted(
        {"|".join(sorted(p)) for seq in (found, numbers) for p in pairwise(seq) if p[0] != p[1]}
    )
    if not pairs:
        return ()
    hashes = word_hashes(["\x00" + p for p in pairs])  # \x00: apart from words' hashes
    # The smallest NAME_PAIRS_MAX hashes (a bottom-k sample, which two texts draw alike): a
    # news article has ~40 pairs; a 2 MB list of names would otherwise index 100,000.
    return tuple(int(h) for h in np.unique(hashes)[:NAME_PAIRS_MAX].tolist())


def skeleton_set_of(text: str, cache: WordHashes | None = None) -> Hashes:
    """The sorted distinct skeleton 3-grams of a display text."""
    return skeleton_grams(skeleton(text), cache)
