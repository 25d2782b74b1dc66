"""The index layout: shards, grouped index entries, and refusing an index of another layout."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from dedup.adapters.jobs import RqJobs
from dedup.config import Settings
from dedup.errors import ArticleNotFound, IndexMismatch
from dedup.runtime import index_store
from dedup.services.detector import ArticleInput, Detector
from dedup.services.retention import evict_expired
from dedup.services.sites import Sites
from dedup.store import SiteStore
from dedup.store.codecs import IndexEntries, epoch_seconds


def sharded(client: redis.Redis, settings: Settings, shards: int) -> Detector:
    tuned = settings.model_copy(update={"shards": shards})
    return Detector(index_store(client, tuned), tuned)


def test_articles_spread_over_shards_and_copies_are_found_across_them(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    detector = sharded(client_redis, settings, 3)
    originals = [
        detector.ingest(ArticleInput(url=f"https://paper.example/{n}", text=row["text"]))
        for n, row in enumerate(bbc[:24])
    ]
    assert {o.article.id % 3 for o in originals} == {0, 1, 2}  # every shard holds some
    assert detector.store.count() == 24
    # A copy lands in the shard of its own url, usually not its original's.
    crossed = 0
    for n, original in enumerate(originals[:12]):
        copy = detector.ingest(
            ArticleInput(url=f"https://farm.example/{n}", text="Source link\n\n" + bbc[n]["text"])
        )
        assert [m.article.id for m in copy.matches] == [original.article.id]
        assert copy.original.id == str(original.article.id)
        crossed += copy.article.id % 3 != original.article.id % 3
    assert crossed > 0
    # Same url again: found in its shard, not stored twice.
    again = detector.ingest(ArticleInput(url="https://paper.example/5", text=bbc[5]["text"]))
    assert (again.created, again.article.id) == (False, originals[5].article.id)


def test_deleting_and_evicting_leave_no_index_entry_in_any_shard(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    now = datetime(2005, 1, 1, tzinfo=UTC)
    tuned = settings.model_copy(update={"shards": 4, "retention_days": 1, "evict_batch": 5})
    detector = Detector(index_store(client_redis, tuned), tuned, clock=lambda: now)
    ids = [
        detector.ingest(ArticleInput(url=f"https://a.example/{n}", text=row["text"])).article.id
        for n, row in enumerate(bbc[:20])
    ]
    detector.delete(str(ids[0]))
    with pytest.raises(ArticleNotFound):
        detector.get(str(ids[0]))
    sites = Sites(
        SiteStore(client_redis, settings.key_prefix),
        detector,
        RqJobs(client_redis, settings.key_prefix),
        tuned,
    )
    removed = 0
    while batch := evict_expired(detector, sites, now + timedelta(days=2)):
        assert batch <= 5
        removed += batch
    assert removed == 19
    assert detector.store.count() == 0
    left = {
        key.decode().split(":")[3]
        for key in client_redis.scan_iter(match=f"{settings.key_prefix}:{{*}}:*")
    }
    assert left == {"next_id"}  # no record, url, band, SimHash, anchor or skeleton entry


def test_an_index_of_an_earlier_layout_is_refused_with_what_to_do(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    client_redis.hset(f"{settings.key_prefix}:meta", mapping={"num_perm": "128", "bands": "9"})
    detector = Detector(index_store(client_redis, settings), settings)
    with pytest.raises(IndexMismatch, match=r"layout is 1 in the index but 5 now.*KEY_PREFIX"):
        detector.ingest(ArticleInput(url="https://a.example/1", text=bbc[0]["text"]))
    client_redis.hset(f"{settings.key_prefix}:meta", "layout", "2")  # ids in SimHash hashes
    detector = Detector(index_store(client_redis, settings), settings)  # as text
    with pytest.raises(IndexMismatch, match=r"layout is 2 in the index but 5 now"):
        detector.check(ArticleInput(url="https://a.example/1", text=bbc[0]["text"]))


def test_another_shard_count_is_refused(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    sharded(client_redis, settings, 2).ingest(
        ArticleInput(url="https://a.example/1", text=bbc[0]["text"])
    )
    with pytest.raises(IndexMismatch, match="shards is 2 in the index but 3 now"):
        sharded(client_redis, settings, 3).check(
            ArticleInput(url="https://a.example/2", text=bbc[1]["text"])
        )


def test_index_entries_are_fields_of_few_hashes_not_a_key_each(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    tuned = settings.model_copy(update={"index_group_bits": 6})  # 64 groups per kind
    detector = Detector(index_store(client_redis, tuned), tuned)
    for n, row in enumerate(bbc[:40]):
        detector.ingest(ArticleInput(url=f"https://a.example/{n}", text=row["text"]))
    kinds: dict[str, int] = {}
    for key in client_redis.scan_iter(match=f"{settings.key_prefix}:{{0}}:*"):
        kind = key.decode().split(":")[3]
        kinds[kind] = kinds.get(kind, 0) + 1
    # 40 articles hold ~600 anchors and ~360 band buckets, in at most 64 hashes per kind
    # (per band for the LSH).
    assert kinds["x"] <= 64
    assert kinds["k"] <= 64
    assert kinds["l"] <= 64 * detector.params.fingerprint.lsh.bands
    assert kinds["a"] == 40


@pytest.mark.parametrize("group_bits", [6, 16, 24])
def test_the_add_script_writes_exactly_the_groups_the_keys_name(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]], group_bits: int
) -> None:
    """add_article.lua spells the group names from packed numbers: they must be the names
    lookups and deletes use (`Keys.index_keys`), and no other key may be written."""
    tuned = settings.model_copy(update={"index_group_bits": group_bits})
    detector = Detector(index_store(client_redis, tuned), tuned)
    outcome = detector.index_many([ArticleInput(url="https://a.example/k", text=bbc[5]["text"])])
    ((doc_id, _),) = outcome  # type: ignore[misc]
    store = detector.store
    record = store.fetch([doc_id])[0]
    assert record is not None
    named = set(store.keys.index_keys(0, IndexEntries.of(detector.with_name_pairs(record))))
    written = {
        key.decode()
        for key in client_redis.scan_iter(match=f"{settings.key_prefix}:{{0}}:*")
        if key.decode().split(":")[3] in "lsxkwn"
    }
    assert written == named
    assert {key.split(":")[3] for key in named} >= set("lsxk")  # no word anchors here


def test_dates_are_published_else_first_seen_in_every_shard_and_none_when_gone(
    client_redis: redis.Redis, settings: Settings, bbc: list[dict[str, Any]]
) -> None:
    detector = sharded(client_redis, settings, 3)
    published = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    ids = []
    for n, row in enumerate(bbc[:9]):
        when = published + timedelta(days=n) if n % 2 else None
        given = ArticleInput(url=f"https://paper.example/{n}", text=row["text"], published_at=when)
        ids.append(detector.ingest(given).article)
    assert {a.id % 3 for a in ids} == {0, 1, 2}
    gone = ids[4]
    detector.delete(str(gone.id))
    asked = [a.id for a in reversed(ids)] + [ids[0].id, 10**6]
    expected = [
        None if a.id == gone.id else a.published_at or a.first_seen_at for a in reversed(ids)
    ] + [ids[0].first_seen_at, None]
    assert detector.store.dates(asked) == [
        None if e is None else epoch_seconds(e) for e in expected
    ]
    assert detector.store.dates([]) == []
