"""Fixtures for the worker tests."""

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rq import Queue, SimpleWorker

from dedup.config import Settings, get_settings
from workers.tasks import queue_name, worker_state


@pytest.fixture
def run_workers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, client_redis: "redis.Redis[bytes]"
) -> Iterator[Any]:
    """Run every queued job of this test's queue in this process (RQ SimpleWorker, burst)."""
    monkeypatch.setenv("DEDUP_REDIS_URL", str(settings.redis_url))
    monkeypatch.setenv("DEDUP_KEY_PREFIX", settings.key_prefix)
    get_settings.cache_clear()
    worker_state.cache_clear()
    queue = Queue(queue_name(settings), connection=client_redis)

    def run() -> None:
        SimpleWorker([queue], connection=client_redis).work(burst=True)

    yield run
    queue.empty()
    get_settings.cache_clear()
    worker_state.cache_clear()
