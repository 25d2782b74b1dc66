"""What the lead-vector candidate path costs (issue 31): embedding a lead, and searching a
window of stored leads, at 10k and 100k leads.

    python -m bench.leads                    # 10k and 100k leads in the window
    python -m bench.leads --sizes 1000,10000

The window is filled with leads of real articles (the BBC base, embedded once and repeated
under new ids with a little noise, so the vectors look like news leads), spread over the 15
days a search reads, in 16 languages. Timed, per search: the first read of the window by a
process (every entry fetched from Redis), a warm search (only the lengths read: the case of
every search but a process's first), and the same search as plain numpy over one in-memory
matrix (the floor: no Redis, no per-day parts), in the same run. Embedding a lead is timed on
real articles with the shipped encoder.
"""

import argparse
import json
import random
import time
import uuid
from pathlib import Path

import numpy as np

from bench.common import percentiles, timed_each
from dedup.adapters.encoder import LANGUAGES, SentenceEncoder
from dedup.config import load_settings
from dedup.core.language import language_code
from dedup.core.rewrite import sentences_of
from dedup.core.semantic import lead_texts, lead_vector, nearest_leads
from dedup.core.text import tokenize
from dedup.runtime import Runtime, open_runtime
from dedup.store.keys import Keys
from dedup.store.leads import Leads

BBC = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bbc.jsonl"
DAYS = 15  # a search reads the days within 7 of its own
SEARCHES = 50
FIRST_DAY = 20000  # epoch days of the window filled


HEADER = (
    "| leads in the window | first read ms | warm search p50 / p99 ms "
    "| numpy floor p50 / p99 ms | Redis bytes a lead |\n|---|---|---|---|---|"
)


def one_size(runtime: Runtime, size: int, base: np.ndarray, codes: list[int]) -> str:
    """Fill a window with `size` leads, time the searches, drop it; a table row."""
    rng = np.random.default_rng(size)
    keys = Keys(f"bench-leads-{uuid.uuid4().hex[:8]}")
    writer = Leads(runtime.client, keys)
    vectors = base[rng.integers(0, len(base), size)].astype(np.float32)
    vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    languages = rng.choice(codes, size)
    for n in range(size):
        writer.add(n + 1, int(languages[n]), FIRST_DAY + n % DAYS, vectors[n].astype(np.float16))
    days = range(FIRST_DAY, FIRST_DAY + DAYS)
    used = sum(int(runtime.client.memory_usage(keys.leads(d)) or 0) for d in days)
    queries = [vectors[random.Random(n).randrange(size)] for n in range(SEARCHES)]
    reader = Leads(runtime.client, keys)  # a fresh process's view
    started = time.perf_counter()
    reader.window(days)
    first_ms = (time.perf_counter() - started) * 1000

    def search(query: np.ndarray) -> list[int]:
        window = reader.window(days)
        return nearest_leads(window.similarity(query), window.ids, window.codes != codes[0], 4)

    warm = percentiles(timed_each(queries, search))
    ids = np.arange(1, size + 1)
    others = languages != codes[0]
    floor = percentiles(timed_each(queries, lambda q: nearest_leads(vectors @ q, ids, others, 4)))
    runtime.client.delete(*[keys.leads(d) for d in days], keys.lead_days())
    return (
        f"| {size:,} | {first_ms:.0f} | {warm['p50']:.2f} / {warm['p99']:.2f} | "
        f"{floor['p50']:.2f} / {floor['p99']:.2f} | {used / size:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not BBC.exists():
        raise SystemExit(f"{BBC} is missing: the shared corpus sits beside the repository")
    texts = [json.loads(line)["text"] for line in BBC.open(encoding="utf-8")][:300]
    encoder = SentenceEncoder()
    encoder.warm()
    leads_of = [lead_texts(t, sentences_of(t, tokenize(t))) for t in texts]
    embedded = percentiles(timed_each(leads_of, lambda lead: lead_vector(encoder(lead))))
    found = (lead_vector(encoder(lead)) for lead in leads_of)
    base = np.stack([v for v in found if v is not None])
    print(f"embedding a lead, ms: p50 {embedded['p50']:.2f}, p99 {embedded['p99']:.2f}")
    codes = [language_code(code) for code in sorted(LANGUAGES)]
    print(HEADER)
    with open_runtime(load_settings()) as runtime:
        for size in sizes:
            print(one_size(runtime, size, base, codes), flush=True)


if __name__ == "__main__":
    main()
