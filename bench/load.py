"""Checks under concurrent load: one `dedup serve` process, then two (`--workers 2`), each
asked by 16 clients at once, on the same index and the same queries in one run.

    python -m bench.load                      # 10,000 articles indexed, 16 clients
    python -m bench.load --clients 32 --seconds 20

Each client holds a keep-alive connection and sends `POST /v1/check` back to back (40% new
stories, 60% copies of indexed ones, from bench/corpus.py's feed). Prints throughput and
latency p50/p99 per configuration; the target is p99 under 100 ms for one process at 16
clients on this 2-core machine (the clients run on the same cores).
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import RESULTS, free_port
from bench.corpus import (
    BenchArticle,
    NewsFeed,
    bench_key,
    bench_redis,
    corpus_path,
    index_all,
    load_paragraphs,
)
from dedup.config import Settings
from dedup.runtime import open_runtime

REPO = Path(__file__).resolve().parents[1]


def start_server(
    url: str, prefix: str, workers: int, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "DEDUP_REDIS_URL": url,
        "DEDUP_KEY_PREFIX": prefix,
        "DEDUP_LOG_LEVEL": "WARNING",
        "DEDUP_MAX_CONNECTIONS": "1000",
        **(extra or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dedup.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=REPO,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return process, port
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("dedup serve did not start")
        time.sleep(0.2)


def run_clients(
    port: int,
    queries: list[BenchArticle],
    clients: int,
    seconds: float,
    auth: dict[str, str],
) -> dict[str, Any]:
    """`clients` threads sending checks back to back for `seconds`; latencies in ms."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(k: int) -> None:
        rng = random.Random(k)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while time.perf_counter() < stop_at[0]:
            article = rng.choice(queries)
            body = json.dumps({"url": article.url + f"?c{k}", "text": article.text})
            began = time.perf_counter()
            headers = {"content-type": "application/json", **auth}
            connection.request("POST", "/v1/check", body, headers)
            response = connection.getresponse()
            response.read()
            latencies[k].append((time.perf_counter() - began) * 1000)
            errors[k] += response.status != 200
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(ms for per in latencies for ms in per)
    return {
        "checks": len(every),
        "errors": sum(errors),
        "per_second": len(every) / elapsed,
        "p50_ms": statistics.median(every),
        "p99_ms": every[int(0.99 * (len(every) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args()
    feed = NewsFeed(load_paragraphs(corpus_path()))
    indexed = feed.take(args.articles)
    queries = feed.queries(400, "load")
    figures: dict[str, Any] = {"articles": args.articles, "clients": args.clients}
    with bench_redis() as url:
        prefix = f"dedup-bench-load-{uuid.uuid4().hex[:6]}"
        with open_runtime(Settings(redis_url=url, key_prefix=prefix)) as runtime:
            index_all(runtime.detector, indexed)
            print(
                f"{args.articles} articles indexed; {args.clients} clients, "
                f"{args.seconds:g} s a run",
                flush=True,
            )
            auth = bench_key(url, prefix)
            for workers in (1, 2):
                process, port = start_server(url, prefix, workers)
                try:
                    run_clients(port, queries, args.clients, 3.0, auth)  # warm the caches
                    result = run_clients(port, queries, args.clients, args.seconds, auth)
                finally:
                    process.terminate()
                    process.wait(60)
                figures[f"processes_{workers}"] = result
                print(
                    f"  {workers} process(es): {result['per_second']:.0f} checks/s, p50 "
                    f"{result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                    f"{result['errors']} errors",
                    flush=True,
                )
            runtime.drop()
    one, two = figures["processes_1"], figures["processes_2"]
    print(
        f"\np99 with one process at {args.clients} clients: {one['p99_ms']:.1f} ms (target < 100)"
    )
    print(f"two processes / one, checks/s: {two['per_second'] / one['per_second']:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
