"""`dedup batch` on Ray Data against the local loop, on the same dump, in one run.

    python -m bench.batch                     # 4,000 articles, Ray with 2 workers
    python -m bench.batch --articles 8000 --workers 2

The dump is bench/corpus.py's news feed (originals and clustered copies of every kind),
written as NDJSON. Prints each engine's seconds per stage, articles per second, the
speed-up, and whether the two found exactly the same pairs (they must).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.corpus import NewsFeed, corpus_path, load_paragraphs
from dedup.config import Settings
from dedup.services.batch import BatchResult, run_local, run_ray


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=4_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    feed = NewsFeed(load_paragraphs(corpus_path()), seed=11)
    settings = Settings(semantic=False)  # the batch runs no cross-language path
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "dump.ndjson"
        with dump.open("w", encoding="utf-8") as handle:
            for article in feed.take(args.articles):
                handle.write(json.dumps({"url": article.url, "text": article.text}) + "\n")
        results: dict[str, BatchResult] = {}
        for name in ("local loop", f"Ray Data, {args.workers} workers"):
            started = time.perf_counter()
            if name == "local loop":
                result = run_local([dump], settings)
            else:
                result = run_ray([dump], settings, args.workers)
            results[name] = result
            wall = time.perf_counter() - started
            stages = ", ".join(f"{stage} {s:.1f} s" for stage, s in result.stages.items())
            print(
                f"{name}: {wall:.1f} s, {result.articles / wall:.0f} articles/s ({stages}); "
                f"{result.candidates} candidates, {len(result.pairs)} copy pairs",
                flush=True,
            )
    local, on_ray = results.values()
    print(f"speed-up: {local.seconds / on_ray.seconds:.2f}x (target >= 1.8x with 2 workers)")
    print(f"identical pairs: {local.pairs == on_ray.pairs}")


if __name__ == "__main__":
    main()
