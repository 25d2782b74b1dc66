"""Scans: how a queued scan is cut, run, recovered and recorded (the job queue injected).

A scan is cut into chunks of `DEDUP_SCAN_CHUNK_SIZE` lines, stored and queued as they fill,
so workers start before a long upload ends (`ScanWriter`). A worker runs one chunk at a time
(`Scans.run_chunk`) holding a lease on it, refreshed by a heartbeat thread; a chunk that is
open, unleased and whose job is gone, failed or started long ago (its worker died) is queued
again by `Scans.reap`, which `dedup worker` runs every second; a chunk queued
`MAX_ATTEMPTS` times fails its scan. Ingest is idempotent and each line's result is recorded
once (with the counters, in one script), so a chunk that runs twice neither loses nor
doubles an article, and the counters add up.

Every step that matters to the reaper's rules calls `on_step(name, details)`: tests drive
the races with it (a hook, not timing), operators can log with it.
"""

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from dedup.adapters.jobs import Jobs, JobState
from dedup.config import Settings
from dedup.core.verdict import Verdict, from_plain, to_plain
from dedup.errors import DedupError, ScanFinished, ScanNotFound, StoreUnavailable
from dedup.logs import incident_id
from dedup.services.detector import Detector
from dedup.services.hooks import Hooks
from dedup.services.input import parse_line
from dedup.services.retries import with_store_retries
from dedup.services.sites import Sites
from dedup.store import ScanLine, ScanState, ScanStatus, ScanStore

