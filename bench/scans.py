"""Scan throughput: the worker queue with 1 and 2 worker processes against a local scan of
the same articles, on the same Redis, in the same run.

    python -m bench.scans                    # 10,000 articles
    python -m bench.scans --articles 2000

Each run gets its own key prefix (an empty index). The local figure is the loop of `dedup
scan` in this process: validate each line, ingest it, count it into the site figures (the
workers do the same, and also store each line's result for the scan's report). The queue
figures time a scan from submission to done with the workers already listening, so process
start-up is not counted.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from rq import Worker

from bench.common import RESULTS
from bench.corpus import bench_redis, corpus_path, load_paragraphs, news_like_articles
from dedup.config import Settings
from dedup.runtime import open_runtime
from dedup.services.input import parse_line

REPO = Path(__file__).resolve().parents[1]


def local_scan(url: str, lines: list[str]) -> float:
    """Articles per second of the local scan's loop: parse and validate, ingest, count the
    site figures."""
    settings = Settings(redis_url=url, key_prefix=f"dedup-bench-{uuid.uuid4().hex[:6]}")
    with open_runtime(settings) as runtime:
        started = time.perf_counter()
        for number, line in enumerate(lines, 1):
            item = parse_line(line, f"line {number}")
            assert item.article is not None
            runtime.sites.finish_ingest(runtime.detector.ingest(item.article), deferred=False)
        rate = len(lines) / (time.perf_counter() - started)
        runtime.drop()
    return rate


def queued_scan(url: str, lines: list[str], processes: int) -> float:
    """Articles per second of a scan run by `dedup worker --processes N`."""
    prefix = f"dedup-bench-{uuid.uuid4().hex[:6]}"
    settings = Settings(redis_url=url, key_prefix=prefix)
    env = {
        **os.environ,
        "DEDUP_REDIS_URL": url,
        "DEDUP_KEY_PREFIX": prefix,
        "DEDUP_LOG_LEVEL": "WARNING",
    }
    pool = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "worker", "--processes", str(processes)],
        env=env,
        cwd=REPO,
    )
    with open_runtime(settings) as runtime:
        try:
            while len(Worker.all(queue=runtime.jobs.queue)) < processes:  # type: ignore[attr-defined]
                time.sleep(0.1)
            started = time.perf_counter()
            state = runtime.scans.submit(iter(enumerate(lines, 1)))
            while not (state := runtime.scans.state(state.id)).status.ended:
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            assert state.processed == len(lines), state
        finally:
            pool.send_signal(signal.SIGTERM)
            pool.wait(60)
        runtime.drop()
    return len(lines) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "scans.json")
    args = parser.parse_args()
    articles = news_like_articles(args.articles, load_paragraphs(corpus_path()))
    lines = [json.dumps({"url": a.url, "text": a.text}) for a in articles]

    with bench_redis() as url:
        print(f"{len(lines)} articles, Redis at {url}", flush=True)
        figures: dict[str, Any] = {"articles": len(lines)}
        figures["local_scan_per_second"] = local_scan(url, lines)
        print(f"  local scan: {figures['local_scan_per_second']:.0f} articles/s", flush=True)
        for processes in (1, 2):
            rate = queued_scan(url, lines, processes)
            figures[f"workers_{processes}_per_second"] = rate
            print(f"  {processes} worker(s): {rate:.0f} articles/s", flush=True)
    figures["two_over_one (goal >= 1.8)"] = (
        figures["workers_2_per_second"] / figures["workers_1_per_second"]
    )
    figures["one_over_local (goal >= 0.8)"] = (
        figures["workers_1_per_second"] / figures["local_scan_per_second"]
    )
    print()
    print(f"| scan of {len(lines)} articles | articles/s |")
    print("|---|---|")
    print(f"| local `dedup scan` loop | {figures['local_scan_per_second']:.0f} |")
    print(f"| queue, 1 worker process | {figures['workers_1_per_second']:.0f} |")
    print(f"| queue, 2 worker processes | {figures['workers_2_per_second']:.0f} |")
    print()
    print(f"2 workers / 1 worker: {figures['two_over_one (goal >= 1.8)']:.2f} (goal >= 1.8)")
    print(f"1 worker / local scan: {figures['one_over_local (goal >= 0.8)']:.2f} (goal >= 0.8)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
