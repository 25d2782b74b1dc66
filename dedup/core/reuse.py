"""How likely one text is derived from another: features of a pair and a fitted model (pure).

Real reuse is rarely verbatim. A journalist rewrites wire copy lightly but everywhere (a
wholly derived article shares a median ~39% of its word 3-grams with its source, an
independent one on the same story ~8%); a rewriter changes most words of a sentence but keeps
its content words; a paper writing from several versions of a wire story takes a sentence
from each. The features measure those, for "A is derived from B":

    c1        share of A's content words (not stopwords) found in B
    c3        share of A's word 3-grams found in B
    c3_out    the same for A's 3-grams outside quotations (independent reports quote the
              same people: shared quotes are weak evidence)
    c3_story  for the candidate of a site that holds most of A: share of A's 3-grams found
              in any candidate from that site (a paper writing from the wire draws on several
              of its stories and versions); for the others of that site, c3
    sent      share of A's words in sentences paired with one of B's (content-word Dice
              >= 0.5: survives reordered clauses and a few swapped words)
    sent_mean mean best Dice of A's sentences
    quoted    share of A's words inside quotations
    length    log of A's length over B's
    size      log of A's length in words (short passages share less by chance)
    names     share of the shorter skeleton's names-and-numbers 3-grams found in the other
    run       the longest run of A's words outside quotations shared verbatim with B, over
              RUN_CAP words (at most 1): a lifted paragraph, which independent reports of an
              event rarely share

`ReuseModel` is a logistic regression over them, fitted on the labelled dev halves of real
corpora by `python -m bench.fit_reuse` and shipped as `reuse_model.json`; its probability is
the pair's `reuse` score (calibrated on dev: among pairs scored 0.8, about 80% are derived).
"""

import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from dedup.core.rewrite import MAX_PAIRED_SENTENCES
from dedup.core.shingles import Hashes, WordHashes, shingle_hashes, word_hashes
from dedup.core.text import Tokens, sentence_starts

FEATURES = (
    "c1", "c3", "c3_out", "c3_story", "sent", "sent_mean", "quoted", "length", "size", "names",
    "run",
)  # fmt: skip
RUN_CAP = 60  # words: a shared run this long is as strong as any
# The sentence rule wants this share of one text's 3-grams in the other too: so a pair
# sharing fewer is decided without its sentences (METER's unrelated pairs: a median 0.008).
SENTENCE_GRAM_FLOOR = 0.05
GRAM = 3  # words per gram of the reuse features and the anchors
SENTENCE_PAIR = 0.5  # content-word Dice of two sentences for them to be paired
MIN_SENTENCE_CONTENT = 3  # sentences with fewer content words pair with too much by chance

# Quotation marks: straight and typographic double quotes, TeX-style `` '' (wire copy), and
# single quotes that open before a letter or close after one (a tabloid's 'I was shocked').
_QUOTE = re.compile(r"``|''|[\"\u201c\u201d\u2018\u2019]|(?<![\w])'(?=\w)|(?<=[\w.,!?])'(?!\w)")
_PARAGRAPH = re.compile(r"\n\s*\n|<\n")  # an unclosed quote ends with its paragraph
_OPENERS = frozenset({"``", "\u201c", "\u2018"})
_CLOSERS = frozenset({"''", "\u201d", "\u2019"})


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The function words of `stopwords.txt` (read once)."""
    raw = resources.files("dedup.core").joinpath("stopwords.txt").read_text(encoding="utf-8")
    lines = (line for line in raw.splitlines() if not line.startswith("#"))
    return frozenset(word for line in lines for word in line.split())


def quote_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) character spans of the text inside quotation marks.

    >>> text = 'He said "we won" and left. ``PA style,\\'\\' it said.'
    >>> [text[a:b] for a, b in quote_spans(text)]
    ['we won', 'PA style,']
    """
    events = sorted(
        [(m.start(), m.end(), m.group()) for m in _QUOTE.finditer(text)]
        + [(m.start(), m.end(), "\n") for m in _PARAGRAPH.finditer(text)]
    )
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for at, end, mark in events:
        if mark == "\n":
            if start is not None:
                spans.append((start, at))
            start = None
        elif mark == '"':
            if start is None:
                start = end
            else:
                spans.append((start, at))
                start = None
        elif mark in _OPENERS or (mark == "'" and (at == 0 or not text[at - 1].isalnum())):
            if start is None:
                start = end
        elif (mark in _CLOSERS or mark == "'") and start is not None:
            spans.append((start, at))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if b > a]


def quote_mask(text: str, tokens: Tokens) -> np.ndarray:
    """Whether each token lies inside a quotation."""
    starts = np.fromiter(tokens.starts, dtype=np.int64, count=len(tokens))
    inside = np.zeros(len(tokens), dtype=bool)
    for a, b in quote_spans(text):
        inside |= (starts >= a) & (starts < b)
    return inside


