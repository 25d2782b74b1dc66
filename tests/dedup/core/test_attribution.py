from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dedup.core.align import Alignment
from dedup.core.article import Article
from dedup.core.attribution import Party, likely_original, same_time
from dedup.core.labelling import attribute
from dedup.core.markers import find_markers
from dedup.core.score import Relation, Scores
from dedup.core.verification import Match

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


def test_a_wire_service_is_preferred_as_the_source_and_its_credit_lines_cost_it_nothing() -> None:
    wire = Party(
        "1", "pa.example", T1, T1, tuple(find_markers("LONDON (Reuters) — talks")), is_wire=True
    )
    paper = party("2", "paper.example", "talks", published=T1)
    result = likely_original([paper, wire])
    assert result.id == "1"
    assert "pa.example is a wire service (DEDUP_WIRE_SITES)" in result.reasons
    assert not any("credits another outlet" in reason for reason in result.reasons)


def stored(doc_id: int, site: str, published: datetime) -> Article:
    return Article(
        id=doc_id,
        url=f"https://{site}/{doc_id}",
        site=site,
        title=None,
        published_at=published,
        first_seen_at=published,
        canonical_url=None,
        text="",
        digest=b"",
        simhash=0,
        buckets=(),
    )


def match(article: Article, relation: Relation, coverage: float = 0.9) -> Match:
    scores = Scores(0.5, 0.9, 0.5, 10, False)
    return Match(article, relation, scores, Alignment((), 0), (), coverage=(coverage, 0.5))


def test_fuller_text_counts_only_between_articles_of_the_same_time_sharing_passages() -> None:
    assert same_time(T0, T0 + timedelta(minutes=59))
    assert not same_time(T0, T0 + timedelta(hours=18))
    query = party("", "paper.example", published=T0 + timedelta(hours=18))
    day_before = T0 - timedelta(days=1)
    # A paper 80% inside the wire of the day before and inside a sibling of its own day.
    wire = match(stored(1, "wire.example", day_before), "excerpt")
    sibling = match(stored(2, "sibling.example", T0 + timedelta(hours=17, minutes=30)), "excerpt")
    named = attribute(query, [sibling, wire])
    assert (named.id, named.confidence) == ("1", 0.89)  # the wire earns time, not fullness
    # Of one moment, the fuller text wins when the article's words are inside its passages,
    # and not when their sentences merely pair (27% of the article in shared passages).
    same_moment = T0 + timedelta(hours=18)
    fuller = match(stored(2, "sibling.example", same_moment), "excerpt")
    thin = match(stored(2, "sibling.example", same_moment), "excerpt", 0.27)
    assert attribute(query, [fuller]).id == "2"
    tied = attribute(query, [thin])
    assert tied.confidence == 0.5
    assert tied.reasons == ("the evidence does not separate these articles; the earliest is shown",)


def test_the_time_reason_speaks_of_the_article_asked_about() -> None:
    asked = party("3", "excerpts.example", published=T1 + timedelta(hours=3))
    source = party("1", "apnews.com", published=T0)
    scrape = party("2", "aggregator.example", published=T1)
    result = likely_original([asked, scrape, source])
    assert result.id == "1"
    assert result.reasons[0] == (
        "apnews.com was published 2025-02-12T09:00:00+00:00, 5 h before excerpts.example was "
        "published"
    )


def test_copies_that_all_carry_signs_of_copying_are_siblings_of_a_source_not_stored() -> None:
    spun = party("1", "spinner.example", "talks on the Chilly Battle", published=T0)
    farm = party("2", "farm.example", "talks on the war\nSource link", published=T1)
    result = likely_original([farm, spun])
    # The earlier one is not named the original: both say they were copied.
    assert (result.id, result.source_stored, result.confidence) == ("2", False, 0.5)
    assert result.reasons == (
        "farm.example carries aggregator chrome: “Source link”",
        "spinner.example has 1 spun phrase(s): “Chilly Battle” for “Cold War”",
        "every article of this group (farm.example, spinner.example) carries signs of being "
        "copied: they are siblings, copies of a common source that is not stored",
    )
    # A scrape keeps its source's credit line: a sign both carry says nothing of which
    # copied which, so the paper crediting AP is the scrape's source, not its sibling.
    syndicated = party("5", "paper.example", "MOSCOW (AP) — talks", published=T0)
    scrape = party("6", "farm.example", "MOSCOW (AP) — talks\nSource link", published=T1)
    assert likely_original([scrape, syndicated]).id == "5"
    # One clean article among them is their source; a wire's credit lines cost it nothing.
    clean = party("3", "paper.example", "talks on the Cold War", published=T0 - timedelta(hours=1))
    assert likely_original([farm, spun, clean]).id == "3"
    wire = Party(
        "4", "pa.example", T0, T0, tuple(find_markers("LONDON (Reuters) — talks")), is_wire=True
    )
    assert likely_original([farm, wire]).source_stored


def test_sibling_links_read_sibling_and_keep_the_copy_type_of_their_signs() -> None:
    from dedup.core.labelling import label_copies
    from dedup.core.score import Thresholds

    farm = party("9", "farm.example", "talks on the war\nSource link", published=T1)
    spun_article = stored(1, "spinner.example", T0)
    spun = replace(
        match(spun_article, "near_duplicate"),
        markers=tuple(find_markers("talks on the Chilly Battle")),
    )
    original = attribute(farm, [spun])
    assert not original.source_stored
    (labelled,) = label_copies(farm, [spun], original, Thresholds(0.5, 0.8))
    assert (labelled.relation, labelled.copy_type, labelled.is_copy) == ("sibling", "spun", True)
    # With a clean original stored, the same link keeps its shingle relation.
    clean = Party("9", "paper.example", T1, T1, ())
    kept = label_copies(clean, [spun], attribute(clean, [spun]), Thresholds(0.5, 0.8))
    assert kept[0].relation == "near_duplicate"
