"""Faults with real processes: the embedded Redis SIGKILLed under `dedup serve` and
`dedup worker`, in the middle of ingests through the API and of a queued scan. Nothing is
restarted by hand: the service and the workers find the server again (its supervisor
restarts it from its append-only file at the same socket), every acknowledged article is
stored once, the scan finishes and no follow-up is left behind."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import redis
from rq import Queue
from rq.registry import StartedJobRegistry

from dedup.adapters.jobs import queue_name
from dedup.runtime.embedded import EmbeddedRedis, socket_path
from dedup.store import SiteStore, Store
from tests.conftest import REPO, bearer, cli_key, free_port, records_pattern, wait_until

HANG_GUARD_SECONDS = 240  # bounds a broken recovery; not a speed limit
PREFIX = "faults"


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Until the service answers again: Redis and HTTP errors mean not yet."""
    ignoring = (httpx2.HTTPError, redis.RedisError)
    return wait_until(condition, what, HANG_GUARD_SECONDS, ignoring)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[httpx2.Client, Path]]:
    """`dedup serve` and `dedup worker` on one embedded Redis (no DEDUP_REDIS_URL), and a
    client of the API holding a key made by `dedup keys create`."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEDUP_")}
    env |= {"DEDUP_DATA_DIR": str(data), "DEDUP_KEY_PREFIX": PREFIX, "DEDUP_LOG_LEVEL": "WARNING"}
    port = free_port()
    command = [sys.executable, "-m", "dedup.cli"]
    key = cli_key(env)
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("serve", "worker")}
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)], env=env, cwd=REPO, stderr=logs["serve"]
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx2.get(f"{base}/healthz").status_code == 200, "dedup serve")
    workers = subprocess.Popen(
        [*command, "worker", "--processes", "2"], env=env, cwd=REPO, stderr=logs["worker"]
    )
    api = httpx2.Client(base_url=base, headers=bearer(key), timeout=60)
    try:
        yield api, data
        assert server.poll() is None, "dedup serve died: it should have ridden out the faults"
        assert workers.poll() is None, "dedup worker died"
    except BaseException:
        for name, handle in logs.items():
            handle.flush()
            tail = (tmp_path / f"{name}.log").read_text(errors="replace")[-4000:]
            print(f"--- the end of {name}'s log ---\n{tail}")  # noqa: T201 (shown on failure)
        raise
    finally:
        api.close()
        for handle in logs.values():
            handle.close()
        for process in (workers, server):
            process.send_signal(signal.SIGTERM)
        for process in (workers, server):
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        stopper = EmbeddedRedis(data, supervise=False)  # whoever left it running
        stopper.stop()


def kill_redis(data: Path) -> int:
    pid = int((data / "redis.pid").read_text().strip())
    os.kill(pid, signal.SIGKILL)
    return pid


def store_until_acknowledged(api: httpx2.Client, body: dict[str, str]) -> int:
    """POST an article until the service acknowledges it (201, or 200: stored before)."""
    while True:
        try:
            answer = api.post("/v1/articles", json=body, timeout=30)
        except httpx2.HTTPError:
            time.sleep(0.05)
            continue
        if answer.status_code in (200, 201):
            return answer.status_code
        assert answer.status_code == 503, answer.text  # Redis is being restarted
        time.sleep(0.05)


def test_killing_the_embedded_redis_mid_ingest_and_mid_scan_loses_and_doubles_nothing(
    service: tuple[httpx2.Client, Path], bbc: list[dict[str, Any]]
) -> None:
    api, data = service
    client = redis.Redis(unix_socket_path=str(socket_path(data)))
    first_pid = int((data / "redis.pid").read_text().strip())

    # 1. Ingests through the API, with the server killed under them.
    posted = [{"url": f"https://www.bbc.co.uk/i/{n}", "text": bbc[n]["text"]} for n in range(80)]
    acknowledged: list[int] = []
    killer_went = threading.Event()

    def post_all() -> None:
        for body in posted:
            acknowledged.append(store_until_acknowledged(api, body))

    poster = threading.Thread(target=post_all)
    poster.start()
    wait_for(lambda: len(acknowledged) >= 25, "the first ingests")
    kill_redis(data)
    killer_went.set()
    poster.join(HANG_GUARD_SECONDS)
    assert len(acknowledged) == len(posted)
    second_pid = wait_for(
        lambda: (pid := int((data / "redis.pid").read_text().strip())) != first_pid and pid,
        "a new server",
    )

    # 2. A queued scan, with the server killed while workers run its chunks.
    lines = [
        json.dumps({"url": f"https://www.bbc.co.uk/s/{n}", "text": bbc[100 + n]["text"]})
        for n in range(150)
    ]
    created = wait_for(
        lambda: (
            (
                answer := api.post(
                    "/v1/scans",
                    content="\n".join(lines).encode(),
                    headers={"content-type": "application/x-ndjson"},
                    timeout=60,
                )
            ).status_code
            == 202
            and answer.json()
        ),
        "the scan to be accepted",
    )

    def state() -> dict[str, Any]:
        answer = api.get(f"/v1/scans/{created['id']}", timeout=30)
        return dict(answer.json()) if answer.status_code == 200 else {}

    wait_for(lambda: state().get("processed", 0) >= 20, "the scan to get going")
    os.kill(second_pid, signal.SIGKILL)
    final = wait_for(lambda: (s := state()).get("status") == "done" and s, "the scan to finish")
    assert (final["processed"], final["stored"], final["failed"]) == (150, 150, 0)
    results = api.get(f"/v1/scans/{created['id']}/results", params={"format": "ndjson"}, timeout=60)
    assert [json.loads(r)["line"] for r in results.text.splitlines()] == list(range(1, 151))

    # Every acknowledged article once, and every one counted into its site once.
    store = Store(client, PREFIX)
    assert store.count() == 80 + 150
    records = sum(1 for _ in client.scan_iter(match=records_pattern(store.keys), count=1000))
    assert records == 80 + 150
    queue = Queue(queue_name(PREFIX), connection=client)
    wait_for(
        lambda: queue.count == 0 and StartedJobRegistry(queue=queue).count == 0,
        "every follow-up to run",
    )
    sites = SiteStore(client, PREFIX)
    wait_for(lambda: sites.figures("bbc.co.uk")[0].articles == 230, "every article counted")
    client.close()