@dataclass(frozen=True, slots=True, eq=False)
class Profile:
    """What the reuse features need of one text (worked out once per text)."""

    n_words: int
    grams: Hashes  # word 3-gram hashes in text order
    gram_set: Hashes  # distinct 3-grams, sorted
    gram_out: Hashes  # distinct 3-grams with no quoted word, sorted
    gram_quoted: np.ndarray  # per 3-gram in text order: it holds a quoted word
    content: Hashes  # distinct content words (not stopwords), sorted
    sentences: tuple[frozenset[str], ...]  # content words of each sentence long enough
    sentence_words: tuple[int, ...]  # words of each of those sentences
    quoted: float  # share of words inside quotations
    seedable: np.ndarray  # per 3-gram: it holds a content word (an alignment seed)


def profile(text: str, tokens: Tokens, cache: WordHashes | None = None) -> Profile:
    """The profile of a text from its tokens (as tokenized for the evidence)."""
    found = tokens.words
    stops = stopwords()
    hashes = word_hashes(found, cache)
    grams = shingle_hashes(hashes, GRAM)
    quoted = quote_mask(text, tokens)
    content_word = np.fromiter((w not in stops for w in found), dtype=bool, count=len(found))
    if len(grams):
        in_quote = quoted[: len(grams)] | quoted[1 : len(grams) + 1] | quoted[2 : len(grams) + 2]
        seedable = content_word[: len(grams)] | content_word[1 : len(grams) + 1]
        seedable |= content_word[2 : len(grams) + 2]
        gram_out = np.unique(grams[~in_quote])
    else:
        in_quote = np.zeros(0, dtype=bool)
        seedable, gram_out = np.zeros(0, dtype=bool), np.empty(0, dtype=np.uint64)
    bounds = [*sentence_starts(text, tokens), len(found)]
    sentences: list[frozenset[str]] = []
    sizes: list[int] = []
    for first, last in itertools.pairwise(bounds):
        words = frozenset(w for w in found[first:last] if w not in stops)
        if len(words) >= MIN_SENTENCE_CONTENT:
            sentences.append(words)
            sizes.append(last - first)
    return Profile(
        n_words=len(found),
        grams=grams,
        gram_set=np.unique(grams),
        gram_out=gram_out,
        gram_quoted=in_quote,
        content=np.unique(hashes[content_word]),
        sentences=tuple(sentences),
        sentence_words=tuple(sizes),
        quoted=float(quoted.mean()) if len(quoted) else 0.0,
        seedable=seedable,
    )


def share_of(part: Hashes, whole: Hashes) -> float:
    """Share of a sorted distinct array found in another (0 for an empty one).

    >>> import numpy as np
    >>> share_of(np.array([1, 2, 3, 4], dtype=np.uint64), np.array([2, 4, 9], dtype=np.uint64))
    0.5
    """
    if not len(part):
        return 0.0
    return float(np.intersect1d(part, whole, assume_unique=True).size / len(part))


def longest_run(a: Profile, b: Profile) -> int:
    """Words in the longest run of A's 3-grams outside quotations found in B (0: none).

    >>> from dedup.core.text import tokenize
    >>> x = 'He said "we will fight on" and the talks in Geneva ended late on Friday night.'
    >>> y = 'We will fight on, he said. The talks in Geneva ended late on Friday, they said.'
    >>> longest_run(profile(x, tokenize(x)), profile(y, tokenize(y)))  # the quote is out
    8
    """
    shared = np.isin(a.grams, b.gram_set) & ~a.gram_quoted
    if not shared.any():
        return 0
    edges = np.diff(np.concatenate(([0], shared.view(np.int8), [0])))
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int(runs.max()) + GRAM - 1


def sentence_pairing(a: Profile, b: Profile) -> tuple[float, float]:
    """(share of A's words in sentences paired with one of B's, mean best Dice of A's
    sentences), over content words.

    >>> from dedup.core.text import tokenize
    >>> x = "The firm said profits rose sharply in May. Shares in the group fell on Monday."
    >>> y = "Shares of the group dropped on Monday. Profits at the firm rose sharply in May."
    >>> sentence_pairing(profile(x, tokenize(x)), profile(y, tokenize(y)))
    (1.0, 0.875)
    """
    if not a.sentences or not b.sentences:
        return 0.0, 0.0
    paired = 0
    total = 0.0
    theirs = b.sentences[:MAX_PAIRED_SENTENCES]
    ours = list(zip(a.sentences, a.sentence_words, strict=True))[:MAX_PAIRED_SENTENCES]
    for words, size in ours:
        best = max(2 * len(words & other) / (len(words) + len(other)) for other in theirs)
        total += best
        if best >= SENTENCE_PAIR:
            paired += size
    return round(paired / max(1, sum(a.sentence_words)), 4), round(total / len(ours), 4)


def features(a: Profile, b: Profile, story: Hashes, names: float) -> np.ndarray:
    """The features of "A is derived from B", in FEATURES order. `story` is the sorted
    distinct 3-grams of B and of the stored versions of its story (B's own when none);
    `names` the pair's skeleton overlap."""
    sent, sent_mean = sentence_pairing(a, b)
    return np.array(
        [
            share_of(a.content, b.content),
            share_of(a.gram_set, b.gram_set),
            share_of(a.gram_out, b.gram_set),
            share_of(a.gram_set, story),
            sent,
            sent_mean,
            a.quoted,
            math.log((a.n_words + 1) / (b.n_words + 1)),
            math.log1p(a.n_words),
            names,
            min(longest_run(a, b), RUN_CAP) / RUN_CAP,
        ]
    )


