"""The core's compiled hot loops (`dedup/core/_native.c`) against their pure-Python twins:
on the real corpora and on arbitrary text, the same answers to the bit.

- py3langid's DFA walk: the same feature counts in the same order for every text, so the
  same language and the same confidence;
- the names-and-numbers skeleton: the same words.
"""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from dedup.core import language
from dedup.core import text as core_text
from tests.conftest import CORPUS

NOT_BUILT = "dedup.core._native was not built (no C compiler at install): nothing to compare"
FILES = ("bbc.jsonl", "wmt21-news-dev.jsonl", "meter-dev.jsonl", "webis-cpc-11-dev.jsonl")


def real_texts() -> list[str]:
    found: list[str] = []
    for name in FILES:
        path = CORPUS.parent / name
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                found += [json.loads(line)["text"] for line in handle if line.strip()]
    if not found:
        pytest.skip(f"no real corpus under {CORPUS.parent} (set DEDUP_CORPUS to bbc.jsonl's path)")
    return found


@pytest.fixture(scope="module")
def compiled() -> LanguageIdentifier:
    if language.compiled_counts is None:
        pytest.skip(NOT_BUILT)
    return language._identifier(True)


def walk(nextmove: Any, rowbase: Any, output: Any, data: bytes) -> dict[int, int] | None:
    assert language.compiled_counts is not None
    return language.compiled_counts(nextmove, rowbase, output, data)


def test_the_c_walk_counts_what_the_python_walk_counts_in_the_same_order(
    compiled: LanguageIdentifier,
) -> None:
    pure = language._identifier(False)
    texts = real_texts()
    for text in texts:
        for sample in (language._sample(text), text):  # what detect reads, and whole texts
            data = pure._encode(sample)
            fast = walk(compiled._walk[0], compiled._walk[1], compiled._walk[2], data)
            slow = language.visit_counts(pure._walk[0], pure._walk[1], pure._walk[2], data)
            assert fast == slow
            assert list((fast or {}).items()) == list((slow or {}).items())
    assert len(texts) > 100  # the corpora were read


def test_both_walks_name_the_same_language_with_the_same_confidence(
    compiled: LanguageIdentifier,
) -> None:
    pure = language._identifier(False)
    for text in real_texts():
        sample = language._sample(text)
        assert compiled.classify(sample) == pure.classify(sample)


def test_the_python_walk_is_py3langids_own_loop() -> None:
    """The twin against py3langid's `visit_counts` itself (a Counter of the same walk)."""
    from py3langid.langid import visit_counts as upstream

    pure = language._identifier(False)
    for text in real_texts()[:300]:
        data = pure._encode(language._sample(text))
        theirs = upstream(pure.tk_nextmove, pure._rowbase, pure.tk_output, data)
        ours = language.visit_counts(pure._walk[0], pure._walk[1], pure._walk[2], data)
        assert (dict(theirs) if theirs else None) == ours


def test_the_c_walk_refuses_tables_of_the_wrong_shape(
    compiled: LanguageIdentifier,
) -> None:
    nextmove, rowbase, output = compiled._walk
    with pytest.raises(ValueError, match="differ in length"):
        walk(nextmove, rowbase, output[:-1], b"abc")
    with pytest.raises(TypeError, match="uint32"):
        walk(rowbase, rowbase, output, b"abc")


def test_a_text_without_features_scores_as_py3langid_scores_it(
    compiled: LanguageIdentifier,
) -> None:
    upstream = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    for text in ("", "\x00", "12"):
        expected = upstream.classify(text)
        assert compiled.classify(text) == expected
        assert language._identifier(False).classify(text) == expected


@pytest.fixture(scope="module")
def compiled_skeleton() -> Any:
    if core_text.compiled_skeleton_words is None:
        pytest.skip(NOT_BUILT)
    return core_text.compiled_skeleton_words


def test_the_c_skeleton_keeps_the_words_the_python_loop_keeps(compiled_skeleton: Any) -> None:
    texts = real_texts()
    for raw in texts:
        clean = core_text._clean(raw)[0]
        assert compiled_skeleton(clean) == core_text.skeleton_words(clean)
    assert core_text._skeleton_words is compiled_skeleton  # and it is the one skeleton() runs


# Letters of many scripts and cases, digits of several systems, the openers, and the rest.
SAMPLE_CHARS = st.characters() | st.sampled_from(
    list('.!?:;\n"\u201c\u201d\u2018\u201e\u00ab\u00bb([\u3002\uff01\uff1f\u300c\u300e _')
    + list("AbÉßǅΣ\u03c3Дж٣७Ⅻ²①")
)


@settings(max_examples=400, deadline=None)
@given(st.text(SAMPLE_CHARS, max_size=80))
def test_the_c_skeleton_equals_the_python_loop_on_any_text(sample: str) -> None:
    compiled = core_text.compiled_skeleton_words
    if compiled is None:
        pytest.skip(NOT_BUILT)
    assert compiled(sample) == core_text.skeleton_words(sample)
