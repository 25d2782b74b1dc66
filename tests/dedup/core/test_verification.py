"""Verification decides the same whether or not it weighs every pair in full (pure)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from dedup.config import Settings
from dedup.core.article import Article
from dedup.core.derived import NO_CACHE, Derived
from dedup.core.fingerprint import fingerprint
from dedup.core.verification import Assessment, assess, verify
from tests.conftest import CORPUS

METER = CORPUS.parent / "meter-dev.jsonl"


def _article(doc_id: int, row: dict[str, Any], site: str) -> Article:
    params = Settings().fingerprint_params()
    found = fingerprint(row["text"], params)
    when = datetime(2000, 1, 1, tzinfo=UTC)
    return Article(
        id=doc_id,
        url=f"https://{site}/{doc_id}",
        site=site,
        title=None,
        published_at=when,
        first_seen_at=when,
        canonical_url=None,
        text=row["text"],
        digest=found.digest,
        simhash=found.simhash,
        buckets=found.buckets,
        skeleton_set=tuple(found.skeleton_set.tolist()),
    )


def test_the_cheap_exit_for_two_articles_decides_as_the_full_weighing_does() -> None:
    """Real newspaper articles against the wire stories of their story: the copies found
    with the cheap exit (a plain check) are the copies found weighing every pair in full
    (what `related` and the fit's `observe` ask for)."""
    if not METER.exists():
        pytest.skip(f"METER dev file not found at {METER} (it lives in ../shared/corpus)")
    with METER.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    by_group: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if len(row["text"].split()) >= 40:  # long enough to fingerprint
            by_group.setdefault(row["group"], []).append(row)
    params = Settings().match_params()
    fp_params = Settings().fingerprint_params()
    compared = cheap_exits = 0
    for group in list(by_group.values())[:40]:
        wire = [r for r in group if r["role"] == "original"]
        papers = [r for r in group if r["role"] != "original"]
        candidates = [_article(k + 1, r, "pa.example") for k, r in enumerate(wire)]
        for paper in papers:
            query = fingerprint(paper["text"], fp_params)
            seen: list[Assessment] = []
            cheap = verify(paper["text"], query, candidates, params)
            full = verify(paper["text"], query, candidates, params, observe=seen.extend)
            assert [(m.article.id, m.relation) for m in cheap] == [
                (m.article.id, m.relation) for m in full
            ]
            compared += len(candidates)
            mine = Derived(paper["text"], query.digest, query.simhash, query.skeleton_set)
            quick = assess(mine, query, candidates, params, NO_CACHE, exact=False)
            cheap_exits += sum(a.forward is None and a.reuse == 0.0 for a in quick)
    assert compared > 200
    # The exit was taken, not only the full weighing: 46 times here, where every pair is of
    # one story (the sentence rule weighs in full each pair sharing 5% of a text's 3-grams).
    assert cheap_exits > 40
