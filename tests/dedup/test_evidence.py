"""No copy link without evidence to show: every copy a check names shares a passage or pairs
a sentence with it, crowd paraphrases that change most words of each sentence included."""

import json
from typing import Any

import pytest

from dedup.core.verdict import Verdict
from dedup.services.detector import ArticleInput, Detector
from tests.conftest import REPO

WEBIS = REPO.parent / "shared" / "corpus" / "webis-cpc-11-dev.jsonl"


def test_every_copy_of_a_crowd_paraphrase_comes_with_a_passage_or_sentence_pair(
    detector: Detector,
) -> None:
    if not WEBIS.exists():
        pytest.skip(f"Webis-CPC-11 dev file not found at {WEBIS} (it lives in ../shared/corpus)")
    with WEBIS.open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = [json.loads(line) for line in handle]
    originals = {r["group"]: r for r in rows if r["role"] == "original"}
    rewrites = [r for r in rows if r["label"] == "paraphrase" and r["group"] in originals][:80]
    for row in rewrites:
        source = originals[row["group"]]
        detector.ingest(
            ArticleInput(url=f"https://books.example/{source['id']}", text=source["text"])
        )
    copies = 0
    for row in rewrites:
        verdict = Verdict.of(
            detector.check(ArticleInput(url="https://crowd.example/r", text=row["text"]))
        )
        for match in verdict.copies:
            copies += 1
            assert match.passages or match.sentence_pairs, row["id"]
    assert copies > 40  # most of them are found, so the rule was put to the test
