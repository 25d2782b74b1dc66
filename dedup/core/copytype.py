"""What kind of copy a verified pair shows, from the copy's side (pure).

The copy is the article of the pair that is not the likely original. The rules, first match
wins: a translator credit makes it `translated`; a credit line naming another outlet,
`syndicated`; spun phrases, `spun`; being mostly inside a much larger original (for a
rewrite: pairing under half of the original's words), `excerpt`.
A same-size copy is then told by its sentence pairs: a scraped copy's sentences are the
original's (mean similarity near 1); a spinner swaps words inside sentences it keeps in
place, one for one and in order; a paraphrase also reorders, drops or merges sentences, so
its pairs leave the original's order or part of the original unpaired. Thresholds were
chosen on the evaluation's dev split (`python -m bench.thresholds`).
"""

from collections.abc import Sequence
from typing import Literal

from dedup.core.markers import Marker, Rules, credits_another_outlet
from dedup.core.rewrite import Rewrite

CopyType = Literal[
    "syndicated", "scraped", "excerpt", "spun", "paraphrased", "translated", "partial"
]
COPY_TYPES: tuple[CopyType, ...] = (
    "syndicated",
    "scraped",
    "excerpt",
    "spun",
    "paraphrased",
    "translated",
    "partial",
)

SCRAPED_MIN_SIMILARITY = 0.95  # mean similarity of the sentence pairs of a verbatim copy
SPUN_MIN_COVERAGE = 0.9  # share of the original's words a spun copy keeps paired
# A rewrite pairing less than this share of the original's words is an excerpt of it (a
# paraphrase drops a sentence in ten and still pairs 0.6 and more of the original).
REWRITE_EXCERPT_COVERAGE = 0.5


def copy_type(
    markers: Sequence[Marker],
    site: str,
    copy_in_original: float,
    size_ratio: float,
    near_duplicate_size_ratio: float,
    sentences: Rewrite | None,
    original_paired: float,
    rules: Rules | None = None,
    *,
    rewritten: bool = False,
    partial: bool = False,
    translated: bool = False,
) -> CopyType:
    """Name the copy.

    `copy_in_original` is the share of the copy found in the original; `size_ratio` the
    smaller text over the larger (shingle sets); `sentences` the pairs of the two texts'
    sentences (None for identical texts), `original_paired` the share of the original's
    words in them; `rewritten` says the pair was verified by the reuse model, not shingles;
    `partial` that only part of one text is reused in the other (a paper writing part of an
    article from wire copy); `translated` that the pair is in two languages, paired by
    meaning (whatever its credit line says).

    >>> from dedup.core.rewrite import Rewrite
    >>> copy_type([], "farm.example", 1.0, 0.4, 0.8, None, 0.4)
    'excerpt'
    >>> copy_type([], "farm.example", 0.99, 0.97, 0.8, Rewrite((), 1.0, 1.0, 1.0, 0.99), 1.0)
    'scraped'
    >>> copy_type([], "farm.example", 0.3, 0.95, 0.8, Rewrite((), 1.0, 1.0, 1.0, 0.75), 0.98)
    'spun'
    >>> copy_type([], "farm.example", 0.4, 0.9, 0.8, Rewrite((), 1.0, 0.8, 0.7, 0.8), 0.8)
    'paraphrased'
    >>> copy_type([], "farm.example", 0.3, 0.7, 0.8, Rewrite((), 1.0, 0.7, 0.8, 0.8), 0.7,
    ...           rewritten=True)
    'paraphrased'
    """
    if translated:
        return "translated"
    signed = _signed(markers, site, rules)
    if signed is not None:
        return signed
    if partial:
        return "partial"
    if rewritten:
        if original_paired < REWRITE_EXCERPT_COVERAGE:
            return "excerpt"
    elif size_ratio < near_duplicate_size_ratio and copy_in_original >= size_ratio:
        return "excerpt"
    if sentences is None or sentences.similarity >= SCRAPED_MIN_SIMILARITY:
        return "scraped"
    if sentences.order < 1.0 or original_paired < SPUN_MIN_COVERAGE:
        return "paraphrased"
    return "spun"


def signed_type(markers: Sequence[Marker], site: str, rules: Rules | None = None) -> CopyType:
    """The copy type an article's own signs of copying name, with no original to compare
    with (a sibling's, whose source is not stored): its translator credit, credit line or
    spun phrases, else its aggregator chrome (a scrape).

    >>> from dedup.core.markers import Marker
    >>> signed_type([Marker("spin", "spun", "Chilly Battle", 0, 13, "Cold War")], "x.example")
    'spun'
    >>> signed_type([Marker("chrome", "aggregator", "Source link", 0, 11)], "x.example")
    'scraped'
    """
    return _signed(markers, site, rules) or "scraped"


def _signed(markers: Sequence[Marker], site: str, rules: Rules | None) -> CopyType | None:
    """The copy type the article's own signs name, first match wins: a translator credit,
    a credit line naming another outlet, spun phrases; None without such a sign."""
    kinds = {m.kind for m in markers}
    if "translation" in kinds:
        return "translated"
    if credits_another_outlet(markers, site, rules):
        return "syndicated"
    return "spun" if "spin" in kinds else None
