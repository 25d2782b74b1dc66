"""Fixtures for the worker tests."""

from collections.abc import Callable, Iterator

import pytest
from rq import SimpleWorker

from dedup.jobs import RqJobs
from dedup.runtime import Runtime
from workers.tasks import installed


@pytest.fixture
def run_workers(runtime: Runtime) -> Iterator[Callable[[], None]]:
    """Run every queued job of this test's queue in this process (RQ SimpleWorker, burst),
    on the test's runtime, as `dedup worker` runs them on its own."""
    jobs = runtime.jobs
    assert isinstance(jobs, RqJobs)

    def run() -> None:
        with installed(runtime):
            SimpleWorker([jobs.queue], connection=jobs.connection).work(burst=True)

    yield run
    jobs.empty()
