"""The retention window: an endless stream keeps Redis flat."""

from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from dedup.adapters.jobs import RqJobs
from dedup.config import Settings
from dedup.errors import ArticleNotFound
from dedup.services.detector import ArticleInput, Detector
from dedup.services.retention import evict_expired
from dedup.services.sites import Sites
from dedup.store import SiteStore, Store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2005, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def used_bytes(client: redis.Redis, prefix: str) -> tuple[int, int]:
    """(keys, summed MEMORY USAGE) under a prefix."""
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    return len(keys), sum(int(client.memory_usage(k, samples=0) or 0) for k in keys)


def test_memory_stays_flat_over_a_stream_with_a_retention_window(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    clock = Clock()
    tuned = settings.model_copy(update={"retention_days": 1 / 24, "evict_batch": 7})
    detector = Detector(Store(client_redis, settings.key_prefix), tuned, clock=clock)
    site_store = SiteStore(client_redis, settings.key_prefix)
    sites = Sites(site_store, detector, RqJobs(client_redis, settings.key_prefix), tuned)
    sizes = {}
    first_id = None
    for n, row in enumerate(bbc[:300], start=1):
        clock.now += timedelta(minutes=2)  # 30 articles fit in the hour kept
        result = detector.ingest(
            ArticleInput(url=f"https://s{n % 7}.example/{n}", text=row["text"])
        )
        first_id = first_id or str(result.article.id)
        sites.finish_ingest(result, deferred=False)
        if n % 10 == 0:
            while evict_expired(detector, sites, clock.now):
                pass
        if n in (100, 200, 300):
            sizes[n] = used_bytes(client_redis, settings.key_prefix)
    store = detector.store
    assert client_redis.zcard(store.keys.seen(0)) <= 40
    assert store.count() <= 40
    assert client_redis.scard(site_store.keys.counted) <= 40
    # Flat, not three times as much (the kept articles differ in length, hence the margin).
    (keys_100, bytes_100), (keys_300, bytes_300) = sizes[100], sizes[300]
    assert keys_300 <= keys_100 * 1.5
    assert bytes_300 <= bytes_100 * 1.5
    # Nothing of an evicted article is left behind: evict all, and no index key remains.
    clock.now += timedelta(days=1)
    while evict_expired(detector, sites, clock.now):
        pass
    shard_keys = f"{settings.key_prefix}:{{0}}:"  # every key of an article is in its shard
    left = {
        k.decode().removeprefix(shard_keys).split(":")[0]
        for k in client_redis.scan_iter(match=shard_keys + "*")
    }
    assert left <= {"next_id"}
    assert client_redis.scard(site_store.keys.counted) == 0
    try:
        detector.get(first_id or "")
        raise AssertionError("the first article should have been evicted")
    except ArticleNotFound:
        pass


def test_without_retention_nothing_is_evicted(
    detector: Detector,
    client_redis: redis.Redis,
    settings: Settings,
    bbc: list[dict[str, Any]],
) -> None:
    stored = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/r", text=bbc[5]["text"]))
    sites = Sites(
        SiteStore(client_redis, settings.key_prefix),
        detector,
        RqJobs(client_redis, settings.key_prefix),
        settings,
    )
    assert evict_expired(detector, sites, datetime(2100, 1, 1, tzinfo=UTC)) == 0
    assert detector.get(str(stored.article.id)).id == stored.article.id
