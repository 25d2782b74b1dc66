"""Meaning across languages: sentence pairs found by a multilingual sentence encoder (pure,
given the encoder's vectors).

A translation shares no words with its source beyond names and numbers, so neither shingles
nor the reuse model can see it; it does keep the source's sentences, one for one and in
order. Each sentence of both texts becomes a vector (the encoder is passed in: see
`dedup.adapters.encoder`); two sentences pair when each is the other's most similar (cosine) and
the similarity clears `min_similarity`; the pairs kept are the longest run in the same order
in both texts. A pair of texts is a cross-language copy when those pairs cover at least
`min_share` of the shorter text's sentences, and at least `min_pairs` of them.

Measured on the WMT21 dev articles (`../shared/corpus/wmt21-news-dev.jsonl`,
USE multilingual v3, cosine >= 0.5): a translation's in-order pairs cover a median 0.96 to
1.0 of its sentences (5th percentile 0.61 human, 0.77 machine), a same-period article on
another story a median 0 (95th percentile 0.15-0.25).
"""

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dedup.core.rewrite import MIN_SENTENCE_WORDS, Rewrite, SentencePair, Sentences

Encode = Callable[[Sequence[str]], np.ndarray]  # sentences -> L2-normalised rows
MAX_SENTENCES = 80  # sentences of a text that are embedded (the rest are not paired)
# Characters of a sentence that are embedded: the encoder's cost grows with a sentence's length
# (~8 ms for 100 words, ~1 s for 10,000), and a text without full stops is one "sentence".
MAX_SENTENCE_CHARS = 400


@dataclass(frozen=True, slots=True)
class SemanticRule:
    """When sentence pairs by meaning make a copy (the `DEDUP_SEMANTIC_*` settings)."""

    min_similarity: float  # cosine of two sentences' vectors to pair them
    min_share: float  # share of the shorter text's sentences in in-order pairs
    min_pairs: int  # fewer in-order pairs than this never make a copy


@dataclass(frozen=True, slots=True)
class Embedded:
    """A text's sentences that are embedded (token ranges) and their vectors, row by row."""

    spans: tuple[tuple[int, int], ...]  # [first, last) token indices
    vectors: np.ndarray


def sentence_texts(
    text: str, sentences: Sentences
) -> tuple[tuple[tuple[int, int], ...], list[str]]:
    """The sentences worth embedding (at least MIN_SENTENCE_WORDS tokens, the first
    MAX_SENTENCES) as token ranges and as display text (the first MAX_SENTENCE_CHARS of
    each).

    >>> from dedup.core.rewrite import sentences_of
    >>> from dedup.core.text import tokenize
    >>> long = "word " * 5000
    >>> [len(t) for t in sentence_texts(long, sentences_of(long, tokenize(long)))[1]]
    [400]
    """
    tokens = sentences.tokens
    spans = tuple(
        (s.first, s.last) for s in sentences.every if s.last - s.first >= MIN_SENTENCE_WORDS
    )[:MAX_SENTENCES]
    return spans, [
        text[tokens.starts[a] : tokens.ends[b - 1]][:MAX_SENTENCE_CHARS] for a, b in spans
    ]


def embed(text: str, sentences: Sentences, encode: Encode) -> Embedded:
    spans, texts = sentence_texts(text, sentences)
    vectors = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    return Embedded(spans, vectors)


