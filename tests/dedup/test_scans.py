"""The scan protocol's recovery rules, raced deterministically: real RQ jobs run in this
process, and the reaper runs at every step of a chunk's life through the `on_step` hook."""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq.job import Job, JobStatus

from dedup.adapters.jobs import RqJobs, chunk_job_id
from dedup.config import Settings
from dedup.runtime import Runtime, open_runtime
from dedup.services.scans import MAX_ATTEMPTS, Scans
from dedup.store import ScanStatus
from tests.conftest import run_queued_jobs

STEPS = ("chunk.started", "chunk.leased", "line.recorded", "chunk.done", "chunk.released")


@pytest.fixture
def parts(settings: Settings) -> Iterator[Runtime]:
    """A runtime with two-line chunks and a 3 s lease."""
    tuned = settings.model_copy(update={"scan_chunk_size": 2, "lease_seconds": 3})
    with open_runtime(tuned) as runtime:
        yield runtime
        assert isinstance(runtime.jobs, RqJobs)
        runtime.jobs.empty()


def lines(bbc: list[dict[str, Any]], count: int, tag: str) -> Iterator[tuple[int, str]]:
    for n in range(count):
        body = {"url": f"https://www.bbc.co.uk/{tag}/{n}", "text": bbc[300 + n]["text"]}
        yield n + 1, json.dumps(body)


def reaper(runtime: Runtime, clock: Callable[[], datetime]) -> Scans:
    """The reaper's own view of the same scans, with its own clock."""
    return Scans(
        runtime.detector,
        runtime.sites,
        runtime.scan_store,
        runtime.jobs,
        runtime.settings,
        clock=clock,
    )


def test_the_reaper_never_queues_again_a_chunk_a_live_worker_holds_at_any_step(
    parts: Runtime, bbc: list[dict[str, Any]]
) -> None:
    state = parts.scans.submit(lines(bbc, 6, "steps"))
    now = reaper(parts, lambda: datetime.now(UTC))
    # An hour on, every job started long ago: only the lease and the done set protect it.
    later = reaper(parts, lambda: datetime.now(UTC) + timedelta(hours=1))
    seen: list[str] = []
    requeued: list[tuple[str, int]] = []

    def at_step(name: str, details: dict[str, Any]) -> None:
        seen.append(name)
        requeued.append((name, now.reap()))
        if name != "chunk.started":  # before its lease a chunk is protected by time alone
            requeued.append((name, later.reap()))

    parts.scans.on_step = at_step
    run_queued_jobs(parts)
    assert set(seen) == set(STEPS)
    assert seen.count("chunk.done") == 3  # three chunks of two lines
    assert [r for r in requeued if r[1]] == []
    final = parts.scans.state(state.id)
    assert (final.status, final.processed, final.stored) == (ScanStatus.DONE, 6, 6)
    assert [parts.scan_store.attempt(state.id, n) for n in range(3)] == [1, 1, 1]


def test_a_chunk_finishing_between_the_reapers_reads_is_not_queued_again(
    parts: Runtime, bbc: list[dict[str, Any]]
) -> None:
    state = parts.scans.submit(lines(bbc, 2, "between"))
    late = reaper(parts, lambda: datetime.now(UTC) + timedelta(hours=1))
    ran: list[int] = []

    def finish_it_now(name: str, details: dict[str, Any]) -> None:
        if name == "reap.read" and not ran:  # the reaper has read the chunk as open, unleased
            ran.append(details["chunk"])
            run_queued_jobs(parts)  # ... and the worker finishes it before the reaper's next read

    late.on_step = finish_it_now
    assert late.reap() == 0
    assert ran == [0]
    assert parts.scans.state(state.id).status is ScanStatus.DONE
    assert parts.scan_store.attempt(state.id, 0) == 1


def abandon(runtime: Runtime, scan_id: str, chunk: int, started_at: datetime | None) -> Job:
    """Make the chunk's queued job look taken by a worker that then died: STARTED, off the
    queue, no lease."""
    jobs = runtime.jobs
    assert isinstance(jobs, RqJobs)
    job = Job.fetch(chunk_job_id(scan_id, chunk, 1), connection=jobs.connection)
    jobs.queue.remove(job)
    job.set_status(JobStatus.STARTED)
    job.started_at = started_at
    job.save()
    return job


def test_a_started_job_whose_worker_died_is_queued_again_and_runs_once(
    parts: Runtime, bbc: list[dict[str, Any]]
) -> None:
    state = parts.scans.submit(lines(bbc, 2, "dead"))
    parts.scan_store.start(state.id, datetime.now(UTC))
    abandon(parts, state.id, 0, datetime.now(UTC) - timedelta(minutes=5))
    assert parts.scans.reap() == 1
    assert parts.scan_store.attempt(state.id, 0) == 2
    assert parts.jobs.chunk_job(state.id, 0, 1) is None  # the dead worker's job is gone
    run_queued_jobs(parts)
    final = parts.scans.state(state.id)
    assert (final.status, final.processed, final.stored) == (ScanStatus.DONE, 2, 2)
    assert parts.store.count() == 2


def test_a_job_started_without_a_start_time_yet_is_left_alone(
    parts: Runtime, bbc: list[dict[str, Any]]
) -> None:
    """RQ reads a job's fields before its status: one that started in between reads STARTED
    with no start time, and has only just started."""
    state = parts.scans.submit(lines(bbc, 2, "fresh"))
    parts.scan_store.start(state.id, datetime.now(UTC))
    abandon(parts, state.id, 0, None)
    late = reaper(parts, lambda: datetime.now(UTC) + timedelta(hours=1))
    assert late.reap() == 0
    assert parts.scan_store.attempt(state.id, 0) == 1


def test_a_chunk_that_fails_every_time_fails_its_scan_after_max_attempts(
    parts: Runtime, bbc: list[dict[str, Any]]
) -> None:
    state = parts.scans.submit(lines(bbc, 2, "doomed"))

    def break_it(name: str, details: dict[str, Any]) -> None:
        if name == "chunk.leased":
            raise RuntimeError("a bug in the middle of a chunk")

    parts.scans.on_step = break_it
    rounds = 0
    while parts.scans.state(state.id).status is not ScanStatus.FAILED:
        assert rounds <= MAX_ATTEMPTS, "the scan never failed"
        run_queued_jobs(parts)  # RQ runs the job and its retries; each one fails
        parts.scans.reap()  # the reaper queues the failed chunk again, or fails the scan
        rounds += 1
    final = parts.scans.state(state.id)
    assert parts.scan_store.attempt(state.id, 0) == MAX_ATTEMPTS
    assert final.error == f"chunk 0 was queued {MAX_ATTEMPTS} times and never finished"
    assert final.finished_at is not None
