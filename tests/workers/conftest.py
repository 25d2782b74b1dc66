"""Fixtures for the worker tests."""

from collections.abc import Callable, Iterator
from functools import partial

import pytest

from dedup.jobs import RqJobs
from dedup.runtime import Runtime
from tests.conftest import run_queued_jobs


@pytest.fixture
def run_workers(runtime: Runtime) -> Iterator[Callable[[], None]]:
    """Run every queued job of this test's queue in this process, on the test's runtime."""
    yield partial(run_queued_jobs, runtime)
    assert isinstance(runtime.jobs, RqJobs)
    runtime.jobs.empty()
