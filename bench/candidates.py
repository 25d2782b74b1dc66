"""Candidate recall at index scale: do the real dev sets' low-overlap pairs still come back as
candidates when the index holds a million other articles?

    python -m bench.candidates                       # 1,000,000 feed articles (~25 min)
    python -m bench.candidates --feed 100000 --checkpoints 10000,100000

The index: the originals of the dev files (`../shared/corpus/meter-dev.jsonl`,
`webis-cpc-11-dev.jsonl`), then `--feed` news-like articles (bench.corpus). The pairs: each
copy or negative of a dev file with each original of its group whose word 3-gram containment
(exhaustive, the larger way) is at least `--min-containment` (0.10, issue 28's bar). For
every pair the query is looked up as a check would (one round trip) and ranked by the
detector's own code; the pair is a **candidate** when the original is among the ranked
candidates (DEDUP_MAX_CANDIDATES), and **budgeted** when it is also among those verified
(DEDUP_MAX_VERIFIED). Verification is not run: this measures what the index can find,
apart from what the verifier decides.

The baseline, in the same run, is the same measure on the index of the dev originals alone
(no feed): what a bigger index loses is the difference. Short texts (30-100 words, the crowd
passages) are counted apart. Printed at every checkpoint: recall, the pairs missed (first
few), lookup p50/p99 ms and the index + signature bytes per article.
"""

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    INDEX_KINDS,
    kind_of,
    memory_by_group,
    percentiles,
    signature_and_text_bytes,
)
from bench.corpus import NewsFeed, bench_redis, corpus_path, load_paragraphs
from dedup.config import Settings
from dedup.core.candidates import budget, rank
from dedup.core.text import words
from dedup.errors import DedupError
from dedup.eval.real import BASE_DATE, ThreeGrams, _input
from dedup.runtime import connect, index_store
from dedup.services.detector import ArticleInput, Detector
from dedup.store.client import drop_prefix
from dedup.store.codecs import IndexEntries

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEV = ("meter-dev.jsonl", "webis-cpc-11-dev.jsonl")
MIN_CONTAINMENT = 0.10  # issue 28: every such pair must reach verification
SHORT = (30, 100)  # words: the crowd passages
BATCH = 500


@dataclass(frozen=True)
class Pair:
    corpus: str
    label: str
    query: dict[str, Any]
    original_id: int  # the stored id of the original
    containment: float
    short: bool


def load_sets(paths: Sequence[Path]) -> list[list[dict[str, Any]]]:
    sets = []
    for path in paths:
        if not path.exists():
            raise SystemExit(f"{path} not found: the dev sets live in ../shared/corpus/")
        with path.open(encoding="utf-8") as handle:
            sets.append([json.loads(line) for line in handle if line.strip()])
    return sets


def store_originals(
    detector: Detector, sets: list[list[dict[str, Any]]], bar: float = MIN_CONTAINMENT
) -> list[Pair]:
    """Ingest every original; the pairs (query, original) at the containment bar (queries
    too short to fingerprint, which a check refuses, left out)."""
    pairs: list[Pair] = []
    for items in sets:
        grams = ThreeGrams()
        stored: dict[str, int] = {}
        for item in items:
            if item["role"] != "original":
                continue
            try:
                result = detector.ingest(_input(item, BASE_DATE))
            except DedupError:
                continue  # too short to store: no pair can name it
            stored[str(item["id"])] = result.article.id
            grams.add(str(item["id"]), str(item["text"]))
        own: dict[str, set[str]] = defaultdict(set)
        text_of = {str(i["id"]): str(i["text"]) for i in items}
        for item in items:
            if item["role"] == "original":
                own[str(item["group"])].add(str(item["id"]))
        for item in items:
            if item["role"] == "original":
                continue
            try:
                detector.prepare(_input(item, BASE_DATE), BASE_DATE)
            except DedupError:
                continue  # too short to fingerprint: refused before any lookup
            forward = grams.scores(str(item["text"]))
            backward = ThreeGrams()
            backward.add("q", str(item["text"]))
            n = len(words(str(item["text"])))
            for original in own[str(item["group"])] & set(stored):
                back = backward.scores(text_of[original]).get("q", 0.0)
                share = max(forward.get(original, 0.0), back)
                if share >= bar:
                    pairs.append(
                        Pair(
                            str(item.get("corpus")),
                            str(item.get("label") or item["role"]),
                            item,
                            stored[original],
                            share,
                            SHORT[0] <= n <= SHORT[1],
                        )
                    )
    return pairs


