"""Text as people send it: CRLF line ends from a browser, a page that opens with chrome."""

from dedup.services.detector import ArticleInput, Detector
from tests.conftest import seed_text


def test_crlf_line_ends_keep_every_line_anchored_marker(detector: Detector) -> None:
    text = seed_text("001")
    unix = detector.check(ArticleInput(url="https://farm.example/a", text=text))
    windows = detector.check(
        ArticleInput(url="https://farm.example/a", text=text.replace("\n", "\r\n"))
    )
    old_mac = detector.check(
        ArticleInput(url="https://farm.example/a", text=text.replace("\n", "\r"))
    )
    assert [(m.kind, m.text) for m in unix.markers] == [
        ("byline", "Admin"),
        ("chrome", "Source link"),
    ]
    for other in (windows, old_mac):
        assert [(m.label, m.text) for m in other.markers] == [
            (m.label, m.text) for m in unix.markers
        ]
        assert other.original.confidence == unix.original.confidence


def test_a_page_that_opens_with_chrome_is_read_in_the_language_of_its_body(
    detector: Detector,
) -> None:
    result = detector.check(ArticleInput(url="https://aggregator.example/a", text=seed_text("003")))
    assert result.article.language == "en"
