"""News-like benchmark articles made from the real paragraphs of ../shared/corpus/bbc.jsonl.

Each article joins 4-8 paragraphs drawn from random BBC articles, so the vocabulary, sentence
lengths and named entities are real; one in ten is a chrome-wrapped copy of an earlier one, so
the index holds duplicate clusters as a news feed does.
"""

import json
import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dedup.embedded import EmbeddedRedis

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bbc.jsonl"
CHROME = ("Sponsor: NEWS AI\nAdmin\n\n", "\n\nAdvertisement\n\nSource link")


@dataclass(frozen=True, slots=True)
class BenchArticle:
    url: str
    text: str


@contextmanager
def bench_redis() -> Iterator[str]:
    """DEDUP_REDIS_URL when set, else an embedded server in a temporary folder (stopped after)."""
    if url := os.environ.get("DEDUP_REDIS_URL"):
        yield url
        return
    embedded = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="dedup-bench-")))
    try:
        yield embedded.url
    finally:
        embedded.stop()


def corpus_path() -> Path:
    return Path(os.environ.get("DEDUP_CORPUS", DEFAULT_CORPUS))


def load_paragraphs(path: Path) -> list[str]:
    """Every paragraph of at least 12 words in the corpus."""
    paragraphs: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["role"] != "original":
                continue
            paragraphs += [p for p in row["text"].split("\n\n") if len(p.split()) >= 12]
    return paragraphs


def news_like_articles(count: int, paragraphs: list[str], seed: int = 2025) -> list[BenchArticle]:
    """`count` articles: 90% paragraph mixes, 10% chrome-wrapped copies of earlier ones."""
    rng = random.Random(seed)
    articles: list[BenchArticle] = []
    for i in range(count):
        if i >= 10 and i % 10 == 0:
            source = articles[rng.randrange(len(articles))]
            text = CHROME[0] + source.text + CHROME[1]
        else:
            text = "\n\n".join(rng.sample(paragraphs, rng.randint(4, 8)))
        articles.append(BenchArticle(f"https://site{i % 97}.example/news/{i}", text))
    return articles
