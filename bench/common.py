"""Helpers every benchmark shares: where results go, percentiles, Redis counters and key
scans, a free loopback port. The suites (`bench.run`, `bench.load`, ...) import them from here."""

import socket
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dedup.store import Client, drop_prefix

RESULTS = Path(__file__).resolve().parent / "results"
SIGNATURE_FIELDS = (
    "digest", "simhash", "buckets", "anchors", "skeleton", "word_anchors", "skeleton_set"
)  # fmt: skip
INDEX_KINDS = {
    "l": "bands",
    "s": "simhash",
    "x": "anchors",
    "k": "skeleton",
    "w": "words",
    "n": "name_pairs",
}


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50, p99 and mean of some milliseconds (zeros for none)."""
    ordered = sorted(ms)
    if not ordered:
        return {"p50": 0.0, "p99": 0.0, "mean": 0.0}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.5), "p99": at(0.99), "mean": statistics.fmean(ordered)}


def timed_each(items: Iterable[Any], action: Callable[[Any], Any]) -> list[float]:
    """Milliseconds per call."""
    spent = []
    for item in items:
        started = time.perf_counter()
        action(item)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def redis_cpu_seconds(client: Client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def script_usec(client: Client) -> tuple[int, int]:
    """(EVALSHA calls, microseconds in them) the Redis server has counted so far."""
    stats = client.info("commandstats").get("cmdstat_evalsha", {})
    return int(stats.get("calls", 0)), int(stats.get("usec", 0))


def redis_kwargs(url: str) -> dict[str, Any]:
    """redis.Redis keyword arguments for datasketch's storage config."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return {"unix_socket_path": parts.path}
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "password": parts.password,
    }


def scan_keys(client: Client, match: str) -> Iterable[bytes]:
    return client.scan_iter(match=match, count=5000)


def memory_by_group(client: Client, match: str, group_of: Callable[[bytes], str]) -> dict[str, int]:
    """Sum of MEMORY USAGE over the keys matching a pattern, by group."""
    totals: dict[str, int] = {}
    batch: list[bytes] = []

    def flush() -> None:
        with client.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.memory_usage(key, samples=0)
            for key, used in zip(batch, pipe.execute(), strict=True):
                totals[group_of(key)] = totals.get(group_of(key), 0) + int(used or 0)
        batch.clear()

    for key in scan_keys(client, match):
        batch.append(key)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return totals


def delete_keys(client: Client, prefix: str) -> None:
    """Every key of a prefix of this run's own (never a flush)."""
    drop_prefix(client, prefix)


def kind_of(prefix: str) -> Callable[[bytes], str]:
    """The part of dedup's index a key belongs to: bands, simhash, anchors, skeleton,
    records, or other (url maps, retention sets, counters)."""
    cut = len(prefix) + 1

    def group(key: bytes) -> str:
        parts = key.decode()[cut:].split(":")
        if len(parts) > 1 and parts[0].startswith("{") and parts[0] != "{sites}":
            return INDEX_KINDS.get(parts[1], "records" if parts[1] == "a" else "other")
        return "other"

    return group


def free_port() -> int:
    """A loopback port free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signature_and_text_bytes(
    client: Client, prefix: str, sample: int = 2000
) -> tuple[float, float]:
    """Mean bytes per record of the signature fields' values and of the text's (zlib)."""
    keys = []
    for key in scan_keys(client, f"{prefix}:{{*}}:a:*"):
        keys.append(key)
        if len(keys) >= sample:
            break
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            for name in (*SIGNATURE_FIELDS, "text"):
                pipe.hstrlen(key, name)
        sizes = pipe.execute()
    width = len(SIGNATURE_FIELDS) + 1
    signatures = [sum(sizes[i : i + width - 1]) for i in range(0, len(sizes), width)]
    texts = sizes[width - 1 :: width]
    return statistics.fmean(signatures or [0]), statistics.fmean(texts or [0])
