from datetime import UTC, datetime

from dedup.core.attribution import Party, likely_original
from dedup.core.markers import find_markers

T0 = datetime(2025, 2, 12, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 2, 12, 11, 0, tzinfo=UTC)


def party(
    id: str,
    site: str,
    text: str = "",
    published: datetime | None = None,
    seen: datetime = T1,
    fuller: bool = False,
) -> Party:
    return Party(id, site, published, seen, tuple(find_markers(text)), fuller)


def test_the_earlier_publication_is_the_original_with_a_checkable_reason() -> None:
    result = likely_original(
        [party("2", "copier.example", published=T1), party("1", "apnews.com", published=T0)]
    )
    assert result.id == "1"
    assert result.reasons[0] == (
        "apnews.com was published 2025-02-12T09:00:00+00:00, "
        "2 h before copier.example was published"
    )
    assert result.confidence == 0.93


def test_a_credit_to_another_outlet_outweighs_first_sight() -> None:
    copy = party("1", "infonews.ca", "MOSCOW (AP) — talks", seen=T0)
    source = party("2", "apnews.com", "MOSCOW (AP) — talks", seen=T1)
    result = likely_original([copy, source])
    assert result.id == "2"
    assert "infonews.ca credits another outlet: “(AP)”" in result.reasons


def test_an_article_alone_with_copy_markers_is_flagged_with_low_confidence() -> None:
    result = likely_original([party("7", "farm.example", "the Chilly Battle is back\nSource link")])
    assert result.id == "7"
    assert result.confidence == 0.2
    assert result.reasons[0] == "farm.example has 1 spun phrase(s): “Chilly Battle” for “Cold War”"


def test_an_article_alone_without_markers_is_its_own_original_at_even_odds() -> None:
    result = likely_original([party("7", "paper.example", "a plain report")])
    assert (result.id, result.confidence) == ("7", 0.5)


def test_undistinguishable_articles_say_so() -> None:
    result = likely_original([party("1", "a.example", seen=T0), party("2", "b.example", seen=T0)])
    assert result.confidence == 0.5
    assert (
        result.reasons[-1] == "the evidence does not separate these articles; the earliest is shown"
    )
