import random
import re
from typing import Any

from dedup.core.text import (
    _WORD,
    Tokens,
    _clean,
    _plain_separators,
    fold_word,
    normalize,
    tokenize,
    words,
)
from tests.conftest import SEEDS


def test_tokenize_and_words_agree_on_every_seed() -> None:
    for path in SEEDS.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert list(tokenize(text).words) == words(text), path.name


def test_every_token_offset_points_at_its_word_in_the_display_text() -> None:
    text = "“Cold War” — it’s ＯＶＥＲ, Ukr\u200baine said.\x07 Done"
    tokens = tokenize(text)
    assert tokens.words == ("cold", "war", "it", "s", "over", "ukraine", "said", "done")
    spans = [text[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)]
    assert spans == ["Cold", "War", "it", "s", "ＯＶＥＲ", "Ukr\u200baine", "said", "Done"]


def test_quotes_dashes_whitespace_and_zero_width_do_not_change_the_normalised_text() -> None:
    plain = 'It\'s the "Cold War" - again, said the U.S. envoy.'
    dressed = "It’s  the “Cold\u200b War” — again,\n said the U.S.\u00a0envoy."
    assert normalize(plain) == normalize(dressed) == "it s the cold war again said the u s envoy"


def test_cyrillic_lookalike_letters_fold_to_latin() -> None:
    cyrillic_a, cyrillic_er = "\u0430", "\u0420"
    assert words(f"Ukr{cyrillic_a}ine and {cyrillic_er}utin") == ["ukraine", "and", "putin"]


def test_non_latin_words_are_kept_as_they_are() -> None:
    assert words("Переведено сервисом") == ["переведено", "сервисом"]


def test_the_fast_paths_give_the_tokens_of_folding_word_by_word(
    bbc: list[dict[str, Any]],
) -> None:
    odd = "“Ｃold” — ＷAR… £5bn, Ukr\u0430ine’s «ßtraße» café\u00a0São Paulo ² İstanbul"
    for text in [row["text"] for row in bbc[:400]] + [odd, odd.upper(), "a\u2014b", "x’y"]:
        clean, _ = _clean(text)
        reference = [fold_word(m.group()) for m in _WORD.finditer(clean)]
        assert words(text) == reference
        tokens = tokenize(text)
        assert list(tokens.words) == reference
        assert [clean[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)] == [
            m.group() for m in _WORD.finditer(clean)
        ]


def test_unspun_tokens_carry_the_words_fingerprints_are_made_of(
    bbc: list[dict[str, Any]],
) -> None:
    from dedup.core.fingerprint import normalised_words
    from dedup.core.unspin import unspin_tokens

    spun = "The Chilly Battle ended in the Center East, the very best courtroom said. " * 3
    for text in [row["text"] for row in bbc[:200]] + [spun]:
        assert unspin_tokens(tokenize(text)).words == normalised_words(text, unspin=True)


def reference_tokenize(text: str) -> Tokens:
    """Tokens as they were made with one match object per word, before the split-based one."""
    clean, index = _clean(text)
    clean = _plain_separators(clean)
    matches = list(re.finditer(r"\w+", clean))
    found = tuple(fold_word(m.group()) for m in matches)
    if index is None:
        return Tokens(found, tuple(m.start() for m in matches), tuple(m.end() for m in matches))
    starts = tuple(index[m.start()] for m in matches)
    return Tokens(found, starts, tuple(index[m.end() - 1] + 1 for m in matches))


def test_split_offsets_equal_the_match_offsets_on_random_and_real_texts(
    bbc: list[dict[str, Any]],
) -> None:
    rng = random.Random(3)
    alphabet = "ab Cd9 .,\n\u200b\u00ad\u2019\u201c\u2014éÉİßＣＯ\u0430_"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(40))) for _ in range(5000)]
    texts += [article["text"] for article in bbc[:300]]
    for text in texts:
        assert tokenize(text) == reference_tokenize(text), text
