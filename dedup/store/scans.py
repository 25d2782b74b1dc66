"""Batch scans in Redis: their state, their input chunks, leases and per-line results."""

import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dedup.store.client import Client, run_commands, run_scripts
from dedup.store.keys import ScanKeys, scans_index
from dedup.store.scripts import StoreScript

RESULTS_PAGE = 500  # results read a round trip when every one is wanted


class ScanStatus(StrEnum):
    """Where a scan is in its life: queued -> running -> done, failed or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self not in (ScanStatus.QUEUED, ScanStatus.RUNNING)


COUNTERS = ("total", "processed", "stored", "already_stored", "duplicates_found", "failed")
_FIELDS = (
    "status",
    *COUNTERS,
    "chunks",
    "sealed",
    "last_line",
    "created_at",
    "started_at",
    "finished_at",
    "error",
    "owner",
)


def _time(value: bytes | None) -> datetime | None:
    return datetime.fromisoformat(value.decode()) if value else None


@dataclass(frozen=True, slots=True)
class ScanState:
    """A scan's status and counters (processed = stored + failed), read at one moment."""

    id: str
    status: ScanStatus
    total: int
    processed: int
    stored: int
    already_stored: int
    duplicates_found: int
    failed: int
    chunks: int
    sealed: bool
    last_line: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    owner: str = ""  # the digest of the API key that made it ('' : made without keys)

    @classmethod
    def of(cls, scan_id: str, values: Sequence[bytes | None]) -> "ScanState":
        raw = dict(zip(_FIELDS, values, strict=True))

        def number(name: str) -> int:
            return int(raw[name] or 0)

        created = _time(raw["created_at"])
        assert created is not None  # written with the status, in one HSET
        error = raw["error"]
        return cls(
            id=scan_id,
            status=ScanStatus((raw["status"] or b"").decode()),
            **{name: number(name) for name in COUNTERS},
            chunks=number("chunks"),
            sealed=raw["sealed"] == b"1",
            last_line=number("last_line"),
            created_at=created,
            started_at=_time(raw["started_at"]),
            finished_at=_time(raw["finished_at"]),
            error=error.decode() if error else None,
            owner=(raw["owner"] or b"").decode(),
        )


@dataclass(frozen=True, slots=True)
class ScanLine:
    """One input line of a scan: its number, its text, or why it could not be read."""

    line: int
    text: str
    error: str | None = None


def _status(value: bytes | None) -> ScanStatus | None:
    return ScanStatus(value.decode()) if value else None


