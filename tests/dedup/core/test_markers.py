from dataclasses import replace
from typing import Any

from dedup.core.markers import Rules, default_rules, find_markers
from tests.conftest import seed_text


def kinds(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for marker in find_markers(seed_text(name)):
        found.setdefault(marker.kind, []).append(" ".join(marker.text.split()))
    return found


def test_wire_syndication_seed_shows_its_ap_credit_and_site_chrome() -> None:
    found = kinds("000")
    assert found["credit"] == ["(AP)", "© The Associated Press"]
    assert "View Site in: Desktop | Mobile" in found["chrome"]


def test_content_farm_seed_shows_admin_byline_and_source_link() -> None:
    assert kinds("001") == {"byline": ["Admin"], "chrome": ["Source link"]}


def test_spun_seed_shows_its_spun_phrases() -> None:
    spun = kinds("002")["spin"]
    assert {"Chilly Battle", "Center East", "caffeine proposal", "White Home"} <= set(spun)


def test_scraped_seed_shows_sponsor_and_advertisement_chrome() -> None:
    chrome = kinds("003")["chrome"]
    assert chrome.count("Advertisement") == 5
    assert sum(c.startswith("Sponsor:") for c in chrome) == 4
    assert "NextImg:" in chrome


def test_translated_seed_shows_its_translator_credit() -> None:
    assert kinds("004") == {"translation": ["Переведено сервисом «Яндекс Переводчик»"]}


def test_a_translator_credit_stands_apart_but_a_quote_translated_in_prose_is_none() -> None:
    text = "Talks ended.\n\nTranslated by Google Translate\n"
    (marker,) = find_markers(text)
    assert (marker.kind, marker.text.strip()) == ("translation", "Translated by Google Translate")
    assert [m.text for m in find_markers("Talks ended. (Machine translated by DeepL)")] == [
        "Machine translated by DeepL)"
    ]
    # A newspaper's own sentence (a BBC original in the synthetic set): not a credit line.
    prose = 'The lyric was translated by gay rights group OutRage! as "burn the men".'
    assert find_markers(prose) == []


def test_marker_spans_index_the_display_text() -> None:
    text = seed_text("003")
    for marker in find_markers(text):
        assert text[marker.start : marker.end] == marker.text


def test_a_tag_dump_line_is_chrome_but_a_sentence_mentioning_tags_is_not() -> None:
    text = "The minister spoke on Monday.\n\nTags: Economy, Markets, World, Business\n"
    (marker,) = find_markers(text)
    assert (marker.kind, marker.label) == ("chrome", "tag dump")
    assert text[marker.start : marker.end] == "Tags: Economy, Markets, World, Business"
    assert find_markers("Price tags: high, as ever, said the shopkeeper on the high street.") == []


def test_the_word_prefilters_skip_only_rules_that_would_find_nothing(
    bbc: list[dict[str, Any]],
) -> None:
    rules = default_rules()
    unfiltered = Rules(
        tuple(replace(rule, requires=()) for rule in rules.rules),
        rules.owner_sites,
        rules.spin,
        rules.spin_canonical,
        spin_ends=(),
    )
    texts = [seed_text(name) for name in ("000", "001", "002", "003", "004")]
    texts += [article["text"] for article in bbc[:600]]
    texts += [SPUN_AND_CHROME, SPUN_AND_CHROME.upper()]
    found = 0
    for text in texts:
        expected = find_markers(text, unfiltered)
        assert find_markers(text, rules) == expected
        found += len(expected)
    assert found > 30  # the texts do hold markers of several rules


SPUN_AND_CHROME = """Sponsor: NEWS AI
By Admin

The Chilly Battle ended, the Ecu Union said, and the very best courtroom agreed.
Source: Daily Planet
via Reuters Wire
Advertisement
Subscribe
Source link"""