def measure(detector: Detector, pairs: Sequence[Pair]) -> dict[str, Any]:
    """Candidate and budget recall of the pairs, and lookup times."""
    params = detector.candidate_params
    found: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    missed: list[str] = []
    times = []
    prints: dict[str, Any] = {}
    for pair in pairs:
        key = str(pair.query["id"])
        if key not in prints:
            prints[key] = detector.prepare(_input(pair.query, BASE_DATE), BASE_DATE)[1]
        fp = prints[key]
        started = time.perf_counter()
        lookup = detector.store.lookup(None, IndexEntries.of(fp))
        times.append((time.perf_counter() - started) * 1000)
        ranked = rank(lookup, 0, fp.anchor_grams, len(fp.skeleton), params, len(fp.word_anchors))
        chosen, _ = budget(ranked, lookup.near_times, params.max_verified, detector.store.dates)
        hit = pair.original_id in ranked
        found[f"{pair.corpus} {pair.label}"].append((hit, pair.original_id in chosen))
        if pair.short:
            found["short texts (30-100 words)"].append((hit, pair.original_id in chosen))
        found["all"].append((hit, pair.original_id in chosen))
        if not hit:
            missed.append(f"{key} (c3 {pair.containment:.2f}, {pair.corpus} {pair.label})")
    return {
        "recall": {
            name: {
                "pairs": len(v),
                "candidate": round(float(np.mean([a for a, _ in v])), 4),
                "budgeted": round(float(np.mean([b for _, b in v])), 4),
            }
            for name, v in sorted(found.items())
        },
        "missed": missed,
        "lookup_ms": percentiles(times),
    }


def bytes_per_article(detector: Detector, prefix: str) -> dict[str, float]:
    client = detector.store._redis
    stored = detector.store.count()
    groups = memory_by_group(client, f"{prefix}:*", kind_of(prefix))
    signatures, _ = signature_and_text_bytes(client, prefix)
    index = sum(groups.get(name, 0) for name in INDEX_KINDS.values()) / max(stored, 1)
    return {
        "index": round(index),
        "signatures": round(signatures),
        "total": round(index + signatures),
    }


def report(size: int, found: dict[str, Any], memory: dict[str, float]) -> None:
    print(f"\n## index of {size:,} articles", flush=True)
    print("| pairs | n | candidate recall | budgeted recall |")
    print("|---|---|---|---|")
    for name, row in found["recall"].items():
        print(f"| {name} | {row['pairs']} | {row['candidate']:.3f} | {row['budgeted']:.3f} |")
    ms = found["lookup_ms"]
    print(f"lookup p50 {ms['p50']:.2f} ms, p99 {ms['p99']:.2f} ms; B/article {memory}")
    if found["missed"]:
        print(f"missed ({len(found['missed'])}): " + "; ".join(found["missed"][:8]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feed", type=int, default=1_000_000, help="feed articles to add")
    parser.add_argument(
        "--checkpoints", default="100000,1000000", help="feed sizes to measure at (comma list)"
    )
    parser.add_argument("--dev", nargs="*", type=Path, default=[CORPUS / n for n in DEV])
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--min-containment", type=float, default=MIN_CONTAINMENT, help="pairs from this c3 up"
    )
    args = parser.parse_args()
    marks = sorted({min(int(x), args.feed) for x in args.checkpoints.split(",") if x} | {args.feed})
    sets = load_sets(args.dev)
    paragraphs = load_paragraphs(corpus_path())
    results: dict[str, Any] = {}
    with bench_redis() as url:
        prefix = f"dedup-bench-cand-{int(time.time())}"
        settings = Settings(redis_url=url, key_prefix=prefix)
        client = connect(url)
        detector = Detector(index_store(client, settings), settings)
        try:
            pairs = store_originals(detector, sets, args.min_containment)
            print(f"{len(pairs)} pairs at 3-gram containment >= {args.min_containment}", flush=True)
            size = detector.store.count()
            results["baseline"] = measure(detector, pairs)
            report(size, results["baseline"], bytes_per_article(detector, prefix))
            feed = NewsFeed(paragraphs)
            added = 0
            started = time.perf_counter()
            for mark in marks:
                while added < mark:
                    chunk = feed.take(min(BATCH, mark - added))
                    detector.index_many([ArticleInput(url=a.url, text=a.text) for a in chunk])
                    added += len(chunk)
                    if added % 50_000 < BATCH:
                        rate = added / (time.perf_counter() - started)
                        print(f"  {added:,} feed articles indexed ({rate:.0f}/s)", flush=True)
                found = measure(detector, pairs)
                memory = bytes_per_article(detector, prefix)
                results[str(mark)] = {**found, "bytes_per_article": memory}
                report(detector.store.count(), found, memory)
        finally:
            drop_prefix(client, prefix)
            client.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
