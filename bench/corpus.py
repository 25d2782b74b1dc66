"""News-like benchmark articles made from the real text of ../shared/corpus/bbc.jsonl.

An order-2 word Markov chain trained on the BBC sentences writes new paragraphs: the
vocabulary, names, sentence lengths and phrasing are real, but no two articles share a
paragraph by accident (drawing whole BBC paragraphs at random, as this file first did, made
each article share paragraphs with about 18 others at 10,000 articles, which no news feed
does). One article in ten is a chrome-wrapped copy of an earlier one, so the index holds
duplicate clusters as a feed does.
"""

import json
import os
import random
import re
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


Chain = dict[tuple[str, str], list[str]]
START = ("", "")


def train(paragraphs: list[str]) -> Chain:
    """An order-2 word chain over the sentences of the paragraphs ('' marks a start)."""
    chain: Chain = {}
    for paragraph in paragraphs:
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            words = sentence.split()
            if len(words) < 4:
                continue
            previous = START
            for word in words:
                chain.setdefault(previous, []).append(word)
                previous = (previous[1], word)
            chain.setdefault(previous, []).append("")
    return chain


def _sentence(chain: Chain, rng: random.Random, limit: int = 45) -> str:
    words: list[str] = []
    previous = START
    while len(words) < limit:
        word = rng.choice(chain.get(previous) or [""])
        if not word:
            break
        words.append(word)
        previous = (previous[1], word)
    return " ".join(words)


def news_like_articles(count: int, paragraphs: list[str], seed: int = 2025) -> list[BenchArticle]:
    """`count` articles: 90% newly written by the chain, 10% chrome-wrapped copies."""
    rng = random.Random(seed)
    chain = train(paragraphs)
    articles: list[BenchArticle] = []
    for i in range(count):
        if i >= 10 and i % 10 == 0:
            source = articles[rng.randrange(len(articles))]
            text = CHROME[0] + source.text + CHROME[1]
        else:
            text = "\n\n".join(
                " ".join(_sentence(chain, rng) for _ in range(rng.randint(2, 4)))
                for _ in range(rng.randint(4, 8))
            )
        articles.append(BenchArticle(f"https://site{i % 97}.example/news/{i}", text))
    return articles
