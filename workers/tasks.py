"""RQ jobs, as functions of ids, and how they are queued and recovered.

A scan is cut into chunks of lines, one job each (`scan_chunk`). A job holds a lease on its
chunk in Redis, refreshed by a heartbeat thread; a chunk whose job is gone or started but no
longer leased (its worker was killed) is queued again by `reap`, which `dedup worker` runs
every second. Ingest is idempotent and each line's result is recorded once, so a chunk that
runs twice neither loses nor doubles an article, and the counters add up.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar

from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from dedup.config import Settings, get_settings
from dedup.detector import Detector, Result, count_sites
from dedup.errors import ArticleNotFound, DedupError, StoreUnavailable
from dedup.extract import HtmlExtractor
from dedup.input import parse_line
from dedup.runtime import connect
from dedup.store import Client, ScanLine, ScanStore, SiteStore, Store

log = logging.getLogger(__name__)

T = TypeVar("T")
STORE_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)  # transient Redis errors inside a job
# A job that fails as a whole is retried at once (backoff for Redis blips happens inside the
# job): delayed retries would need RQ's scheduler, a process of its own that a SIGKILLed
# worker leaves orphaned.
JOB_RETRY = Retry(max=3)
MAX_ATTEMPTS = 6  # a chunk queued this often (kills, failures) fails its scan
# With no worker running, follow-up jobs are dropped after a week instead of piling up.
FOLLOWUP_WAIT_SECONDS = 7 * 24 * 3600


def queue_name(settings: Settings) -> str:
    """One queue per index, so that two prefixes on one Redis never share work."""
    return f"dedup:{settings.key_prefix}"


@dataclass(frozen=True)
class Worker:
    """What a worker process keeps between jobs."""

    settings: Settings
    client: Client
    detector: Detector
    scans: ScanStore
    sites: SiteStore


@lru_cache(maxsize=1)
def worker_state() -> Worker:
    """This process's connection and detector, made on its first job (RQ jobs are plain
    functions of ids, so they cannot be handed open connections)."""
    settings = get_settings()
    if settings.redis_url is None:
        raise RuntimeError(
            "a worker needs DEDUP_REDIS_URL; `dedup worker` sets it for its processes"
        )
    client = connect(settings.redis_url)
    extractor = HtmlExtractor(settings.html_timeout_seconds)
    detector = Detector(Store.for_settings(client, settings), settings, extractor)
    scans = ScanStore(client, settings.key_prefix, settings.scan_ttl_seconds)
    return Worker(settings, client, detector, scans, SiteStore(client, settings.key_prefix))


def _now() -> datetime:
    return datetime.now(UTC)


def with_store_retries(action: Callable[[], T]) -> T:
    """Run an action, retrying with backoff while Redis is unreachable."""
    for pause in STORE_RETRY_SECONDS:
        try:
            return action()
        except StoreUnavailable as exc:
            log.warning("Redis unavailable (%s); retrying in %.1f s", exc, pause)
            time.sleep(pause)
    return action()


@contextmanager
def lease(scans: ScanStore, scan_id: str, chunk: int, seconds: int) -> Iterator[None]:
    """Hold the chunk's lease while the block runs, refreshing it every third of its life."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds / 3):
            try:
                scans.hold_lease(scan_id, chunk, owner, seconds)
            except StoreUnavailable:
                log.warning("could not refresh the lease of %s chunk %d", scan_id, chunk)

    scans.hold_lease(scan_id, chunk, owner, seconds)
    heart = threading.Thread(target=beat, name=f"lease-{scan_id}-{chunk}", daemon=True)
    heart.start()
    try:
        yield
    finally:
        stop.set()
        heart.join()
        with suppress(StoreUnavailable):  # if Redis is gone, the lease expires by itself
            scans.release_lease(scan_id, chunk)


