from dedup.align import align
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
