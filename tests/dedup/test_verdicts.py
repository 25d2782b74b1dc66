"""The verdict every view reads, and what a scan stores of it: written and read back whole,
and a result stored in another format read back as a failed item that says so."""

import json
from typing import Any

from dedup.core.verdict import Verdict, from_plain, to_plain
from dedup.services.detector import ArticleInput, Detector
from dedup.services.scans import RESULT_VERSION, ScanItem

CHROME = "Sponsor: NEWS AI\nAdmin\n\n{}\n\nSource link"


def a_copy_verdict(detector: Detector, bbc: list[dict[str, Any]]) -> Verdict:
    text = bbc[210]["text"]
    detector.ingest(ArticleInput(url="https://www.bbc.co.uk/v/1", text=text))
    copy = detector.ingest(ArticleInput(url="https://farm.example/v/1", text=CHROME.format(text)))
    return Verdict.of(copy)


def test_a_verdict_is_read_back_as_it_was_written(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    verdict = a_copy_verdict(detector, bbc)
    (match,) = verdict.matches
    assert (match.relation, match.copy_type, verdict.original.site) == (
        "near_duplicate",
        "scraped",
        "bbc.co.uk",
    )
    assert match.passages
    assert verdict.markers
    passage = match.passages[0]
    assert passage.text
    assert passage.text == passage.match_text
    assert from_plain(json.loads(json.dumps(to_plain(verdict)))) == verdict


def test_a_scan_item_round_trips_and_an_item_of_another_format_says_so(
    detector: Detector, bbc: list[dict[str, Any]]
) -> None:
    verdict = a_copy_verdict(detector, bbc)
    stored = ScanItem(7, None, True, verdict)
    assert ScanItem.loads(stored.dumps()) == stored
    failed = ScanItem(8, "line is not JSON")
    assert ScanItem.loads(failed.dumps()) == failed
    earlier = json.dumps({"line": 9, "error": None, "created": True, "id": "3", "matches": []})
    read = ScanItem.loads(earlier)
    assert (read.line, read.verdict) == (9, None)
    assert read.error == ("this result was stored by another release (format None); scan again")
    assert json.loads(stored.dumps())["v"] == RESULT_VERSION
