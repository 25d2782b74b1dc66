"""The cross-language candidate path by meaning: each article's lead vector, searched when
its ingest is followed up (off the request path) and whenever it is explained again, with the
real sentence encoder and a real Redis.

The texts were written for this test: a story with no digit in it and its Japanese
translation, whose names are in katakana. They share no word, no name and no number, so the
name-pair path cannot bring one to the other: only their leads can.
"""

from datetime import UTC, datetime, timedelta

from dedup.runtime import Runtime
from dedup.services.detector import ArticleInput, epoch_day

ENGLISH = (
    "The city council of Bremen approved a new tram line on Tuesday evening. "
    "The line will connect the main station with the university campus in the north. "
    "Construction is expected to start next spring and to last several years. "
    "Opponents had argued that electric buses would be cheaper and faster to introduce. "
    "The mayor said the decision was a turning point for the city's transport."
)
JAPANESE = (
    "ブレーメン市議会は火曜日の夜、新しい路面電車の路線を承認した。"
    "この路線は中央駅と北部の大学キャンパスを結ぶ。"
    "建設は来年の春に始まり、数年続く見込みだ。"
    "反対派は、電気バスの方が安く、早く導入できると主張していた。"
    "市長は、この決定は市の交通にとっての転換点だと述べた。"
)
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def ingest(runtime: Runtime, url: str, text: str, when: datetime = MONDAY) -> str:
    """Ingest as the API does (the answer now, the follow-up job later, run here)."""
    return stored_with_answer(runtime, url, text, when)[0]


def stored_with_answer(
    runtime: Runtime, url: str, text: str, when: datetime = MONDAY
) -> tuple[str, list[str]]:
    """The id an ingest stored, and the copies its answer named; its follow-up run."""
    result = runtime.detector.ingest(ArticleInput(url=url, text=text, published_at=when))
    runtime.sites.followup(str(result.article.id))
    return str(result.article.id), [str(m.article.id) for m in result.matches if m.is_copy]


def copies(runtime: Runtime, doc_id: str) -> list[tuple[str, str]]:
    result = runtime.detector.matches(doc_id)
    return [(str(m.article.id), m.verified_by) for m in result.matches if m.is_copy]


def test_a_translation_sharing_no_name_or_number_is_found_by_its_lead(runtime: Runtime) -> None:
    source, first = stored_with_answer(runtime, "https://weser.example/tram", ENGLISH)
    translation, answer = stored_with_answer(
        runtime, "https://tokyo.example/tram", JAPANESE, MONDAY + timedelta(hours=5)
    )
    assert first == []  # nothing else was stored
    assert answer == [source]  # the POST answer: a lead in another language, searched
    assert copies(runtime, translation) == [(source, "meaning")]
    assert copies(runtime, source) == [(translation, "meaning")]
    assert runtime.detector.matches(translation).original.id == source


def test_the_source_stored_after_its_translation_finds_it_and_is_counted(
    runtime: Runtime,
) -> None:
    translation = ingest(
        runtime, "https://tokyo.example/tram", JAPANESE, MONDAY + timedelta(hours=5)
    )
    source, answer = stored_with_answer(runtime, "https://weser.example/tram", ENGLISH)
    assert answer == [translation]
    assert copies(runtime, source) == [(translation, "meaning")]
    figures = runtime.sites.figures("tokyo.example")
    assert figures.copies == 1  # counted when the source's follow-up found the pair


def test_an_ingest_embeds_no_lead_while_no_lead_in_another_language_is_near(
    runtime: Runtime,
) -> None:
    day = epoch_day(MONDAY)
    leads = runtime.detector.store.leads
    given = ArticleInput(url="https://weser.example/a", text=ENGLISH, published_at=MONDAY)
    runtime.detector.ingest(given)
    assert len(leads.window([day]).ids) == 0  # not on the request path: its follow-up's
    ingest(runtime, "https://weser.example/tram", ENGLISH)
    assert len(leads.window([day]).ids) == 1  # the follow-up kept it, once


def test_a_check_searches_leads_on_the_request_path(runtime: Runtime) -> None:
    source = ingest(runtime, "https://weser.example/tram", ENGLISH)
    given = ArticleInput(url="https://tokyo.example/t", text=JAPANESE, published_at=MONDAY)
    result = runtime.detector.check(given)
    assert [str(m.article.id) for m in result.matches if m.is_copy] == [source]


def test_leads_further_apart_than_the_window_are_not_searched(runtime: Runtime) -> None:
    ingest(runtime, "https://weser.example/tram", ENGLISH)
    later = MONDAY + timedelta(days=runtime.settings.semantic_window_days + 2)
    translation = ingest(runtime, "https://tokyo.example/tram", JAPANESE, later)
    assert copies(runtime, translation) == []


def test_retention_drops_the_lead_lists_of_days_before_its_window(runtime: Runtime) -> None:
    ingest(runtime, "https://weser.example/tram", ENGLISH)
    day = epoch_day(MONDAY)
    assert len(runtime.detector.store.leads.window([day]).ids) == 1
    runtime.detector.drop_leads_before(MONDAY + timedelta(days=1))
    assert len(runtime.detector.store.leads.window([day]).ids) == 0
    translation = ingest(runtime, "https://tokyo.example/tram", JAPANESE, MONDAY)
    assert copies(runtime, translation) == []  # the source's lead is gone with its day


def test_an_archive_loaded_with_its_leads_has_its_translations_found(runtime: Runtime) -> None:
    archive = ArticleInput(url="https://weser.example/tram", text=ENGLISH, published_at=MONDAY)
    plain = ArticleInput(url="https://weser.example/other", text=ENGLISH, published_at=MONDAY)
    (loaded,) = runtime.detector.index_many([archive], leads=True)
    assert isinstance(loaded, tuple)
    runtime.detector.index_many([plain])  # no lead: found by names and numbers only
    _, answer = stored_with_answer(
        runtime, "https://tokyo.example/tram", JAPANESE, MONDAY + timedelta(hours=5)
    )
    assert answer == [str(loaded[0])]
