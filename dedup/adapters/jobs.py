"""The worker queue (RQ): the one module that speaks RQ, behind the `Jobs` port.

Jobs are functions of ids, named by their dotted path, so this module never imports the
workers package: `workers.tasks.scan_chunk(scan_id, chunk)` and
`workers.tasks.followup(article_id)`. Those two names and signatures are a contract with the
jobs already queued: a release that renames them must keep a shim under the old name until
every queue is drained (see docs/operations.md). Redis failures of the queue are
`QueueUnavailable` (503, nothing queued).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import redis
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import WORKER_EXECUTIONS_KEY_TEMPLATE, Execution
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from dedup.errors import QueueUnavailable

SCAN_CHUNK_JOB = "workers.tasks.scan_chunk"
FOLLOWUP_JOB = "workers.tasks.followup"
DELIVERY_JOB = "workers.tasks.deliver"
# A job that fails as a whole is retried at once (backoff for Redis blips happens inside the
# job): delayed retries would need RQ's scheduler, a process of its own that a SIGKILLed
# worker leaves orphaned.
JOB_RETRIES = 3
# With no worker running, follow-up jobs are dropped after a week instead of piling up.
FOLLOWUP_WAIT_SECONDS = 7 * 24 * 3600
# A follow-up explains one stored text (milliseconds); a worker that died in one is found by
# RQ's own cleanup this long (plus RQ's 60 s) after it stopped beating.
FOLLOWUP_TIMEOUT_SECONDS = 60
DELIVERY_TIMEOUT_SECONDS = 90  # one POST, bounded by DEDUP_WEBHOOK_TIMEOUT_SECONDS (<= 60)
RESULT_TTL_SECONDS = 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600


def queue_name(prefix: str) -> str:
    """One queue per index, so that two prefixes on one Redis never share work."""
    return f"dedup:{prefix}"


class JobState(StrEnum):
    """What the queue says of a chunk's job."""

    WAITING = "waiting"  # queued, deferred or scheduled: a worker will take it
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"  # raised, and RQ's retries are spent
    OTHER = "other"  # stopped or cancelled by hand


@dataclass(frozen=True, slots=True)
class ChunkJob:
    state: JobState
    started_at: datetime | None  # None also for a job whose start RQ has not written yet


class Jobs(Protocol):
    """What the scan protocol needs of a job queue."""

    name: str

    def queue_chunk(self, scan_id: str, chunk: int, attempt: int, timeout_seconds: int) -> None:
        """Queue attempt `attempt` of a scan's chunk."""

    def queue_followup(self, article_id: int) -> None:
        """Queue an article's follow-up (at most one job per article id)."""

    def queue_delivery(self, delivery_id: str) -> None:
        """Queue one attempt of a webhook delivery (dedup.services.hooks)."""

    def chunk_job(self, scan_id: str, chunk: int, attempt: int) -> ChunkJob | None:
        """The job of that attempt, or None when the queue holds none."""

    def drop_chunk_job(self, scan_id: str, chunk: int, attempt: int) -> None:
        """Forget the job of that attempt (abandoned by a dead worker)."""

    def has_workers(self) -> bool:
        """Whether any worker listens on the queue."""

    def require(self) -> None:
        """Nothing when work can be queued; InvalidSettings saying how to get a queue when
        it cannot (it never calls Redis: a service starts while Redis is down)."""


def chunk_job_id(scan_id: str, chunk: int, attempt: int) -> str:
    return f"scan-{scan_id}-{chunk}-{attempt}"  # RQ ids: letters, digits, _ and - only


_STATES = {
    JobStatus.QUEUED: JobState.WAITING,
    JobStatus.DEFERRED: JobState.WAITING,
    JobStatus.SCHEDULED: JobState.WAITING,
    JobStatus.STARTED: JobState.STARTED,
    JobStatus.FINISHED: JobState.FINISHED,
    JobStatus.FAILED: JobState.FAILED,
}


@contextmanager
def _queue_errors() -> Iterator[None]:
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise QueueUnavailable(f"the worker queue's Redis did not answer: {exc}") from exc
    except redis.ResponseError as exc:
        raise QueueUnavailable(f"the worker queue's Redis refused a command: {exc}") from exc