__all__ = ["ScanItem", "ScanState", "ScanStatus", "ScanWriter", "Scans"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # a chunk queued this often (kills, failures) fails its scan
CANCEL_CHECK_EVERY = 25  # lines between two looks at whether the scan was cancelled

Step = Callable[[str, dict[str, Any]], None]


def _no_step(_name: str, _details: dict[str, Any]) -> None:
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def new_scan_id() -> str:
    return uuid.uuid4().hex[:16]


RESULT_VERSION = 2  # of a stored ScanItem (2: with the summary); another reads as an error


@dataclass(frozen=True, slots=True)
class ScanItem:
    """What a scan stored for one line: its verdict, or why it failed (the scans service's
    own type, versioned: changing an API field changes nothing stored)."""

    line: int
    error: str | None
    created: bool = False
    verdict: Verdict | None = None

    def dumps(self) -> str:
        plain: dict[str, Any] = {"v": RESULT_VERSION, "line": self.line, "error": self.error}
        if self.verdict is not None:
            plain["created"] = self.created
            plain["verdict"] = to_plain(self.verdict)
        return json.dumps(plain, separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | bytes) -> "ScanItem":
        plain = json.loads(raw)
        version = plain.get("v")
        if version != RESULT_VERSION:  # written by another release: say so, never guess
            return cls(
                int(plain.get("line", 0)),
                f"this result was stored by another release (format {version!r}); scan again",
            )
        verdict = plain.get("verdict")
        return cls(
            plain["line"],
            plain["error"],
            bool(plain.get("created", False)),
            None if verdict is None else from_plain(verdict),
        )


def valid_scan_id(scan_id: str) -> bool:
    """Scan ids are 16 hex digits; anything else names no scan (and no key)."""
    return len(scan_id) <= 64 and scan_id.isascii() and scan_id.isalnum()


class Scans:
    """The scan protocol over a detector, the stores and a job queue."""

    def __init__(
        self,
        detector: Detector,
        sites: Sites,
        store: ScanStore,
        jobs: Jobs,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _now,
        on_step: Step = _no_step,
        hooks: Hooks | None = None,
    ) -> None:
        self.detector = detector
        self.hooks = hooks  # events for webhooks: scan.finished (None: none)
        self.sites = sites  # every line's ingest ends there (counting, copy.found)
        self.store = store
        self.jobs = jobs
        self.settings = settings
        self.clock = clock
        self.on_step = on_step
        self._scan = ""  # the scan whose chunk runs now (for the log)

    # -- reading and cancelling -----------------------------------------------------------

    def state(self, scan_id: str, reader: str | None = None) -> ScanState:
        """A scan's state, or ScanNotFound; with `reader` (a key's digest), also when the
        scan is another key's (its existence is not told either)."""
        found = self.store.get(scan_id) if valid_scan_id(scan_id) else None
        if found is None or (reader is not None and found.owner != reader):
            raise ScanNotFound(f"no scan with id {scan_id!r}")
        return found

    def cancel(self, scan_id: str, reader: str | None = None) -> ScanState:
        """Cancel a queued or running scan: chunks not started are skipped, running ones stop
        within CANCEL_CHECK_EVERY lines; results so far are kept. ScanFinished once it has
        ended."""
        status = self.state(scan_id, reader).status
        if status.ended or self.store.cancel(scan_id, self.clock()) is not ScanStatus.CANCELLED:
            raise ScanFinished(f"scan {scan_id} is {self.state(scan_id).status}; nothing to cancel")
        return self.ended(scan_id)

    def ended(self, scan_id: str) -> ScanState:
        """A scan's state, with its `scan.finished` event emitted (once) if it has ended."""
        state, hooks = self.state(scan_id), self.hooks
        if state.status.ended and hooks is not None:
            with_store_retries(lambda: hooks.scan_finished(state))
        return state

    def recent(self, limit: int, reader: str | None = None) -> list[ScanState]:
        """The latest scans (of `reader`'s key alone, when given), newest first."""
        states = (self.store.get(scan_id) for scan_id in self.store.recent(limit))
        return [s for s in states if s is not None and reader in (None, s.owner)]

    # -- submitting -------------------------------------------------------------------------

    def writer(self, scan_id: str | None = None, owner: str = "") -> "ScanWriter":
        """A new scan to write lines into; `owner` the digest of the key making it (only
        that key, and admins, read or cancel it)."""
        return ScanWriter(self, scan_id or new_scan_id(), owner)

    def submit(
        self,
        lines: Iterator[tuple[int, bytes | str]],
        scan_id: str | None = None,
        owner: str = "",
    ) -> ScanState:
        """Create a scan from (line number, raw line) pairs; returns its state."""
        writer = self.writer(scan_id, owner)
        for line, raw in lines:
            if writer.add(line, raw):
                writer.flush()
        return writer.close()

    def job_timeout(self) -> int:
        """Seconds a chunk's job may run: HTML extraction may take up to its timeout for
        every line of a chunk."""
        settings = self.settings
        return int(settings.scan_chunk_size * (settings.html_timeout_seconds + 1) + 60)

    def queue_chunk(self, scan_id: str, chunk: int) -> int:
        """Queue a chunk's next attempt; returns the attempt's number."""
        attempt = self.store.next_attempt(scan_id, chunk)
        self.jobs.queue_chunk(scan_id, chunk, attempt, self.job_timeout())
        return attempt

    # -- running a chunk (a worker's job) ---------------------------------------------------

    @contextmanager
    def lease(self, scan_id: str, chunk: int) -> Iterator[None]:
        """Hold the chunk's lease while the block runs, refreshing it every third of its life."""
        seconds = self.settings.lease_seconds
        owner = f"{socket.gethostname()}:{os.getpid()}"
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(seconds / 3):
                try:
                    self.store.hold_lease(scan_id, chunk, owner, seconds)
                except StoreUnavailable:
                    log.warning("could not refresh the lease of %s chunk %d", scan_id, chunk)

        self.store.hold_lease(scan_id, chunk, owner, seconds)
        heart = threading.Thread(target=beat, name=f"lease-{scan_id}-{chunk}", daemon=True)
        heart.start()
        try:
            yield
        finally:
            stop.set()
            heart.join()
            with suppress(StoreUnavailable):  # if Redis is gone, the lease expires by itself
                self.store.release_lease(scan_id, chunk)

    def run_chunk(self, scan_id: str, chunk: int) -> dict[str, int]:
        """Ingest one chunk of a scan's lines and record each line's result once."""
        store, step = self.store, self.on_step
        where = {"scan": scan_id, "chunk": chunk}
        status = with_store_retries(lambda: store.start(scan_id, self.clock()))
        if status is not ScanStatus.RUNNING:
            return {"skipped": 1}
        items = with_store_retries(lambda: store.chunk_items(scan_id, chunk))
        if items is None:
            return {"skipped": 1}
        self._scan = scan_id
        lines = [i.line for i in items]
        recorded = with_store_retries(lambda: store.recorded_lines(scan_id, lines))
        counts = {"processed": 0, "failed": 0}
        step("chunk.started", where)
        with self.lease(scan_id, chunk):
            step("chunk.leased", where)
            for position, entry in enumerate(items):
                if entry.line in recorded:
                    continue
                if position % CANCEL_CHECK_EVERY == 0 and (
                    store.status(scan_id) is ScanStatus.CANCELLED
                ):
                    return counts
                item, ok, already, copies = self._process(entry)
                record = partial(
                    store.record,
                    scan_id,
                    entry.line,
                    item.dumps(),
                    ok=ok,
                    already_stored=already,
                    has_copies=copies,
                )
                with_store_retries(record)
                counts["processed"] += 1
                counts["failed"] += not ok
                step("line.recorded", {**where, "line": entry.line})
            finished = with_store_retries(lambda: store.finish_chunk(scan_id, chunk, self.clock()))
            if finished is ScanStatus.DONE:
                self.ended(scan_id)
            step("chunk.done", where)
        step("chunk.released", where)
        return counts

    def _process(self, entry: ScanLine) -> tuple[ScanItem, bool, bool, bool]:
        """Ingest one line: (item, ok, already_stored, has_copies). A line that cannot be
        stored is a failed item with its reason, never a failed chunk: an unexpected error
        (a bug) is logged under an id that the item's reason names."""
        line = entry.line

        def failed(reason: str) -> tuple[ScanItem, bool, bool, bool]:
            return ScanItem(line, reason), False, False, False

        if entry.error is not None:
            return failed(entry.error)
        parsed = parse_line(entry.text, f"line {line}")
        if parsed.article is None:
            return failed(parsed.error or "not an article")
        article = parsed.article
        try:
            result = with_store_retries(lambda: self.detector.ingest(article))
            result = self.sites.finish_ingest(result, deferred=False)  # counted here
            verdict = Verdict.of(result)
        except StoreUnavailable:
            raise  # the job fails and RQ retries the chunk later
        except DedupError as exc:
            return failed(str(exc))
        except Exception:
            incident = incident_id()
            log.exception("line %d of scan %s failed unexpectedly [%s]", line, self._scan, incident)
            return failed(f"an unexpected error kept this line out; it is logged as [{incident}]")
        return (
            ScanItem(line, None, result.created, verdict),
            True,
            not result.created,
            bool(result.matches),
        )

    # -- recovering -------------------------------------------------------------------------

    def reap(self) -> int:
        """Queue again every open chunk whose job is gone, failed, or started without a live
        lease (its worker died); fail a scan whose chunk was queued MAX_ATTEMPTS times.
        Returns how many chunks were queued again."""
        queued = 0
        grace = timedelta(seconds=self.settings.lease_seconds)
        for scan_id in self.store.running():
            for chunk, leased in self.store.open_chunks(scan_id):
                self.on_step("reap.read", {"scan": scan_id, "chunk": chunk, "leased": leased})
                if leased:
                    continue
                attempt = self.store.attempt(scan_id, chunk)
                job = self.jobs.chunk_job(scan_id, chunk, attempt)
                state = job.state if job else None
                if state is JobState.WAITING:
                    continue
                if (
                    job is not None
                    and state is JobState.STARTED
                    and (
                        # RQ reads a job's fields before its status: a job that started in
                        # between is STARTED with no start time yet, and has just started too.
                        job.started_at is None or self.clock() - job.started_at < grace
                    )
                ):
                    continue  # just started: its lease may not be written yet
                if attempt >= MAX_ATTEMPTS:
                    self.store.fail(
                        scan_id,
                        f"chunk {chunk} was queued {attempt} times and never finished",
                        self.clock(),
                    )
                    log.error("scan %s failed: chunk %d queued %d times", scan_id, chunk, attempt)
                    self.ended(scan_id)
                    break
                if not self.store.unclaimed(scan_id, chunk):
                    continue  # taken or finished since open_chunks read it
                if state is JobState.STARTED:
                    self.jobs.drop_chunk_job(scan_id, chunk, attempt)  # RQ would retry it too
                log.warning("requeueing %s chunk %d (job %s)", scan_id, chunk, state or "missing")
                self.queue_chunk(scan_id, chunk)
                queued += 1
        return queued

    # -- results ------------------------------------------------------------------------

    def results(
        self, scan_id: str, after_line: int, limit: int
    ) -> tuple[list[ScanItem], int | None]:
        """A page of a scan's stored items in line order, and the cursor of the next page
        (None at the end); ScanNotFound for an unknown scan."""
        self.state(scan_id)
        raw, cursor = self.store.results(scan_id, after_line, limit)
        return [ScanItem.loads(r) for r in raw], cursor

    def every_result(self, scan_id: str, after_line: int = 0) -> Iterator[ScanItem]:
        """Every stored item of a scan after a line, in line order, a page at a time."""
        for raw in self.store.every_result(scan_id, after_line):
            yield ScanItem.loads(raw)


class ScanWriter:
    """Builds a scan from its input lines: each chunk is stored and queued as soon as it is
    full. Blank lines are skipped (their numbers are kept); a line that is not UTF-8 becomes
    a failed item with that reason."""

    def __init__(self, scans: Scans, scan_id: str, owner: str = "") -> None:
        self.scans = scans
        self.scan_id = scan_id
        self.last_line = 0
        self._chunk: list[ScanLine] = []
        self._number = 0
        scans.store.create(scan_id, scans.clock(), owner)

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
        return len(self._chunk) >= self.scans.settings.scan_chunk_size

    def add_failed(self, line: int, reason: str) -> bool:
        """Buffer a line that could not be read at all, to be recorded as failed."""
        self.last_line = line
        self._chunk.append(ScanLine(line, "", reason))
        return len(self._chunk) >= self.scans.settings.scan_chunk_size

    def flush(self) -> None:
        """Store and queue the buffered chunk."""
        if not self._chunk:
            return
        self.scans.store.add_chunk(self.scan_id, self._number, self._chunk)
        self.scans.queue_chunk(self.scan_id, self._number)
        self._number, self._chunk = self._number + 1, []

    def close(self) -> ScanState:
        """Flush the rest and seal the scan; returns its state."""
        self.flush()
        self.scans.store.seal(self.scan_id, self.last_line, self.scans.clock())
        return self.scans.ended(self.scan_id)

    def abandon(self, reason: str) -> ScanState:
        """End the scan being written as failed, with the reason (the upload broke off, came
        too slowly or was refused): its chunks queued so far are skipped, and
        `scan.finished` goes out, so nobody waits for a scan that will never end."""
        self.scans.store.fail(self.scan_id, reason, self.scans.clock())
        return self.scans.ended(self.scan_id)
