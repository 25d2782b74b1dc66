"""News-like benchmark articles made from the real text of ../shared/corpus/bbc.jsonl.

An order-2 word Markov chain trained on the BBC sentences writes new paragraphs: the
vocabulary, names, sentence lengths and phrasing are real, but no two articles share a
paragraph by accident (drawing whole BBC paragraphs at random, as this file first did, made
each article share paragraphs with about 18 others at 10,000 articles, which no news feed
does).

One article in ten is a copy of an earlier original: scraped (aggregator chrome around the
whole text), syndicated (a wire credit line) or an excerpt (the first half and a "Read more"
link). Half the copies pick a new source; the other half copy the source of a random earlier
copy, so a story is copied again in proportion to how often it was copied already (a Yule
process). That gives duplicate clusters of news-like sizes: most stories are copied once or
never, and the biggest wire stories collect ~30 copies at 10,000 articles, ~120 at 100,000
and ~400 at 1,000,000.

Articles are made one by one from their own seed, so a million of them stream through in
constant memory; a copy regenerates its source's text from that source's seed.
"""

import json
import os
import random
import re
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dedup.config import Settings
from dedup.core.article import ArticleInput
from dedup.runtime import open_runtime
from dedup.runtime.embedded import EmbeddedRedis
from dedup.services.detector import Detector

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bbc.jsonl"
CHROME = ("Sponsor: NEWS AI\nAdmin\n\n", "\n\nAdvertisement\n\nSource link")
COPY_SHARE = 0.1
FRESH_SOURCE_SHARE = 0.5  # of the copies: a story not copied before (else a size-biased one)


@dataclass(frozen=True, slots=True)
class BenchArticle:
    url: str
    text: str
    source: int | None = None  # the feed position of the original this copies


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


class NewsFeed:
    """An endless news-like feed: originals written by the chain, copies in clusters."""

    def __init__(self, paragraphs: list[str], seed: int = 2025) -> None:
        self._chain = train(paragraphs)
        self._seed = seed
        self._rng = random.Random(seed)
        self._originals: list[int] = []  # feed positions of the originals
        self._copied: list[int] = []  # the source of every copy so far (size-biased draws)
        self.position = 0

    def original(self, position: int) -> str:
        """The text of the original at a feed position (or of a fresh one past the feed)."""
        rng = random.Random(self._seed * 1_000_003 + position)
        return "\n\n".join(
            " ".join(_sentence(self._chain, rng) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(4, 8))
        )

    def copy_of(self, source: int, label: str) -> BenchArticle:
        """A new copy of an original: scraped, syndicated or an excerpt."""
        rng = random.Random(f"{self._seed}:{label}:{source}")
        text = self.original(source)
        kind = rng.random()
        if kind < 0.6:
            text = CHROME[0] + text + CHROME[1]
        elif kind < 0.85:
            text = "LONDON (Reuters) - " + text + "\n\nReporting by Reuters staff"
        else:
            paragraphs = text.split("\n\n")
            text = "\n\n".join(paragraphs[: max(2, len(paragraphs) // 2)]) + "\n\nRead more at"
        return BenchArticle(
            f"https://farm{rng.randrange(13)}.example/{label}/{source}", text, source
        )

    def take(self, count: int) -> list[BenchArticle]:
        """The next `count` articles of the feed."""
        articles = []
        for _ in range(count):
            i = self.position
            self.position += 1
            if len(self._originals) >= 10 and self._rng.random() < COPY_SHARE:
                fresh = not self._copied or self._rng.random() < FRESH_SOURCE_SHARE
                source = (
                    self._rng.choice(self._originals) if fresh else self._rng.choice(self._copied)
                )
                self._copied.append(source)
                articles.append(self.copy_of(source, f"c{i}"))
            else:
                self._originals.append(i)
                articles.append(
                    BenchArticle(f"https://site{i % 97}.example/news/{i}", self.original(i))
                )
        return articles

    def clusters(self) -> Counter[int]:
        """Copies per copied original so far."""
        return Counter(self._copied)

    def queries(self, count: int, label: str) -> list[BenchArticle]:
        """Articles to query the feed's index with: 40% new stories (nothing to find), 40%
        new copies of random originals, 20% new copies of the 10 most copied stories (the
        wire stories whose clusters must not blow up the tail latency)."""
        rng = random.Random(f"{self._seed}:{label}")
        top = [source for source, _ in self.clusters().most_common(10)] or self._originals[:1]
        queries = []
        for n in range(count):
            draw = rng.random()
            if draw < 0.4:
                fresh = 10**9 + rng.randrange(10**9)  # past any feed position
                queries.append(
                    BenchArticle(f"https://new.example/{label}/{n}", self.original(fresh))
                )
            else:
                source = rng.choice(self._originals) if draw < 0.8 else rng.choice(top)
                queries.append(self.copy_of(source, f"{label}{n}"))
        return queries


def news_like_articles(count: int, paragraphs: list[str], seed: int = 2025) -> list[BenchArticle]:
    """The first `count` articles of a news feed (see NewsFeed)."""
    return NewsFeed(paragraphs, seed).take(count)


def bench_key(url: str, prefix: str) -> dict[str, str]:
    """The Authorization header of an admin key without quotas on this index, for a bench's
    HTTP clients (made as `dedup keys create` makes one)."""
    settings = Settings(redis_url=url, key_prefix=prefix)
    with open_runtime(settings) as runtime:
        _, secret = runtime.access.create(
            f"bench-{uuid.uuid4().hex[:6]}", "admin", requests_per_minute=0, articles_per_day=0
        )
    return {"Authorization": f"Bearer {secret}"}


def index_all(detector: Detector, articles: Sequence[BenchArticle], batch: int = 200) -> None:
    """Bulk-load a bench's articles into its index, `batch` a round trip."""
    for i in range(0, len(articles), batch):
        chunk = articles[i : i + batch]
        detector.index_many([ArticleInput(url=a.url, text=a.text) for a in chunk])