def _in_order(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The longest run of pairs (sorted by their first index) whose second indices rise.

    >>> [p[:2] for p in _in_order([(0, 0, 1.0), (1, 3, 1.0), (2, 1, 1.0), (3, 2, 1.0)])]
    [(0, 0), (2, 1), (3, 2)]
    """
    tails: list[int] = []  # tails[k]: index into pairs of the end of the best run of k + 1
    before: list[int] = []
    for n, (_, j, _) in enumerate(pairs):
        at = bisect.bisect_left([pairs[t][1] for t in tails], j)
        before.append(tails[at - 1] if at else -1)
        if at == len(tails):
            tails.append(n)
        else:
            tails[at] = n
    run: list[tuple[int, int, float]] = []
    n = tails[-1] if tails else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


@dataclass(frozen=True, slots=True)
class MeaningPairs:
    """The in-order sentence pairs of two texts by meaning, and whether they make a copy."""

    rewrite: Rewrite  # the pairs as evidence (offsets into both display texts)
    share: float  # in-order pairs over the shorter text's embedded sentences
    is_copy: bool


def pair_by_meaning(
    this: Sentences,
    mine: Embedded,
    match: Sentences,
    theirs: Embedded,
    rule: SemanticRule,
) -> MeaningPairs:
    """Pair two texts' sentences by meaning (see the module's docstring)."""
    found: list[tuple[int, int, float]] = []
    if len(mine.spans) and len(theirs.spans):
        similarity = mine.vectors @ theirs.vectors.T
        best_of_mine = similarity.argmax(axis=1)
        best_of_theirs = similarity.argmax(axis=0)
        for i, j in enumerate(best_of_mine.tolist()):
            score = float(similarity[i, j])
            if best_of_theirs[j] == i and score >= rule.min_similarity:
                found.append((i, j, score))
    run = _in_order(found)
    fewest = min(len(mine.spans), len(theirs.spans))
    share = len(run) / fewest if fewest else 0.0
    our_words = sum(b - a for a, b in mine.spans) or 1
    their_words = sum(b - a for a, b in theirs.spans) or 1
    pairs = tuple(
        SentencePair(
            similarity=round(score, 3),
            start=this.tokens.starts[mine.spans[i][0]],
            end=this.tokens.ends[mine.spans[i][1] - 1],
            match_start=match.tokens.starts[theirs.spans[j][0]],
            match_end=match.tokens.ends[theirs.spans[j][1] - 1],
        )
        for i, j, score in run
    )
    rewrite = Rewrite(
        pairs=pairs,
        explained=round(sum(mine.spans[i][1] - mine.spans[i][0] for i, _, _ in run) / our_words, 4),
        explained_by=round(
            sum(theirs.spans[j][1] - theirs.spans[j][0] for _, j, _ in run) / their_words, 4
        ),
        order=round(len(run) / len(found), 4) if found else 0.0,
        similarity=round(sum(s for _, _, s in run) / len(run), 4) if run else 0.0,
    )
    copy = len(run) >= rule.min_pairs and share >= rule.min_share
    return MeaningPairs(rewrite, round(share, 4), copy)


# -- leads: the candidate path by meaning --------------------------------------------------
# A translation keeps its source's opening sentences, one for one, whatever its script; no
# word, and often no name (Japanese spells names in katakana), survives. So each article in
# a language the encoder knows gets a *lead vector*: its first LEAD_SENTENCES sentences
# (LEAD_CHARS of each), embedded, averaged, projected to LEAD_DIMS dimensions by a fixed
# random rotation and kept as float16 (256 bytes). Measured on the WMT21 dev file, every
# known pair: a translation's own source is the nearest of the 192 originals by lead cosine
# for 0.956-1.0 of translations (512 dimensions: 0.971-1.0; 64: 0.912-0.986); a source's
# 5th percentile cosine 0.55, another story's 99.9th percentile 0.56: the nearest few are
# candidates, verified by their sentences (`pair_by_meaning`), never copies by their lead.
LEAD_SENTENCES = 2
LEAD_CHARS = 200
LEAD_DIMS = 128
LEAD_SEED = 20261207  # the rotation: a stored lead is only comparable under the same one
MIN_LEAD_COSINE = 0.4  # a lead less similar than this is not a candidate


def _rotation(dims: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(LEAD_SEED).standard_normal((dims, LEAD_DIMS)))
    rotation: np.ndarray = q.astype(np.float32)
    return rotation


_ROTATIONS: dict[int, np.ndarray] = {}


def lead_texts(text: str, sentences: Sentences) -> list[str]:
    """The opening sentences of a text that its lead vector embeds."""
    return [t[:LEAD_CHARS] for t in sentence_texts(text, sentences)[1][:LEAD_SENTENCES]]


def lead_vector(rows: np.ndarray) -> np.ndarray | None:
    """The lead vector of a text from its lead sentences' vectors (None without any)."""
    if not len(rows):
        return None
    dims = rows.shape[1]
    if dims not in _ROTATIONS:
        _ROTATIONS[dims] = _rotation(dims)
    projected = rows.mean(axis=0) @ _ROTATIONS[dims]
    norm = float(np.linalg.norm(projected))
    if norm == 0.0:
        return None
    lead: np.ndarray = (projected / norm).astype(np.float16)
    return lead


def nearest_leads(
    similarity: np.ndarray,
    ids: np.ndarray,
    wanted: np.ndarray,
    limit: int,
) -> list[int]:
    """The ids of the `limit` stored leads most similar to a query (`similarity`: the cosine
    of each, at least MIN_LEAD_COSINE) among those `wanted` (a mask: another language the
    encoder knows), most similar first; an id stored twice counts once.

    >>> nearest_leads(np.array([1.0, 0.6, 0.0, 0.8]), np.array([7, 8, 9, 10]),
    ...               np.array([False, True, True, True]), 2)
    [10, 8]
    """
    if not len(ids) or limit <= 0:
        return []
    scores = np.where(wanted, similarity, -1.0)
    head = min(len(scores), 4 * limit)  # room for an id stored twice; sorted, not the rest
    top = np.argpartition(-scores, head - 1)[:head] if head < len(scores) else np.arange(head)
    order = top[np.argsort(-scores[top], kind="stable")]
    found: list[int] = []
    for k in order.tolist():
        if scores[k] < MIN_LEAD_COSINE or len(found) == limit:
            break
        if int(ids[k]) not in found:
            found.append(int(ids[k]))
    return found