class RqJobs:
    """`Jobs` on an RQ queue of a plain Redis (RQ cannot run on a Redis Cluster)."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self.connection = connection
        self.queue = Queue(queue_name(prefix), connection=connection)
        self.name = self.queue.name

    def queue_chunk(self, scan_id: str, chunk: int, attempt: int, timeout_seconds: int) -> None:
        with _queue_errors():
            self.queue.enqueue(
                SCAN_CHUNK_JOB,
                scan_id,
                chunk,
                job_id=chunk_job_id(scan_id, chunk, attempt),
                job_timeout=timeout_seconds,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=FAILURE_TTL_SECONDS,
                retry=Retry(max=JOB_RETRIES),
            )

    def queue_followup(self, article_id: int) -> None:
        with _queue_errors():
            self.queue.enqueue(
                FOLLOWUP_JOB,
                str(article_id),
                job_id=f"followup-{article_id}",
                ttl=FOLLOWUP_WAIT_SECONDS,
                job_timeout=FOLLOWUP_TIMEOUT_SECONDS,
                result_ttl=600,
                failure_ttl=FAILURE_TTL_SECONDS,
                retry=Retry(max=JOB_RETRIES),
            )

    def queue_delivery(self, delivery_id: str) -> None:
        # No RQ retry: a failed attempt is due again after a backoff (dedup.services.hooks), and a
        # worker that dies mid-attempt leaves it to be claimed again after its lease.
        with _queue_errors():
            self.queue.enqueue(
                DELIVERY_JOB,
                delivery_id,
                job_timeout=DELIVERY_TIMEOUT_SECONDS,
                result_ttl=600,
                failure_ttl=FAILURE_TTL_SECONDS,
            )

    def depth(self) -> int:
        """How many jobs wait on the queue."""
        with _queue_errors():
            return int(self.queue.count)

    def chunk_job(self, scan_id: str, chunk: int, attempt: int) -> ChunkJob | None:
        with _queue_errors():
            try:
                job = Job.fetch(chunk_job_id(scan_id, chunk, attempt), connection=self.connection)
                status = job.get_status()
            except NoSuchJobError:
                return None
        if status is None:
            return None
        started = job.started_at.replace(tzinfo=UTC) if job.started_at else None
        return ChunkJob(_STATES.get(status, JobState.OTHER), started)

    def drop_chunk_job(self, scan_id: str, chunk: int, attempt: int) -> None:
        with _queue_errors():
            try:
                Job.fetch(
                    chunk_job_id(scan_id, chunk, attempt), connection=self.connection
                ).delete()
            except NoSuchJobError:
                return

    def has_workers(self) -> bool:
        with _queue_errors():
            return bool(Worker.all(queue=self.queue))

    def require(self) -> None:
        return None

    def recover(self, worker_name: str) -> int:
        """Queue again the follow-ups a worker was running when it died (they count an
        article once, so running one twice is harmless); forget the dead worker. Its scan
        chunks are left to the reaper, whose lease rule knows when they are abandoned.
        Returns how many jobs were queued again.

        RQ 3 keeps a worker's running jobs as executions (`rq:worker:<name>:executions`,
        entries `job_id:execution_id` of the started registry); RQ itself would find them
        only when the execution's heartbeat expires and a maintenance round runs.
        """
        connection, queued = self.connection, 0
        registry = StartedJobRegistry(queue=self.queue)
        with _queue_errors():
            members = connection.smembers(WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name))
            for composite in members:
                key = composite.decode() if isinstance(composite, bytes) else str(composite)
                execution = Execution.from_composite_key(key, connection)
                try:
                    job = Job.fetch(execution.job_id, connection=connection)
                except NoSuchJobError:
                    continue
                if job.func_name != FOLLOWUP_JOB or job.get_status() != JobStatus.STARTED:
                    continue
                with connection.pipeline() as pipe:
                    registry.remove_execution(execution, job, pipeline=pipe)
                    execution.delete(job, pipe)
                    pipe.execute()
                self.queue.enqueue_job(job)
                queued += 1
            dead = Worker.find_by_key(
                Worker.redis_worker_namespace_prefix + worker_name, connection=connection
            )
            if dead is not None:
                dead.register_death()  # type: ignore[no-untyped-call]
        return queued

    def clean_abandoned(self) -> None:
        """RQ's own cleanup of jobs whose worker stopped beating (any machine's workers):
        each is retried if it has retries left."""
        with _queue_errors():
            StartedJobRegistry(queue=self.queue).cleanup()

    def empty(self) -> None:
        """Drop every job waiting on the queue (tests and evaluation runs)."""
        with _queue_errors():
            self.queue.empty()  # type: ignore[no-untyped-call]
