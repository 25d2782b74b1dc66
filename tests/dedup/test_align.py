import random

from dedup.align import _extend, _free_span, align
from dedup.fingerprint import FingerprintParams, fingerprint
from dedup.text import normalize, tokenize


def aligned(this: str, match: str, min_words: int = 5):  # type: ignore[no-untyped-def]
    params = FingerprintParams(min_words=5)
    a, b = fingerprint(this, params), fingerprint(match, params)
    return align(
        tokenize(this), a.shingles, tokenize(match), b.shingles, shingle_size=5, min_words=min_words
    )


def test_passages_index_the_same_words_in_both_display_texts(bbc: list[dict[str, str]]) -> None:
    original = bbc[3]["text"]
    copy = "Sponsor: NEWS AI\n\n" + original.replace("'", "’")[:1500] + "\n\nSource link"
    result = aligned(copy, original)
    assert result.passages
    for p in result.passages:
        assert normalize(copy[p.start : p.end]) == normalize(original[p.match_start : p.match_end])
        assert p.words == len(normalize(copy[p.start : p.end]).split())


def test_passages_come_longest_first_and_never_reuse_a_word() -> None:
    shared_long = "the minister said the new rules would come into force next spring after a vote"
    shared_short = "officials declined to comment on the talks"
    this = f"{shared_short} and then some filler words here. {shared_long} end of the story"
    match = f"{shared_long} while elsewhere {shared_short} today in the capital city"
    result = aligned(this, match)
    assert [p.words for p in result.passages] == [15, 7]
    assert result.shared_words == 22


def test_runs_shorter_than_the_minimum_are_not_evidence() -> None:
    this = "alpha beta gamma delta epsilon one two three four five six seven eight"
    match = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu"
    assert aligned(this, match, min_words=5).shared_words == 5
    assert aligned(this, match, min_words=6).passages == ()


def reference_extend(a: tuple[str, ...], b: tuple[str, ...], i: int, j: int, length: int) -> int:
    """Word by word, as the alignment first did."""
    while i + length < len(a) and j + length < len(b) and a[i + length] == b[j + length]:
        length += 1
    return length


def reference_free_span(
    i: int, j: int, length: int, used_a: bytearray, used_b: bytearray
) -> tuple[int, int]:
    best_offset, best_size, offset = 0, 0, 0
    while offset < length:
        if used_a[i + offset] or used_b[j + offset]:
            offset += 1
            continue
        begin = offset
        while offset < length and not used_a[i + offset] and not used_b[j + offset]:
            offset += 1
        if offset - begin > best_size:
            best_offset, best_size = begin, offset - begin
    return best_offset, best_size


def test_striding_extension_and_free_spans_equal_the_word_by_word_ones() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        vocabulary = [f"w{k}" for k in range(rng.choice([2, 5, 50]))]
        a = tuple(rng.choice(vocabulary) for _ in range(rng.randint(1, 150)))
        b = list(a) if rng.random() < 0.5 else [rng.choice(vocabulary) for _ in range(150)]
        for _ in range(rng.randint(0, 8)):  # a few edits
            b[rng.randrange(len(b))] = "edit"
        i, j = rng.randrange(len(a)), rng.randrange(len(b))
        assert _extend(a, tuple(b), i, j, 0) == reference_extend(a, tuple(b), i, j, 0)
        length = rng.randint(1, min(len(a) - i, len(b) - j))
        used_a = bytearray(rng.random() < 0.2 for _ in a)
        used_b = bytearray(rng.random() < 0.2 for _ in b)
        assert _free_span(i, j, length, used_a, used_b) == reference_free_span(
            i, j, length, used_a, used_b
        )