def _process(
    detector: Detector, sites: SiteStore, entry: ScanLine
) -> tuple[dict[str, Any], bool, bool, bool]:
    """Ingest one line: (payload, ok, already_stored, has_copies)."""
    from api.schemas import CheckOut  # the same shape as the ingest response

    line = entry.line
    if entry.error is not None:
        return {"line": line, "error": entry.error}, False, False, False
    item = parse_line(entry.text, f"line {line}")
    if item.article is None:
        return {"line": line, "error": item.error}, False, False, False
    try:
        result = with_store_retries(lambda: detector.ingest(item.article))  # type: ignore[arg-type]
    except StoreUnavailable:
        raise  # the job fails and RQ retries the chunk later
    except DedupError as exc:
        return {"line": line, "error": str(exc)}, False, False, False
    with_store_retries(lambda: count_followup(sites, result))  # a worker: no need to queue it
    body = CheckOut.of(result).model_dump(mode="json")
    payload = {"line": line, "error": None, "created": result.created, **body}
    return payload, True, not result.created, bool(result.matches)


def scan_chunk(scan_id: str, chunk: int) -> dict[str, int]:
    """Ingest one chunk of a scan's lines and record each line's result once."""
    state = worker_state()
    scans, detector = state.scans, state.detector
    status = with_store_retries(lambda: scans.start(scan_id, _now()))
    if status != "running":
        return {"skipped": 1}
    items = with_store_retries(lambda: scans.chunk_items(scan_id, chunk))
    if items is None:
        return {"skipped": 1}
    recorded = with_store_retries(lambda: scans.recorded_lines(scan_id, [i.line for i in items]))
    counts = {"processed": 0, "failed": 0}
    with lease(scans, scan_id, chunk, state.settings.lease_seconds):
        for position, entry in enumerate(items):
            if entry.line in recorded:
                continue
            if position % 25 == 0 and scans.status(scan_id) == "cancelled":
                return counts
            payload, ok, already, copies = _process(detector, state.sites, entry)
            record = partial(
                scans.record, scan_id, entry.line, payload,
                ok=ok, already_stored=already, has_copies=copies,
            )  # fmt: skip
            with_store_retries(record)
            counts["processed"] += 1
            counts["failed"] += not ok
        with_store_retries(lambda: scans.finish_chunk(scan_id, chunk, _now()))
    return counts


def job_id(scan_id: str, chunk: int, attempt: int) -> str:
    return f"scan-{scan_id}-{chunk}-{attempt}"  # RQ ids: letters, digits, _ and - only


def enqueue_chunk(
    queue: Queue, scans: ScanStore, settings: Settings, scan_id: str, chunk: int
) -> str:
    """Queue a chunk's next attempt; returns its job id."""
    attempt = scans.next_attempt(scan_id, chunk)
    job = queue.enqueue(
        scan_chunk,
        scan_id,
        chunk,
        job_id=job_id(scan_id, chunk, attempt),
        # HTML extraction may take up to its timeout for every line of a chunk
        job_timeout=int(settings.scan_chunk_size * (settings.html_timeout_seconds + 1) + 60),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        retry=JOB_RETRY,
    )
    return str(job.id)


def reap(queue: Queue, scans: ScanStore, settings: Settings) -> int:
    """Queue again every open chunk whose job is gone or started without a live lease (its
    worker died); fail a scan whose chunk keeps failing. Returns how many were queued."""
    queued = 0
    grace = timedelta(seconds=settings.lease_seconds)
    for scan_id in scans.running():
        for chunk, leased in scans.open_chunks(scan_id):
            if leased:
                continue
            attempt = scans.attempt(scan_id, chunk)
            try:
                job = Job.fetch(job_id(scan_id, chunk, attempt), connection=queue.connection)
                status = job.get_status()
            except NoSuchJobError:
                job, status = None, None
            waiting = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
            if status in waiting:
                continue
            if status == JobStatus.STARTED and job is not None:
                # RQ reads the job's fields, then its status: a job that started in between
                # is STARTED with no start time yet, and has just started too.
                started = job.started_at.replace(tzinfo=UTC) if job.started_at else None
                if started is None or _now() - started < grace:
                    continue  # just started: its lease may not be written yet
            if status == JobStatus.FAILED and attempt >= MAX_ATTEMPTS:
                scans.fail(scan_id, f"chunk {chunk} failed {attempt} times", _now())
                break
            if not scans.unclaimed(scan_id, chunk):
                continue  # taken or finished since open_chunks read it
            if job is not None and status == JobStatus.STARTED:
                job.delete()  # abandoned by a dead worker; RQ would otherwise retry it too
            log.warning("requeueing %s chunk %d (job %s)", scan_id, chunk, status or "missing")
            enqueue_chunk(queue, scans, settings, scan_id, chunk)
            queued += 1
    return queued


