"""What keys and quotas cost a check: the same index served twice in one run, once with
DEDUP_AUTH=on (every request authorized and charged by one Redis script) and once with
DEDUP_AUTH=off, asked the same checks in alternation.

    python -m bench.access                    # 5,000 articles indexed, 1,000 checks each

Prints p50/p99 of `POST /v1/check` over HTTP for both and their difference, then the
authorize script alone: its round trip from this process, and its Redis CPU per call (from
the server's command statistics, while nothing else runs).
"""

import argparse
import http.client
import json
import time
import uuid
from typing import Any

import redis

from bench.common import percentiles, script_usec
from bench.corpus import (
    BenchArticle,
    NewsFeed,
    bench_key,
    bench_redis,
    corpus_path,
    index_all,
    load_paragraphs,
)
from bench.load import start_server
from dedup.config import Settings
from dedup.runtime import open_runtime

AUTHORIZE_CALLS = 5_000


def check(
    connection: http.client.HTTPConnection, article: BenchArticle, auth: dict[str, str]
) -> float:
    body = json.dumps({"url": article.url, "text": article.text})
    began = time.perf_counter()
    connection.request("POST", "/v1/check", body, {"content-type": "application/json", **auth})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"/v1/check answered {response.status}")
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--checks", type=int, default=1_000)
    args = parser.parse_args()
    feed = NewsFeed(load_paragraphs(corpus_path()))
    indexed = feed.take(args.articles)
    queries = feed.queries(400, "access")
    with bench_redis() as url:
        prefix = f"dedup-bench-access-{uuid.uuid4().hex[:6]}"
        with open_runtime(Settings(redis_url=url, key_prefix=prefix)) as runtime:
            index_all(runtime.detector, indexed)
            auth = bench_key(url, prefix)
            keyed, keyed_port = start_server(url, prefix, 1)
            open_, open_port = start_server(url, prefix, 1, {"DEDUP_AUTH": "off"})
            client = redis.Redis.from_url(url)
            try:
                on = http.client.HTTPConnection("127.0.0.1", keyed_port, timeout=60)
                off = http.client.HTTPConnection("127.0.0.1", open_port, timeout=60)
                for article in queries[:100]:  # warm both processes' caches
                    check(on, article, auth)
                    check(off, article, {})
                times: dict[str, list[float]] = {"auth on": [], "auth off": []}
                for n in range(args.checks):
                    article = queries[n % len(queries)]
                    times["auth off"].append(check(off, article, {}))
                    times["auth on"].append(check(on, article, auth))
                # the authorize script alone, in this process: its round trip and Redis CPU
                # with limits, so that both counters are charged as for a default key
                _, limited = runtime.access.create(
                    "bench-limited", "check", requests_per_minute=10**9, articles_per_day=10**9
                )
                header = f"Bearer {limited}"
                before, started = script_usec(client), time.perf_counter()
                for _ in range(AUTHORIZE_CALLS):
                    runtime.access.authorize(header, "check", articles=1)
                wall = (time.perf_counter() - started) / AUTHORIZE_CALLS * 1e6
                after = script_usec(client)
                calls = (after[0] - before[0]) / AUTHORIZE_CALLS
                usec = (after[1] - before[1]) / AUTHORIZE_CALLS
            finally:
                for process in (keyed, open_):
                    process.terminate()
                    process.wait(60)
                client.close()
            runtime.drop()
    figures: dict[str, Any] = {name: percentiles(v) for name, v in times.items()}
    delta = {k: figures["auth on"][k] - figures["auth off"][k] for k in ("p50", "p99")}
    print(f"{args.articles} articles indexed, {args.checks} checks on each server, alternating")
    for name, values in figures.items():
        print(f"  {name:9} p50 {values['p50']:6.2f} ms   p99 {values['p99']:6.2f} ms")
    print(f"  difference p50 {delta['p50']:+6.2f} ms   p99 {delta['p99']:+6.2f} ms")
    print(
        f"  authorize alone ({AUTHORIZE_CALLS} calls in-process): {wall:.0f} us a call, "
        f"{calls:.2f} script calls and {usec:.1f} us of Redis CPU each"
    )


if __name__ == "__main__":
    main()
