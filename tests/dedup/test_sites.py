"""Site profiles and the farm score: pure rules, and a simulated ecosystem on a real Redis."""

from typing import Any

import redis

from dedup.config import Settings
from dedup.core.sites import SiteFigures, farm_score
from dedup.eval.ecosystem import build
from dedup.eval.evaluate import run_sites
from dedup.runtime import Runtime


def test_credit_keeps_a_republisher_out_of_the_farms() -> None:
    scraped = SiteFigures("a.example", articles=30, copies=27, copy_types={"scraped": 27})
    credited = SiteFigures(
        "b.example", articles=30, copies=27, credited_copies=27, copy_types={"syndicated": 27}
    )
    assert farm_score(scraped).role == "farm"
    assert farm_score(credited).role == "syndicator"
    assert farm_score(credited).value < 0.1 < 0.5 < farm_score(scraped).value


def test_being_copied_counts_against_and_few_articles_are_weak_evidence() -> None:
    copier = SiteFigures("c.example", articles=20, copies=10)
    source = SiteFigures("c.example", articles=20, copies=10, copied=15)
    assert farm_score(source).value < farm_score(copier).value
    one = SiteFigures("d.example", articles=1, copies=1)
    many = SiteFigures("d.example", articles=50, copies=50)
    assert farm_score(one).value < 0.5 < farm_score(many).value
    reasons = [r.name for r in farm_score(source).reasons]
    assert reasons == ["uncredited copies", "copied by others"]


def test_disguise_and_chrome_raise_the_score_with_their_reasons() -> None:
    plain = SiteFigures("e.example", articles=20, copies=12)
    disguised = SiteFigures(
        "e.example", articles=20, copies=12, copy_types={"spun": 12}, markers={"chrome": 20}
    )
    assert farm_score(disguised).value > farm_score(plain).value
    texts = " ".join(r.text for r in farm_score(disguised).reasons)
    assert "12 spun of its articles are disguised copies" in texts
    assert "100% of its articles carry aggregator chrome" in texts


def test_a_simulated_ecosystem_ranks_every_farm_above_every_other_site(
    client_redis: redis.Redis,
    settings: Settings,
    runtime: Runtime,
    bbc: list[dict[str, Any]],
) -> None:
    items = build(
        bbc[:400], publishers=4, per_publisher=10, syndicators=1, independents=2, per_independent=8
    )
    report = run_sites(items, runtime)
    assert report["failed_items"] == []
    by_site = {r["site"]: r for r in report["sites"]}
    assert report["ranking_auc"] == 1.0
    assert {s for s, r in by_site.items() if r["role"] == "farm"} == {
        s for s, r in by_site.items() if r["label"] == "farm"
    }
    assert by_site["wire1.example"]["role"] == "syndicator"
    assert report["independent_max_score"] < 0.5
    scraper = by_site["fastscrape.example"]
    assert (
        scraper["lag_median_minutes"]
        < 60
        < by_site["translated-news.example"]["lag_median_minutes"]
    )
    assert by_site["translated-news.example"]["copy_types"].get("translated", 0) >= 1
    assert all(by_site[f"paper{i}.example"]["copied"] > 0 for i in range(1, 5))
    assert client_redis.keys(f"{settings.key_prefix}-sites-*") == []  # cleaned up
