"""Copies rewritten word by word or sentence by sentence: spun and paraphrased text (pure).

A spinner swaps common words for synonyms; a paraphraser rewords, reorders and drops
sentences. Both break most word 5-grams (with 30% of the words swapped, 0.7^5 = 17% of them
survive), so the shingle containment that finds scraped copies misses them. Neither touches
what carries the facts, and neither moves the facts far:

- the **skeleton**, the names and numbers of a text in order (`text.skeleton`): its 3-grams
  are the second signature, indexed like anchors. Independent reports of one event share
  names, but rarely three in the same order;
- **sentence alignment**: each sentence paired with the most similar sentence of the other
  text (Dice over their word sets). A rewrite keeps most of its sentences pairable; a report
  written independently pairs only the odd quote. The pairs are also the evidence shown to
  a human, side by side.

Whether a pair is a copy is the reuse model's call (`core.reuse`); the pairs are evidence,
and tell a rewrite of all of a text (at least `min_explained` of either text's words in
paired sentences) from the reuse of a part of it.
"""

import bisect
import itertools
from dataclasses import dataclass

from dedup.core.shingles import Hashes, WordHashes, shingle_hashes, shingle_set, word_hashes
from dedup.core.text import Tokens, sentence_starts

# Sentences of each text that are paired, at most: pairing compares every sentence with
# every other, so the work is bounded by design, not by the input (a news article has under
# 200; a 40,000-character text of one repeated sentence took 0.25 s here, 80,000 four times).
MAX_PAIRED_SENTENCES = 400

SKELETON_GRAM = 3  # names and numbers per skeleton shingle
MIN_SENTENCE_WORDS = 4  # shorter sentences ("He declined.") pair with too much by chance


@dataclass(frozen=True, slots=True)
class RewriteRule:
    """How sentences pair (the `DEDUP_REWRITE_*` settings)."""

    min_similarity: float  # Dice of two sentences' word sets to pair them
    min_explained: float  # share of either text's words in pairs that makes a whole rewrite


@dataclass(frozen=True, slots=True)
class SentencePair:
    """A sentence of this text, the match's sentence most like it, and how alike they are."""

    similarity: float
    start: int  # offsets into this article's display text
    end: int
    match_start: int  # offsets into the match's display text
    match_end: int


@dataclass(frozen=True, slots=True)
class Rewrite:
    """How one text's sentences pair with another's."""

    pairs: tuple[SentencePair, ...]  # in this text's order
    explained: float  # share of this text's words inside paired sentences
    explained_by: float  # share of the match's words inside paired sentences
    order: float  # share of the pairs in the longest run in the same order in both texts
    similarity: float  # mean similarity of the pairs (1.0: the sentences are the same)


def skeleton_grams(names_and_numbers: list[str], cache: WordHashes | None = None) -> Hashes:
    """The distinct hashes of every run of three skeleton words, sorted.

    >>> len(skeleton_grams(["blair", "brown", "2005", "blair"]))
    2
    """
    return shingle_set(shingle_hashes(word_hashes(names_and_numbers, cache), SKELETON_GRAM))


@dataclass(frozen=True, slots=True)
class _Sentence:
    first: int  # token indices [first, last)
    last: int
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class Sentences:
    """A text's tokens and its sentences, as the sentence alignment takes them (worked out
    once per text, however many texts it is aligned with)."""

    tokens: Tokens
    every: tuple[_Sentence, ...]


def sentences_of(text: str, tokens: Tokens) -> Sentences:
    starts = sentence_starts(text, tokens)
    bounds = [*starts, len(tokens)]
    return Sentences(
        tokens,
        tuple(
            _Sentence(first, last, frozenset(tokens.words[first:last]))
            for first, last in itertools.pairwise(bounds)
        ),
    )


def _longest_increasing(values: list[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting).

    >>> _longest_increasing([1, 0, 3, 2, 4])
    3
    """
    tails: list[int] = []
    for value in values:
        at = bisect.bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
        else:
            tails[at] = value
    return len(tails)


def align_sentences(
    this_text: str,
    this_tokens: Tokens,
    match_text: str,
    match_tokens: Tokens,
    min_similarity: float,
) -> Rewrite:
    """Pair every sentence of this text with its most similar sentence of the match.

    >>> a = "The firm said profits rose sharply. Shares in the group fell on Monday."
    >>> b = "Shares in the group dropped on Monday. The firm stated profits rose sharply."
    >>> from dedup.core.text import tokenize
    >>> r = align_sentences(a, tokenize(a), b, tokenize(b), 0.5)
    >>> len(r.pairs), r.explained, r.explained_by, r.order
    (2, 1.0, 1.0, 0.5)
    """
    return pair_sentences(
        sentences_of(this_text, this_tokens),
        sentences_of(match_text, match_tokens),
        min_similarity,
    )


def pair_sentences(this: Sentences, match: Sentences, min_similarity: float) -> Rewrite:
    """`align_sentences` of two texts whose sentences are worked out already."""
    ours, every = this.every, match.every
    this_tokens, match_tokens = this.tokens, match.tokens
    theirs = [s for s in every if len(s.words) >= MIN_SENTENCE_WORDS][:MAX_PAIRED_SENTENCES]
    found: list[tuple[int, int, float]] = []  # (our index, their index, similarity)
    for i, sentence in enumerate(ours[:MAX_PAIRED_SENTENCES]):
        size = len(sentence.words)
        if size < MIN_SENTENCE_WORDS:
            continue
        best, best_j = 0.0, -1
        for j, other in enumerate(theirs):
            dice = 2 * len(sentence.words & other.words) / (size + len(other.words))
            if dice > best:
                best, best_j = dice, j
        if best >= min_similarity:
            found.append((i, best_j, best))
    our_words = sum(s.last - s.first for s in ours) or 1
    their_words = sum(s.last - s.first for s in every) or 1
    paired_ours = sum(ours[i].last - ours[i].first for i, _, _ in found)
    paired_theirs = sum(theirs[j].last - theirs[j].first for j in {j for _, j, _ in found})
    pairs = tuple(
        SentencePair(
            similarity=round(dice, 3),
            start=this_tokens.starts[ours[i].first],
            end=this_tokens.ends[ours[i].last - 1],
            match_start=match_tokens.starts[theirs[j].first],
            match_end=match_tokens.ends[theirs[j].last - 1],
        )
        for i, j, dice in found
    )
    order = _longest_increasing([j for _, j, _ in found]) / len(found) if found else 0.0
    return Rewrite(
        pairs=pairs,
        explained=round(paired_ours / our_words, 4),
        explained_by=round(paired_theirs / their_words, 4),
        order=round(order, 4),
        similarity=round(sum(d for _, _, d in found) / len(found), 4) if found else 0.0,
    )
