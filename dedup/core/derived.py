"""What verification works out of one text (`Derived`), and the cache that keeps it for the
stored articles a process meets again and again (`DerivedCache`)."""

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from dedup.core.article import Article
from dedup.core.fingerprint import (
    Fingerprint,
    normalised_words,
    skeleton_set_of,
    stored_fingerprint,
)
from dedup.core.markers import Marker, Rules, find_markers
from dedup.core.reuse import GRAM, Profile, profile
from dedup.core.rewrite import Sentences, sentences_of
from dedup.core.semantic import Embedded, Encode, embed
from dedup.core.shingles import Hashes, WordHashes, shingle_hashes, word_hashes
from dedup.core.text import Tokens, tokenize
from dedup.core.unspin import unspin_tokens

if TYPE_CHECKING:
    from dedup.core.verification import MatchParams


class Derived:
    """What verification works out of one text, each part worked out when first needed.

    The query's is made per check; a stored article's is kept in a `DerivedCache`.
    """

    __slots__ = (
        "_embedded",
        "_fingerprint",
        "_gram_set",
        "_markers",
        "_profile",
        "_sentences",
        "_skeleton",
        "_tokens",
        "digest",
        "simhash",
        "text",
    )

    def __init__(
        self,
        text: str,
        digest: bytes,
        simhash: int,
        skeleton: Hashes | tuple[int, ...] | None = None,
    ) -> None:
        self.text, self.digest, self.simhash = text, digest, simhash
        self._skeleton = skeleton  # the record's tuple is made an array when first needed
        self._fingerprint: Fingerprint | None = None
        self._tokens: Tokens | None = None
        self._sentences: Sentences | None = None
        self._markers: tuple[Marker, ...] | None = None
        self._profile: Profile | None = None
        self._embedded: Embedded | None = None
        self._gram_set: Hashes | None = None

    @classmethod
    def of(cls, article: Article) -> "Derived":
        return cls(article.text, article.digest, article.simhash, article.skeleton_set)

    def fingerprint(self, params: "MatchParams", hashes: WordHashes | None = None) -> Fingerprint:
        """Its shingles from plain words: most candidates fail the bar, and only those that
        pass need tokens with offsets for the evidence (0.13 ms more an article)."""
        if self._fingerprint is None:
            self._fingerprint = stored_fingerprint(
                normalised_words(self.text, params.fingerprint.spin_normalisation),
                self.simhash,
                self.digest,
                params.fingerprint.shingle_size,
                hashes,
            )
        return self._fingerprint

    def skeleton_set(self, hashes: WordHashes | None = None) -> Hashes:
        """Its skeleton 3-grams: from the record when it keeps them (0.15 ms saved on every
        candidate that fails the shingle bar), else from the text."""
        if self._skeleton is None:
            self._skeleton = skeleton_set_of(self.text, hashes)
        elif isinstance(self._skeleton, tuple):
            self._skeleton = np.array(self._skeleton, dtype=np.uint64)
        return self._skeleton

    def tokens(self, params: "MatchParams") -> Tokens:
        """Its tokens as its shingles were made (unspun when the fingerprint is)."""
        if self._tokens is None:
            tokens = tokenize(self.text)
            self._tokens = (
                unspin_tokens(tokens) if params.fingerprint.spin_normalisation else tokens
            )
        return self._tokens

    def gram_set(self, params: "MatchParams", hashes: WordHashes | None = None) -> Hashes:
        """Its distinct word 3-grams, as its profile holds them, without the rest of the
        profile (quotations, sentences: ~0.6 ms more), which a pair the 3-grams decide
        never needs."""
        if self._profile is not None:
            return self._profile.gram_set
        if self._gram_set is None:
            found = self.tokens(params).words
            self._gram_set = np.unique(shingle_hashes(word_hashes(found, hashes), GRAM))
        return self._gram_set

    def n_words(self, params: "MatchParams") -> int:
        return len(self.tokens(params))

    def profile(self, params: "MatchParams", hashes: WordHashes | None = None) -> Profile:
        """What the reuse features need: 3-grams, content words, quotations, sentences."""
        if self._profile is None:
            self._profile = profile(self.text, self.tokens(params), hashes)
        return self._profile

    def sentences(self, params: "MatchParams") -> Sentences:
        if self._sentences is None:
            self._sentences = sentences_of(self.text, self.tokens(params))
        return self._sentences

    def embedded(self, params: "MatchParams", encode: Encode) -> Embedded:
        """Its sentences as the encoder's vectors (the meaning path)."""
        if self._embedded is None:
            self._embedded = embed(self.text, self.sentences(params), encode)
        return self._embedded

    def markers(self, rules: Rules | None) -> tuple[Marker, ...]:
        if self._markers is None:
            self._markers = tuple(find_markers(self.text, rules))
        return self._markers


class DerivedCache:
    """The last `size` stored articles' `Derived`, by id (0: keep none).

    The copies of one story meet the same few candidates again and again: its original and
    its earliest copies, which the verification budget always takes. Working their words,
    tokens and markers out again cost ~0.4 ms a candidate. An entry is used only while its
    digest is the record's, so a changed text is worked out anew. One cache serves one
    `MatchParams` and one set of rules; it is safe to share between threads (two threads may
    both work an entry out, with the same result). It also carries the word-hash cache of
    whoever fingerprints the queries (`hashes`), so that both sides share it.
    """

    def __init__(self, size: int, hashes: WordHashes | None = None) -> None:
        self.size = size
        self.hashes = hashes
        self.hits = self.misses = 0  # entries found, and made (new or stale)
        self._entries: OrderedDict[int, Derived] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, article: Article) -> Derived:
        """The article's entry (a new, empty one when missing or stale)."""
        if self.size <= 0:
            return Derived.of(article)
        with self._lock:
            found = self._entries.get(article.id)
            if found is not None and found.digest == article.digest:
                self._entries.move_to_end(article.id)
                self.hits += 1
                return found
            self.misses += 1
            found = self._entries[article.id] = Derived.of(article)
            self._entries.move_to_end(article.id)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return found

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries


NO_CACHE = DerivedCache(0)