class ScanStore:
    """Batch scans of one index: state, chunks, leases and results."""

    def __init__(self, client: Client, prefix: str, ttl_seconds: int) -> None:
        self._redis = client
        self.prefix = prefix
        self.index = scans_index(prefix)
        self.ttl_seconds = ttl_seconds
        self._record = StoreScript(client, "record_result")
        self._finish = StoreScript(client, "finish_chunk")

    def keys(self, scan_id: str) -> ScanKeys:
        return ScanKeys(self.prefix, scan_id)

    def _run(self, *commands: tuple[str, tuple[Any, ...]], atomic: bool = False) -> list[Any]:
        return run_commands(self._redis, commands, atomic=atomic)

    def create(self, scan_id: str, created_at: datetime, owner: str = "") -> None:
        keys = self.keys(scan_id)
        fields: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
        fields.update(
            status=ScanStatus.QUEUED.value,
            chunks=0,
            sealed=0,
            last_line=0,
            created_at=created_at.isoformat(),
            owner=owner,
        )
        # Not one transaction: the list of scans is another key (another cluster slot).
        self._run(
            ("hset", (keys.scan, None, None, fields)),
            ("expire", (keys.scan, self.ttl_seconds)),
            ("zadd", (self.index, {scan_id: created_at.timestamp()})),
        )

    def add_chunk(self, scan_id: str, number: int, items: list[ScanLine]) -> None:
        """Store one chunk of lines and count them in the total."""
        keys = self.keys(scan_id)
        rows = [(item.line, item.text, item.error) for item in items]
        blob = zlib.compress(json.dumps(rows).encode(), 6)
        self._run(
            ("set", (keys.chunk(number), blob, self.ttl_seconds)),
            ("hincrby", (keys.scan, "total", len(items))),
            ("hincrby", (keys.scan, "chunks", 1)),
            atomic=True,
        )

    def seal(self, scan_id: str, last_line: int, finished_at: datetime) -> ScanStatus | None:
        """Mark the upload complete; a scan whose chunks are all done (or that has none)
        finishes now. Returns the status."""
        keys = self.keys(scan_id)
        self._run(("hset", (keys.scan, None, None, {"sealed": 1, "last_line": last_line})))
        return self._close(scan_id, "", finished_at)

    def _close(self, scan_id: str, chunk: str, finished_at: datetime) -> ScanStatus | None:
        keys = self.keys(scan_id)
        names = {"scan": keys.scan, "done": keys.done}
        args = {"chunk": chunk, "finished_at": finished_at.isoformat()}
        (status,) = run_scripts(self._redis, [(self._finish, names, args)])
        found = _status(status)
        if found is ScanStatus.DONE:
            self.expire(scan_id)
        return found

    def chunk_items(self, scan_id: str, number: int) -> list[ScanLine] | None:
        (blob,) = self._run(("get", (self.keys(scan_id).chunk(number),)))
        if blob is None:
            return None
        rows = json.loads(zlib.decompress(blob))
        return [ScanLine(int(n), text, error) for n, text, error in rows]

    def start(self, scan_id: str, started_at: datetime) -> ScanStatus | None:
        """Move a queued scan to running (first chunk started); returns the current status."""
        keys = self.keys(scan_id)
        _, status = self._run(
            ("hsetnx", (keys.scan, "started_at", started_at.isoformat())),
            ("hget", (keys.scan, "status")),
            atomic=True,
        )
        if _status(status) is ScanStatus.QUEUED:
            self._run(("hset", (keys.scan, "status", ScanStatus.RUNNING.value)))
            return ScanStatus.RUNNING
        return _status(status)

    def recorded_lines(self, scan_id: str, lines: Sequence[int]) -> set[int]:
        """Which of these lines already have a result (a retried chunk skips them)."""
        if not lines:
            return set()
        (values,) = self._run(("hmget", (self.keys(scan_id).results, list(lines))))
        return {line for line, value in zip(lines, values, strict=True) if value is not None}

    def record(
        self,
        scan_id: str,
        line: int,
        payload: str,
        *,
        ok: bool,
        already_stored: bool,
        has_copies: bool,
    ) -> bool:
        """Record a line's result (as the scans service encoded it) once; False when it was
        recorded before."""
        keys = self.keys(scan_id)
        args = {
            "line": line,
            "payload": payload,
            "outcome": "stored" if ok else "failed",
            "already_stored": int(already_stored),
            "has_copies": int(has_copies),
        }
        names = {"results": keys.results, "scan": keys.scan}
        return bool(run_scripts(self._redis, [(self._record, names, args)])[0])

    def finish_chunk(self, scan_id: str, number: int, finished_at: datetime) -> ScanStatus | None:
        """Mark a chunk done; returns the scan's status (done after its last chunk)."""
        return self._close(scan_id, str(number), finished_at)

    def expire(self, scan_id: str) -> None:
        """Give every key of an ended scan the retention TTL; chunks are no longer needed."""
        keys = self.keys(scan_id)
        (chunks,) = self._run(("hget", (keys.scan, "chunks")))
        commands: list[tuple[str, tuple[Any, ...]]] = [
            ("expire", (key, self.ttl_seconds))
            for key in (keys.scan, keys.results, keys.done, keys.attempts)
        ]
        commands += [("delete", (keys.chunk(n),)) for n in range(int(chunks or 0))]
        self._run(*commands)

    def get(self, scan_id: str) -> ScanState | None:
        (raw,) = self._run(("hmget", (self.keys(scan_id).scan, list(_FIELDS))))
        return None if raw[0] is None else ScanState.of(scan_id, raw)

    def cancel(self, scan_id: str, finished_at: datetime) -> ScanStatus | None:
        """Cancel a queued or running scan; returns its status after (None if unknown)."""
        keys = self.keys(scan_id)
        status = self.status(scan_id)
        if status is None or status.ended:
            return status
        cancelled = {"status": ScanStatus.CANCELLED.value, "finished_at": finished_at.isoformat()}
        self._run(("hset", (keys.scan, None, None, cancelled)))
        self.expire(scan_id)
        return ScanStatus.CANCELLED

    def fail(self, scan_id: str, reason: str, finished_at: datetime) -> None:
        failed = {
            "status": ScanStatus.FAILED.value,
            "error": reason,
            "finished_at": finished_at.isoformat(),
        }
        self._run(("hset", (self.keys(scan_id).scan, None, None, failed)))
        self.expire(scan_id)

    def status(self, scan_id: str) -> ScanStatus | None:
        (status,) = self._run(("hget", (self.keys(scan_id).scan, "status")))
        return _status(status)

    def results(self, scan_id: str, after_line: int, limit: int) -> tuple[list[bytes], int | None]:
        """Up to `limit` results (as recorded) in line order after a line number, and the
        next cursor (None when no line after the page exists)."""
        keys = self.keys(scan_id)
        (last,) = self._run(("hget", (keys.scan, "last_line")))
        last_line = int(last or 0)
        found: list[bytes] = []
        cursor = after_line
        while len(found) < limit and cursor < last_line:
            window = list(range(cursor + 1, min(cursor + 1 + limit, last_line + 1)))
            (values,) = self._run(("hmget", (keys.results, window)))
            for line, value in zip(window, values, strict=True):
                cursor = line
                if value is not None:
                    found.append(value)
                    if len(found) == limit:
                        break
        return found, (cursor if cursor < last_line else None)

    def every_result(self, scan_id: str, after_line: int = 0) -> Iterator[bytes]:
        """Every result after a line number, in line order, read a page at a time."""
        after: int | None = after_line
        while after is not None:
            items, after = self.results(scan_id, after, RESULTS_PAGE)
            yield from items

    def recent(self, limit: int) -> list[str]:
        (ids,) = self._run(("zrevrange", (self.index, 0, limit - 1)))
        return [i.decode() for i in ids]

    def running(self) -> list[str]:
        """Ids of recent scans still queued or running (for the reaper)."""
        ids = self.recent(200)
        statuses = self._run(*[("hget", (self.keys(i).scan, "status")) for i in ids])
        live = (ScanStatus.QUEUED, ScanStatus.RUNNING)
        return [i for i, s in zip(ids, statuses, strict=True) if _status(s) in live]

    # -- leases and attempts (the reaper's view of a chunk) ------------------------------

    def hold_lease(self, scan_id: str, number: int, owner: str, seconds: int) -> None:
        self._run(("set", (self.keys(scan_id).lease(number), owner, seconds)))

    def release_lease(self, scan_id: str, number: int) -> None:
        self._run(("delete", (self.keys(scan_id).lease(number),)))

    def open_chunks(self, scan_id: str) -> list[tuple[int, bool]]:
        """(chunk, leased) for each chunk of a scan that is not done; a pre-filter, read in
        two round trips (see `unclaimed`)."""
        keys = self.keys(scan_id)
        chunks, done = self._run(("hget", (keys.scan, "chunks")), ("smembers", (keys.done,)))
        finished = {int(n) for n in done}
        open_ = [n for n in range(int(chunks or 0)) if n not in finished]
        if not open_:
            return []
        (leased,) = self._run(("mget", ([keys.lease(n) for n in open_],)))
        return [(n, lease is not None) for n, lease in zip(open_, leased, strict=True)]

    def unclaimed(self, scan_id: str, number: int) -> bool:
        """Whether a chunk is neither done nor leased, both read at one moment. A worker marks
        its chunk done before it lets go of the lease, so such a chunk has not been taken
        yet, or its worker died; `open_chunks` reads the two apart, so a chunk that a worker
        finished in between looks abandoned there."""
        keys = self.keys(scan_id)
        done, leased = self._run(
            ("sismember", (keys.done, str(number))), ("exists", (keys.lease(number),)), atomic=True
        )
        return not done and not leased

    def attempt(self, scan_id: str, number: int) -> int:
        (value,) = self._run(("hget", (self.keys(scan_id).attempts, str(number))))
        return int(value or 0)

    def next_attempt(self, scan_id: str, number: int) -> int:
        (value,) = self._run(("hincrby", (self.keys(scan_id).attempts, str(number), 1)))
        return int(value)
