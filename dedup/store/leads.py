"""The lead vectors of stored articles, by day, and a process's copy of the days it reads.

An article's lead vector (`core.semantic.lead_vector`) is added to the list of the day it goes
by once its ingest's follow-up ran; a search reads the lists of the days around a query's,
keeping in memory what it read and fetching only the entries added since (one round trip for
the lengths, one for the new entries), so a search at 100k articles multiplies a matrix of
the window's leads (256 bytes an article) instead of reading it again.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dedup.core.semantic import LEAD_DIMS
from dedup.store.client import Client, run_commands
from dedup.store.keys import Keys

LEAD_DTYPE = np.dtype([("id", ">u4"), ("code", ">u2"), ("lead", "<f2", (LEAD_DIMS,))])


@dataclass
class _Day:
    """What this process read of one day's list: its entries as arrays, vectors as float32
    (read once, multiplied at every search without a copy)."""

    read: int = 0  # entries of the day's list read so far
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    codes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint16))
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, LEAD_DIMS), np.float32))

    def extend(self, entries: np.ndarray) -> None:
        self.ids = np.concatenate([self.ids, entries["id"].astype(np.int64)])
        self.codes = np.concatenate([self.codes, entries["code"].astype(np.uint16)])
        self.matrix = np.vstack([self.matrix, entries["lead"].astype(np.float32)])


Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # one day's ids, codes, vectors (float32)


@dataclass(frozen=True, slots=True)
class Window:
    """The leads of some days: ids, language codes (`core.language.language_code`), and the
    cosine of each to a query (each day's vectors multiplied where they are: nothing is
    copied per search)."""

    parts: tuple[Part, ...]

    @property
    def ids(self) -> np.ndarray:
        return np.concatenate([p[0] for p in self.parts]) if self.parts else np.zeros(0, np.int64)

    @property
    def codes(self) -> np.ndarray:
        if not self.parts:
            return np.zeros(0, np.uint16)
        return np.concatenate([p[1] for p in self.parts])

    def similarity(self, query: np.ndarray) -> np.ndarray:
        """Cosine of every lead to a (unit) query vector, in the order of `ids`."""
        q = query.astype(np.float32)
        found = [p[2] @ q for p in self.parts]
        return np.concatenate(found) if found else np.zeros(0, np.float32)


class Leads:
    """Lead vectors under one key prefix; safe to share between threads."""

    def __init__(self, client: Client, keys: Keys) -> None:
        self._redis = client
        self._keys = keys
        self._days: dict[int, _Day] = {}
        self._lock = threading.Lock()

    def add(self, doc_id: int, code: int, day: int, lead: np.ndarray) -> None:
        entry = np.zeros(1, dtype=LEAD_DTYPE)
        entry["id"], entry["code"], entry["lead"] = doc_id, code, lead
        commands: list[tuple[str, tuple[Any, ...]]] = [
            ("rpush", (self._keys.leads(day), entry.tobytes())),
            ("zadd", (self._keys.lead_days(), {str(day): day})),
        ]
        run_commands(self._redis, commands, atomic=True)

    def drop_before(self, day: int) -> int:
        """Drop the lists of the days before this one (retention); how many were dropped."""
        (listed,) = run_commands(
            self._redis,
            [("zrangebyscore", (self._keys.lead_days(), "-inf", f"({day}"))],
            atomic=False,
        )
        days = [int(d) for d in listed]
        if days:
            commands: list[tuple[str, tuple[Any, ...]]] = [
                ("delete", tuple(self._keys.leads(d) for d in days)),
                ("zrem", (self._keys.lead_days(), *map(str, days))),
            ]
            run_commands(self._redis, commands, atomic=True)
        return len(days)

    def window(self, days: Sequence[int]) -> Window:
        """The leads of these days, as this process last read them plus what was added.
        The lock guards only the process's copy: the round trips run outside it, so
        concurrent searches never queue behind one another's reads."""
        keys = [self._keys.leads(day) for day in days]
        lengths = [
            int(n) for n in run_commands(self._redis, [("llen", (k,)) for k in keys], atomic=False)
        ]
        behind = []  # (day, key, entries read, entries listed) of the days that grew
        with self._lock:
            for day, key, length in zip(days, keys, lengths, strict=True):
                kept = self._days.get(day)
                if kept is None or length < kept.read:  # new here, or its list was dropped
                    kept = self._days[day] = _Day()
                if length > kept.read:
                    behind.append((day, key, kept.read, length))
        if behind:
            replies = run_commands(
                self._redis,
                [("lrange", (key, read, length - 1)) for _, key, read, length in behind],
                atomic=False,
            )
            with self._lock:
                for (day, _, read, length), entries in zip(behind, replies, strict=True):
                    kept = self._days.setdefault(day, _Day())
                    if kept.read == read:  # not extended by another search meanwhile
                        kept.extend(np.frombuffer(b"".join(entries), dtype=LEAD_DTYPE))
                        kept.read = length
        with self._lock:
            # A day's arrays are replaced, never changed, when it grows: the window holds
            # the ones of this moment, consistent while another search extends the day.
            held = [self._days[day] for day in days if day in self._days and self._days[day].read]
            return Window(tuple((d.ids, d.codes, d.matrix) for d in held))
