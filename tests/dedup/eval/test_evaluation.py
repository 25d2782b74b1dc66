"""The evaluation builder and runner, on real BBC text and a real Redis."""

from datetime import datetime
from typing import Any

import redis

from dedup.config import Settings
from dedup.core.text import normalize
from dedup.eval.evaluate import markdown, run
from dedup.eval.synthetic import COPY_TYPES, build, excerpt, homoglyphs, spin, split_of
from dedup.runtime import Runtime


def test_splits_are_disjoint_and_every_copy_comes_after_its_dated_original(
    bbc: list[dict[str, Any]],
) -> None:
    sample = bbc[:120]
    dev, test = build(sample, "dev"), build(sample, "test")
    dev_groups = {i["label"]["group"] for i in dev}
    assert dev_groups.isdisjoint({i["label"]["group"] for i in test})
    assert all(split_of(g) == "dev" for g in dev_groups)
    published = {
        i["label"]["group"]: i["published_at"] for i in dev if i["label"]["role"] == "original"
    }
    copies = [i for i in dev if i["label"]["role"] == "copy"]
    assert {c["label"]["copy_type"] for c in copies} == set(COPY_TYPES)
    for copy in copies:
        assert datetime.fromisoformat(copy["published_at"]) > datetime.fromisoformat(
            published[copy["label"]["group"]]
        )
    assert build(sample, "dev") == dev  # the same seed builds the same set


def test_transformations_change_what_they_claim(bbc: list[dict[str, Any]]) -> None:
    import random

    text = bbc[0]["text"]
    rng = random.Random(1)
    assert normalize(excerpt(text, 0.3)) == " ".join(
        normalize(text).split()[: len(normalize(excerpt(text, 0.3)).split())]
    )
    spun, achieved = spin(text, 0.3, rng)
    assert spun != text
    assert 0.15 < achieved <= 0.3
    tricked = homoglyphs(text, rng)
    assert tricked != text
    assert normalize(tricked) == normalize(text)  # zero-width and look-alikes fold away


def test_a_small_run_scores_every_copy_type(
    bbc: list[dict[str, Any]],
    client_redis: redis.Redis,
    settings: Settings,
    runtime: Runtime,
    prefix: str,
) -> None:
    items = build(bbc[:60], "dev")
    report = run(items, runtime).as_dict()
    assert set(report["copy_types"]) <= set(COPY_TYPES)
    scraped = report["copy_types"]["scraped"]
    assert (scraped["recall"], scraped["precision"], scraped["original_accuracy"]) == (
        1.0,
        1.0,
        1.0,
    )
    assert report["failed_items"] == []
    assert "| scraped |" in markdown(report)
    assert list(client_redis.scan_iter(match=f"{prefix}-eval-*")) == []  # its own keys are gone
