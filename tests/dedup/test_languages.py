"""Languages, scripts without spaces, and copies across languages (the meaning path), on a
real Redis with the real sentence encoder."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dedup.core.fingerprint import name_pairs
from dedup.core.language import detect
from dedup.core.rewrite import Sentences, sentences_of
from dedup.core.semantic import Embedded, SemanticRule, pair_by_meaning
from dedup.core.text import tokenize, words
from dedup.core.verdict import Verdict
from dedup.services.detector import ArticleInput, Detector
from tests.conftest import CORPUS

WMT = CORPUS.parent / "wmt21-news-dev.jsonl"

# A short news story and a translation of it into German, written for this test (the
# sentences keep their order, as a translator's do), and an unrelated German story.
ENGLISH = (
    "The city council of Bremen approved a new tram line on Tuesday evening. "
    "The line will connect the main station with the university campus in the north. "
    "Construction is expected to start next spring and to cost about 240 million euros. "
    "Opponents had argued that electric buses would be cheaper and faster to introduce. "
    "Mayor Andreas Bovenschulte said the decision was a turning point for the city's transport. "
    "The first trams are planned to run in 2029."
)
GERMAN = (
    "Der Stadtrat von Bremen hat am Dienstagabend eine neue Straßenbahnlinie genehmigt. "
    "Die Linie soll den Hauptbahnhof mit dem Universitätscampus im Norden verbinden. "
    "Der Bau soll im nächsten Frühjahr beginnen und rund 240 Millionen Euro kosten. "
    "Gegner hatten argumentiert, dass Elektrobusse billiger und schneller einzuführen wären. "
    "Bürgermeister Andreas Bovenschulte sagte, die Entscheidung sei ein Wendepunkt für den "
    "Verkehr der Stadt. "
    "Die ersten Bahnen sollen im Jahr 2029 fahren."
)
OTHER_GERMAN = (
    "Der Fußballverein Werder Bremen hat am Dienstag einen neuen Trainer vorgestellt. "
    "Der Niederländer unterschrieb einen Vertrag über drei Jahre bis 2027. "
    "Die Mannschaft steht nach zehn Spielen auf dem vorletzten Platz der Tabelle. "
    "Die Fans hatten seit Wochen einen Wechsel auf der Trainerbank gefordert. "
    "Der Sportdirektor sagte, man habe in den Gesprächen einen klaren Plan gesehen. "
    "Das erste Spiel unter der neuen Leitung findet am Samstag in Stuttgart statt."
)
JAPANESE = (
    "東京都は二十日、新型感染症の対策本部会議を開き、飲食店への営業時間の短縮要請を月末まで"
    "延長することを決めた。知事は記者会見で「感染の再拡大を防ぐため、都民の皆様に引き続き"
    "協力をお願いしたい」と述べた。都内の新規感染者は三日連続で前週の同じ曜日を上回っている。"
)


def ingest(detector: Detector, url: str, text: str) -> Any:
    return detector.ingest(ArticleInput(url=url, text=text))


def test_a_japanese_story_is_long_enough_and_its_units_point_into_the_text() -> None:
    tokens = tokenize(JAPANESE)
    assert len(tokens) > 100  # character bigrams, not the few space-separated "words"
    assert list(tokens.words) == words(JAPANESE)
    assert all(JAPANESE[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True))
    assert JAPANESE[tokens.starts[0] : tokens.ends[0]] == "東京"
    assert detect(JAPANESE).code == "ja"


def test_every_article_and_match_says_its_language(detector: Detector) -> None:
    source = ingest(detector, "https://weser.example/tram", ENGLISH)
    copy = ingest(detector, "https://kurier.example/tram", GERMAN)
    assert (source.article.language, copy.article.language) == ("en", "de")
    (match,) = [m for m in copy.matches if m.is_copy]
    assert match.article.language == "en"
    assert detector.get(str(copy.article.id)).language == "de"


def test_a_translation_is_a_translated_copy_with_sentence_pairs_as_evidence(
    detector: Detector,
) -> None:
    source = ingest(detector, "https://weser.example/tram", ENGLISH)
    copy = ingest(detector, "https://kurier.example/tram", GERMAN)
    (match,) = [m for m in copy.matches if m.is_copy]
    assert match.article.id == source.article.id
    assert (match.verified_by, match.copy_type) == ("meaning", "translated")
    assert copy.original.id == str(source.article.id)  # published first: the original
    assert match.sentences is not None
    pairs = match.sentences.pairs
    assert len(pairs) >= 5
    first = pairs[0]
    assert GERMAN[first.start : first.end].startswith("Der Stadtrat von Bremen")
    assert ENGLISH[first.match_start : first.match_end].startswith("The city council")
    assert copy.meaning is None


def test_another_story_in_another_language_is_not_a_copy(detector: Detector) -> None:
    ingest(detector, "https://weser.example/tram", ENGLISH)
    other = ingest(detector, "https://kurier.example/werder", OTHER_GERMAN)
    assert not [m for m in other.matches if m.is_copy]


def test_with_the_meaning_path_off_a_translation_is_not_linked_and_the_answer_says_so(
    detector: Detector,
) -> None:
    off = Detector(detector.store, detector.settings.model_copy(update={"semantic": False}))
    ingest(off, "https://weser.example/tram", ENGLISH)
    copy = ingest(off, "https://kurier.example/tram", GERMAN)
    assert not [m for m in copy.matches if m.is_copy]
    assert copy.meaning is not None
    assert "DEDUP_SEMANTIC" in copy.meaning


def test_a_language_the_encoder_does_not_know_falls_back_and_says_so(detector: Detector) -> None:
    icelandic = (
        "Borgarstjórn Reykjavíkur samþykkti í gær nýja áætlun um almenningssamgöngur í "
        "borginni. Áætlunin gerir ráð fyrir að ný leið verði opnuð á næsta ári og að hún kosti "
        "um tvo milljarða króna. Borgarstjórinn sagði að ákvörðunin væri mikilvæg fyrir íbúa."
    )
    result = ingest(detector, "https://frettir.example/leid", icelandic)
    assert result.article.language == "is"
    assert result.meaning is not None
    assert "'is'" in result.meaning


def test_names_transliterated_from_cyrillic_give_the_same_pairs_as_in_latin() -> None:
    russian = "Вчера Владимир Путин и Ангела Меркель встретились в Берлине в 2021 году."
    english = "Yesterday Vladimir Putin and Angela Merkel met in Berlin in 2021."
    assert set(name_pairs(russian)) & set(name_pairs(english))
    assert len(set(name_pairs(russian)) & set(name_pairs(english))) >= 3


def _sentences(text: str) -> Sentences:
    return sentences_of(text, tokenize(text))


def test_pairs_by_meaning_keep_the_longest_run_in_order_and_need_enough_of_them() -> None:
    """Hand-made vectors: sentence k of one text is most like sentence order[k] of the other."""
    this = _sentences(" ".join(f"Sentence number {k} has some words." for k in range(5)))
    match = _sentences(" ".join(f"Satz Nummer {k} hat einige Worte." for k in range(5)))
    eye = np.eye(5, dtype=np.float32)
    spans = tuple((s.first, s.last) for s in this.every)
    theirs = Embedded(tuple((s.first, s.last) for s in match.every), eye)
    rule = SemanticRule(min_similarity=0.5, min_share=0.6, min_pairs=3)
    in_order = pair_by_meaning(this, Embedded(spans, eye), match, theirs, rule)
    assert (len(in_order.rewrite.pairs), in_order.share, in_order.is_copy) == (5, 1.0, True)
    shuffled = eye[[0, 3, 1, 4, 2]]  # 0,1,2 keep their order; 3 and 4 jump
    mixed = pair_by_meaning(this, Embedded(spans, shuffled), match, theirs, rule)
    assert [p.start for p in mixed.rewrite.pairs] == sorted(p.start for p in mixed.rewrite.pairs)
    assert len(mixed.rewrite.pairs) == 3
    assert mixed.is_copy
    weak = pair_by_meaning(this, Embedded(spans, eye * 0.4), match, theirs, rule)
    assert not weak.rewrite.pairs
    assert not weak.is_copy


@pytest.fixture(scope="module")
def wmt() -> list[dict[str, Any]]:
    if not WMT.exists():
        pytest.skip(f"WMT21 dev file not found at {WMT} (it lives in ../shared/corpus)")
    with Path(WMT).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_the_language_of_every_wmt_article_is_detected(wmt: list[dict[str, Any]]) -> None:
    wrong = [r["id"] for r in wmt if detect(r["text"]).code != r["meta"]["lang"]]
    assert len(wrong) <= len(wmt) // 100, wrong[:5]


def test_a_real_human_translation_is_linked_to_its_stored_source(
    detector: Detector, wmt: list[dict[str, Any]]
) -> None:
    """A Russian article and its professional English translation (WMT21, ru-en)."""
    by_group: dict[str, dict[str, dict[str, Any]]] = {}
    for row in wmt:
        by_group.setdefault(row["group"], {})[row["label"].split(":")[0]] = row
    found = 0
    tried = [
        g for g in by_group.values() if "translated" in g and g["original"]["meta"]["lang"] == "ru"
    ]
    for group in tried[:5]:
        source = ingest(
            detector, f"https://ru.example/{group['original']['id']}", group["original"]["text"]
        )
        copy = ingest(
            detector, f"https://en.example/{group['translated']['id']}", group["translated"]["text"]
        )
        found += any(m.is_copy and m.article.id == source.article.id for m in copy.matches)
    assert found >= 3, f"{found} of 5 translations linked"


def test_the_terminal_report_shows_a_translation_by_its_sentence_pairs(
    detector: Detector,
) -> None:
    from dedup.cli.report import describe_result

    ingest(detector, "https://weser.example/tram", ENGLISH)
    copy = ingest(detector, "https://kurier.example/tram", GERMAN)
    lines = describe_result(Verdict.of(copy), "tram.txt")
    assert lines[0].endswith("language de)")
    shown = "\n".join(lines)
    assert "copy type translated" in shown
    assert "sentence pairs in the same order by meaning" in shown
    assert "“Der Stadtrat von Bremen" in shown


BUS_ENGLISH = (
    "Mayor Dagur Eggertsson of Reykjavik said on Monday that the new bus line between Hlemmur "
    "and Keflavik airport will open on 15 March 2027. The line will cost 2.4 billion kronur, "
    "and Strætó will run 48 buses a day on it. Minister Sigurdur Ingi Johannsson welcomed "
    "the plan in Parliament and said the state would pay a third of the cost."
)
BUS_ICELANDIC = (
    "Dagur Eggertsson borgarstjóri Reykjavíkur sagði á mánudag að nýja strætóleiðin milli "
    "Hlemms og Keflavíkurflugvallar yrði opnuð 15. mars 2027. Leiðin mun kosta 2,4 milljarða "
    "króna og Strætó mun aka 48 ferðir á dag á henni. Sigurður Ingi Jóhannsson ráðherra "
    "fagnaði áætluninni á Alþingi og sagði að ríkið myndi greiða þriðjung kostnaðarins."
)


def test_a_possible_translation_in_a_language_the_encoder_lacks_is_related_and_says_why(
    detector: Detector,
) -> None:
    source = ingest(detector, "https://grapevine.example/bus", BUS_ENGLISH)
    given = ArticleInput(url="https://frettir.example/straeto", text=BUS_ICELANDIC)
    result = detector.check(given, related=True)
    assert result.article.language == "is"
    (match,) = result.matches
    assert (match.article.id, match.relation, match.uncovered) == (
        source.article.id,
        "related",
        "is",
    )
    (shown,) = Verdict.of(result).matches
    assert shown.explanation is not None
    assert shown.explanation.startswith("Possibly a translation")
    assert "'is' is not covered" in shown.explanation
    assert detector.check(given).matches == ()  # related pairs only when asked for


def test_a_story_in_an_uncovered_language_sharing_few_names_is_not_listed(
    detector: Detector,
) -> None:
    ingest(detector, "https://grapevine.example/bus", BUS_ENGLISH)
    other = (
        "Borgarstjórn Reykjavíkur samþykkti í gær nýja áætlun um almenningssamgöngur í "
        "borginni. Áætlunin gerir ráð fyrir að ný leið verði opnuð á næsta ári og að hún kosti "
        "um tvo milljarða króna. Borgarstjórinn sagði að ákvörðunin væri mikilvæg fyrir íbúa."
    )
    given = ArticleInput(url="https://frettir.example/leid", text=other)
    assert detector.check(given, related=True).matches == ()
