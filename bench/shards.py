"""What shards cost: Redis CPU per write and per lookup with DEDUP_SHARDS 1, 4 and 16, on the
same articles and the same queries, one Redis, same run.

    python -m bench.shards                       # 20,000 articles, 1,000 lookups per count
    python -m bench.shards --articles 5000 --shards 1,2

Every article lives in one shard, so a write costs the same whatever the count; a query runs
one lookup script per shard, so its Redis CPU grows with the count. The figures are the
server's own time (INFO commandstats), which the machine's noise disturbs far less than
latencies. Uses DEDUP_REDIS_URL when set, else an embedded server; deletes its own keys.
"""

import argparse
import uuid

from bench.common import delete_keys, script_usec
from bench.corpus import NewsFeed, bench_redis, corpus_path, load_paragraphs
from dedup.config import Settings
from dedup.core.fingerprint import fingerprint
from dedup.runtime import connect, index_store
from dedup.services.detector import ArticleInput, Detector
from dedup.store.codecs import IndexEntries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--shards", default="1,4,16")
    args = parser.parse_args()
    feed = NewsFeed(load_paragraphs(corpus_path()))
    articles = feed.take(args.articles)
    queries = feed.queries(args.queries, "shards")
    print("| shards | Redis CPU per article write, ms | Redis CPU per lookup, ms | per shard |")
    print("|---|---|---|---|")
    with bench_redis() as url:
        client = connect(url)
        for shards in [int(n) for n in args.shards.split(",")]:
            prefix = f"dedup-bench-shards-{uuid.uuid4().hex[:6]}"
            settings = Settings(redis_url=url, key_prefix=prefix, shards=shards)
            detector = Detector(index_store(client, settings), settings)
            calls, usec = script_usec(client)
            for i in range(0, len(articles), 200):
                detector.index_many(
                    [ArticleInput(url=a.url, text=a.text) for a in articles[i : i + 200]]
                )
            write_calls, write_usec = (
                n - m for n, m in zip(script_usec(client), (calls, usec), strict=True)
            )
            prints = [fingerprint(q.text, detector.params.fingerprint) for q in queries]
            calls, usec = script_usec(client)
            for f in prints:
                detector.store.lookup(None, IndexEntries.of(f))
            _, lookup_usec = (
                n - m for n, m in zip(script_usec(client), (calls, usec), strict=True)
            )
            per_lookup = lookup_usec / 1000 / len(prints)
            print(
                f"| {shards} | {write_usec / 1000 / write_calls:.3f} | {per_lookup:.3f} | "
                f"{per_lookup / shards:.3f} |",
                flush=True,
            )
            delete_keys(client, prefix)
        client.close()


if __name__ == "__main__":
    main()
