"""What kind of copy a verified pair shows, from the copy's side (pure).

The copy is the article of the pair that is not the likely original. The rules, first match
wins: a translator credit makes it `translated`; a credit line naming another outlet,
`syndicated`; spun phrases, `spun`; being mostly inside a much larger original, `excerpt`.
A same-size copy is then told by how fragmented the shared text is (passages per 100 shared
words): a scraped copy keeps the article in one or a few long runs; a spinner's word swaps
break it into runs of tens of words; a rewrite of whole sentences breaks it further and loses
more of it. Thresholds were chosen on the evaluation's dev split (scraped: 90% at or below
0.6; spun 0.8-2.7; paraphrased 2.4-4.6 with containment around 0.85).
"""

from collections.abc import Sequence
from typing import Literal

from dedup.markers import Marker, Rules, credits_other_outlet

CopyType = Literal["syndicated", "scraped", "excerpt", "spun", "paraphrased", "translated"]
COPY_TYPES: tuple[CopyType, ...] = (
    "syndicated", "scraped", "excerpt", "spun", "paraphrased", "translated",
)  # fmt: skip

SCRAPED_MAX_FRAGMENTATION = 0.75  # passages per 100 shared words
REWRITE_MIN_FRAGMENTATION = 2.5
REWRITE_CONTAINMENT = 0.8  # a same-size copy keeping less of the original was rewritten
SCRAPED_MAX_PASSAGES = 2  # chrome splits a scraped article at most around a header or two


def copy_type(
    markers: Sequence[Marker],
    site: str,
    copy_in_original: float,
    size_ratio: float,
    near_duplicate_size_ratio: float,
    passages: int,
    shared_words: int,
    rules: Rules | None = None,
) -> CopyType:
    """Name the copy.

    `copy_in_original` is the share of the copy's shingles found in the original;
    `size_ratio` the smaller shingle set over the larger; `passages` and `shared_words`
    describe the aligned evidence.

    >>> copy_type([], "farm.example", 1.0, 0.4, 0.8, 1, 120)
    'excerpt'
    >>> copy_type([], "farm.example", 0.99, 0.97, 0.8, 3, 900)
    'scraped'
    >>> copy_type([], "farm.example", 0.92, 0.95, 0.8, 8, 500)
    'spun'
    >>> copy_type([], "farm.example", 0.85, 0.95, 0.8, 16, 450)
    'paraphrased'
    """
    kinds = {m.kind for m in markers}
    if "translation" in kinds:
        return "translated"
    if any(credits_other_outlet(m, site, rules) for m in markers if m.kind == "credit"):
        return "syndicated"
    if "spin" in kinds:
        return "spun"
    if size_ratio < near_duplicate_size_ratio and copy_in_original >= size_ratio:
        return "excerpt"
    fragmentation = 100 * passages / shared_words if shared_words else 0.0
    if passages <= SCRAPED_MAX_PASSAGES or fragmentation < SCRAPED_MAX_FRAGMENTATION:
        return "scraped"
    if fragmentation >= REWRITE_MIN_FRAGMENTATION or copy_in_original < REWRITE_CONTAINMENT:
        return "paraphrased"
    return "spun"