@dataclass(frozen=True, slots=True)
class ReuseModel:
    """A logistic regression over standardised features, P(derived) = 1 / (1 + e^-z), and
    the rule that makes a pair a copy (all chosen on dev by bench.fit_reuse): a reuse score
    of at least `threshold` between two passages (texts under `long_words` words),
    `threshold_mixed` between a passage and an article, `threshold_long` between two
    articles, or, between two articles, `story_bar` of one text's 3-grams found in the
    other's source (c3_story), or `sentence_bar` of one text's words in sentences that pair
    with the other's (a light rewrite keeps its source's sentences, with a few words changed
    in each, while independent reports of one story pair few: METER's hard negatives, 2% at
    0.4) when they also share SENTENCE_GRAM_FLOOR of a text's 3-grams; or, for any pair, a
    verbatim run outside quotations of at least `run_bar` words (a lifted paragraph: the
    logistic score, linear in its features, cannot say "one long run is enough whatever the
    rest")."""

    names: tuple[str, ...]
    means: np.ndarray
    scales: np.ndarray
    weights: np.ndarray
    intercept: float
    threshold: float
    threshold_mixed: float
    threshold_long: float
    story_bar: float
    run_bar: int  # words (above RUN_CAP: no run rule)
    long_words: int
    sentence_bar: float = 2.0  # share of words in paired sentences (above 1: no such rule)

    def probability(self, values: np.ndarray) -> float:
        z = float(((values - self.means) / self.scales) @ self.weights + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def is_copy(
        self,
        reuse: float,
        story: float,
        words: tuple[int, int],
        run: int,
        sent: float = 0.0,
        c3: float = 0.0,
    ) -> bool:
        """Whether a pair with this reuse score, this c3_story, longest unquoted verbatim
        run in words, share of words in paired sentences and share of 3-grams (each the
        larger of the two ways) and these lengths is a copy."""
        if run >= self.run_bar:
            return True
        if max(words) < self.long_words:
            return reuse >= self.threshold
        if min(words) < self.long_words:
            return reuse >= self.threshold_mixed
        by_sentences = sent >= self.sentence_bar and c3 >= SENTENCE_GRAM_FLOOR
        return reuse >= self.threshold_long or story >= self.story_bar or by_sentences

    def with_threshold(self, threshold: float) -> "ReuseModel":
        """The same model with one reuse threshold for every pair and no story rule (an
        operator's DEDUP_MIN_REUSE)."""
        return replace(
            self,
            threshold=threshold,
            threshold_mixed=threshold,
            threshold_long=threshold,
            story_bar=2.0,
            run_bar=10**9,
            sentence_bar=2.0,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReuseModel":
        names = tuple(str(n) for n in data["features"])
        if names != FEATURES:
            raise ValueError(f"the reuse model's features {names} are not this code's {FEATURES}")
        return cls(
            names=names,
            means=np.array(data["means"], dtype=float),
            scales=np.array(data["scales"], dtype=float),
            weights=np.array(data["weights"], dtype=float),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            threshold_mixed=float(data["threshold_mixed"]),
            threshold_long=float(data["threshold_long"]),
            story_bar=float(data["story_bar"]),
            run_bar=int(data["run_bar"]),
            long_words=int(data["long_words"]),
            sentence_bar=float(data.get("sentence_bar", 2.0)),
        )


@lru_cache(maxsize=1)
def default_model() -> ReuseModel:
    """The model shipped in the package (`reuse_model.json`, written by bench.fit_reuse)."""
    raw = resources.files("dedup.core").joinpath("reuse_model.json").read_text(encoding="utf-8")
    return ReuseModel.from_dict(json.loads(raw))


def story_sets(
    sets: Sequence[Hashes], sources: Sequence[Sequence[int]], shares: Sequence[float]
) -> list[Hashes]:
    """The 3-grams each candidate answers for: the best candidate of a source (the highest
    share of the query found in it; `sources[k]`: the other candidates of candidate k's site)
    answers for every candidate of that source together, each other one for itself. So a
    paper that wrote from several of a wire's stories is weighed against all of them, and
    the pooled evidence is credited to one candidate only: never to an unrelated article of
    a site that also holds a version of the query's story.

    >>> a, b, c = (np.array(x, dtype=np.uint64) for x in ([1, 2], [3], [9]))
    >>> [s.tolist() for s in story_sets([a, b, c], [[1], [0], []], [0.5, 0.2, 0.1])]
    [[1, 2, 3], [3], [9]]
    """
    pooled = []
    for k, own in enumerate(sets):
        others = list(sources[k])
        best = all(shares[k] > shares[j] or (shares[k] == shares[j] and k < j) for j in others)
        pooled.append(
            np.unique(np.concatenate([own, *(sets[j] for j in others)])) if others and best else own
        )
    return pooled
