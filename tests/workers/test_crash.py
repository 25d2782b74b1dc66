"""A worker SIGKILLed in the middle of a chunk loses and doubles nothing (real processes).

The reaper's races are driven step by step in tests/dedup/test_scans.py."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis

from dedup.config import Settings
from dedup.runtime import index_store, open_runtime
from dedup.store import ScanStore
from tests.conftest import REPO, leases_pattern, records_pattern, wait_until

ARTICLES = 400
HANG_GUARD_SECONDS = 180  # a bound so a broken recovery fails instead of hanging CI


def wait_for(condition: Any, what: str) -> Any:
    return wait_until(condition, what, HANG_GUARD_SECONDS, ignoring=())


def submit_and_start_pool(
    settings: Settings,
    scans: ScanStore,
    client: redis.Redis,
    bbc: list[dict[str, Any]],
    scan_id: str,
    articles: int,
    processes: int,
) -> "subprocess.Popen[bytes]":
    """Submit a scan of the first BBC articles and start `dedup worker` on it, with the
    settings' chunk size and lease."""
    lines = [
        json.dumps({"url": f"https://www.bbc.co.uk/{scan_id}/{i}", "text": bbc[i]["text"]})
        for i in range(articles)
    ]
    with open_runtime(settings) as runtime:
        runtime.scans.submit(iter(enumerate(lines, 1)), scan_id)
    env = {
        **os.environ,
        "DEDUP_REDIS_URL": str(settings.redis_url),
        "DEDUP_KEY_PREFIX": settings.key_prefix,
        "DEDUP_SCAN_CHUNK_SIZE": str(settings.scan_chunk_size),
        "DEDUP_LEASE_SECONDS": str(settings.lease_seconds),
        "DEDUP_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "worker", "--processes", str(processes)],
        env=env,
        cwd=REPO,
    )


def test_killing_a_worker_mid_chunk_loses_and_doubles_nothing(
    redis_url: str, prefix: str, client_redis: redis.Redis, bbc: list[dict[str, Any]]
) -> None:
    settings = Settings(redis_url=redis_url, key_prefix=prefix, scan_chunk_size=20, lease_seconds=3)
    scans = ScanStore(client_redis, prefix, settings.scan_ttl_seconds)
    pool = submit_and_start_pool(settings, scans, client_redis, bbc, "crash1", ARTICLES, 2)
    try:

        def a_held_lease() -> tuple[int, int] | None:
            for key in client_redis.scan_iter(match=leases_pattern(scans.keys("crash1"))):
                owner = client_redis.get(key)
                if isinstance(owner, bytes) and isinstance(key, bytes):
                    return int(key.rsplit(b":", 1)[1]), int(owner.rsplit(b":", 1)[1])
            return None

        chunk, victim = wait_for(a_held_lease, "a worker to take a chunk")
        os.kill(victim, signal.SIGKILL)

        state = wait_for(
            lambda: (s := scans.get("crash1")) and s.status == "done" and s, "the scan to finish"
        )
    finally:
        pool.send_signal(signal.SIGTERM)
        pool.wait(60)

    assert scans.attempt("crash1", chunk) >= 2  # the killed worker's chunk was queued again
    counters = {k: getattr(state, k) for k in ("total", "processed", "stored", "failed")}
    assert counters == {"total": ARTICLES, "processed": ARTICLES, "stored": ARTICLES, "failed": 0}
    store = index_store(client_redis, settings)
    assert store.count() == ARTICLES  # each url stored exactly once
    records = sum(1 for _ in client_redis.scan_iter(match=records_pattern(store.keys), count=1000))
    assert records == ARTICLES
    results, cursor = scans.results("crash1", 0, 1000)
    assert [json.loads(r)["line"] for r in results] == list(range(1, ARTICLES + 1))
    assert cursor is None
    assert pool.returncode == 0


def children_of(pid: int) -> set[int]:
    """The processes a process started (Linux: /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(p) for p in task.read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_a_sigkilled_pool_takes_its_worker_processes_with_it(env: dict[str, str]) -> None:
    pool = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "worker", "--processes", "2"],
        env={**os.environ, **env},
        cwd=REPO,
    )
    try:
        workers = wait_for(
            lambda: (found := children_of(pool.pid)) and len(found) >= 2 and found, "two workers"
        )
        pool.kill()  # SIGKILL: no handler runs in the pool
        pool.wait(30)
        wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to exit too")
    finally:
        if pool.poll() is None:
            pool.kill()
