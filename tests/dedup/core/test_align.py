import random

from dedup.core.align import MAX_SEEDS_PER_SHINGLE, _extend, _runs, align
from dedup.core.fingerprint import fingerprint
from dedup.core.shingles import Hashes, shingle_hashes, word_hashes
from dedup.core.text import Tokens, normalize, tokenize
from tests.conftest import fingerprint_params


def aligned(this: str, match: str, min_words: int = 5):  # type: ignore[no-untyped-def]
    params = fingerprint_params(min_words=5)
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


def test_striding_extension_equals_the_word_by_word_one() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        vocabulary = [f"w{k}" for k in range(rng.choice([2, 5, 50]))]
        a = tuple(rng.choice(vocabulary) for _ in range(rng.randint(1, 150)))
        b = list(a) if rng.random() < 0.5 else [rng.choice(vocabulary) for _ in range(150)]
        for _ in range(rng.randint(0, 8)):  # a few edits
            b[rng.randrange(len(b))] = "edit"
        i, j = rng.randrange(len(a)), rng.randrange(len(b))
        assert _extend(a, tuple(b), i, j, 0) == reference_extend(a, tuple(b), i, j, 0)


def reference_runs(
    this: Tokens, this_shingles: Hashes, match: Tokens, match_shingles: Hashes, size: int
) -> list[tuple[int, int, int]]:
    """Seed by seed in Python, as the alignment first did."""
    shared = set(this_shingles.tolist()) & set(match_shingles.tolist())
    positions: dict[int, list[int]] = {}
    for index, value in enumerate(match_shingles.tolist()):
        if value in shared:
            seen = positions.setdefault(value, [])
            if len(seen) < MAX_SEEDS_PER_SHINGLE:
                seen.append(index)
    runs: list[tuple[int, int, int]] = []
    reached: dict[int, int] = {}
    a, b = this.words, match.words
    for i, value in enumerate(this_shingles.tolist()):
        for j in positions.get(value, ()):
            if reached.get(i - j, -1) > i:
                continue
            length = reference_extend(a, b, i, j, size)
            runs.append((i, j, length))
            reached[i - j] = i + length
    return runs


def test_numpy_seeding_finds_the_runs_seed_by_seed_seeding_finds() -> None:
    rng = random.Random(11)
    for _ in range(1500):
        vocabulary = [f"w{k}" for k in range(rng.choice([1, 2, 3, 8, 60]))]
        size = rng.choice([1, 2, 3, 5])
        a = [rng.choice(vocabulary) for _ in range(rng.randint(0, 120))]
        b = list(a) if rng.random() < 0.5 else [rng.choice(vocabulary) for _ in range(120)]
        if b and rng.random() < 0.5:  # move a block, edit a few words
            cut = rng.randrange(len(b))
            b = b[cut:] + b[:cut]
        for _ in range(rng.randint(0, 6)):
            if b:
                b[rng.randrange(len(b))] = "edit"
        this, match = tokens_of(a), tokens_of(b)
        this_shingles = shingle_hashes(word_hashes(a), size)
        match_shingles = shingle_hashes(word_hashes(b), size)
        assert _runs(this, this_shingles, match, match_shingles, size) == reference_runs(
            this, this_shingles, match, match_shingles, size
        )


def tokens_of(found: list[str]) -> Tokens:
    return Tokens(tuple(found), tuple(range(len(found))), tuple(range(1, len(found) + 1)))