class ScanWriter:
    """Builds a scan from its input lines: each chunk is stored and queued as soon as it is
    full, so workers start before a long upload ends. Blank lines are skipped (their numbers
    are kept); a line that is not UTF-8 becomes a failed item with that reason."""

    def __init__(self, queue: Queue, scans: ScanStore, settings: Settings, scan_id: str) -> None:
        self.queue, self.scans, self.settings, self.scan_id = queue, scans, settings, scan_id
        self.last_line = 0
        self._chunk: list[ScanLine] = []
        self._number = 0
        scans.create(scan_id, _now())

    def add(self, line: int, raw: bytes | str) -> bool:
        """Buffer one line; True when a chunk is full and `flush` should be called."""
        self.last_line = line
        error = None
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            text, error = "", f"line is not valid UTF-8 (byte offset {exc.start})"
        if error is None and not text.strip():
            return False
        self._chunk.append(ScanLine(line, text, error))
        return len(self._chunk) >= self.settings.scan_chunk_size

    def add_failed(self, line: int, reason: str) -> bool:
        """Buffer a line that could not be read at all, to be recorded as failed."""
        self.last_line = line
        self._chunk.append(ScanLine(line, "", reason))
        return len(self._chunk) >= self.settings.scan_chunk_size

    def flush(self) -> None:
        """Store and queue the buffered chunk."""
        if not self._chunk:
            return
        self.scans.add_chunk(self.scan_id, self._number, self._chunk)
        enqueue_chunk(self.queue, self.scans, self.settings, self.scan_id, self._number)
        self._number, self._chunk = self._number + 1, []

    def close(self) -> dict[str, str]:
        """Flush the rest and seal the scan; returns its state."""
        self.flush()
        self.scans.seal(self.scan_id, self.last_line, _now())
        state = self.scans.get(self.scan_id)
        assert state is not None
        return state


def submit(
    lines: Iterator[tuple[int, bytes | str]],
    queue: Queue,
    scans: ScanStore,
    settings: Settings,
    scan_id: str,
) -> dict[str, str]:
    """Create a scan from (line number, raw line) pairs; returns its state."""
    writer = ScanWriter(queue, scans, settings, scan_id)
    for line, raw in lines:
        if writer.add(line, raw):
            writer.flush()
    return writer.close()


def followup(article_id: str) -> dict[str, str | None]:
    """The work after an ingest that does not belong on the request path: count the article
    into its site's figures and, when its likely original is another site's article, add the
    copy edge site -> source (with whether it credits the source). Runs once per article."""
    state = worker_state()
    try:
        result = state.detector.matches(article_id)
    except ArticleNotFound:  # deleted (or evicted) before its follow-up ran: nothing to count
        log.info("follow-up of article %s skipped: it is no longer stored", article_id)
        return {"site": None, "source_site": None}
    return count_followup(state.sites, result)


def count_followup(sites: SiteStore, result: Result) -> dict[str, str | None]:
    """Count a freshly explained article into the site sums (once per article) and store the
    new farm scores of its site and of the site it copied."""
    seen = count_sites(sites, result)
    return {"site": seen.site, "source_site": seen.source_site}


def enqueue_followup(queue: Queue, article_id: int) -> None:
    """Queue an article's follow-up job (at most once per article id)."""
    queue.enqueue(
        followup,
        str(article_id),
        job_id=f"followup-{article_id}",
        ttl=FOLLOWUP_WAIT_SECONDS,
        result_ttl=600,
        failure_ttl=7 * 24 * 3600,
        retry=JOB_RETRY,
    )
