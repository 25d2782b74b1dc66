"""A labeled evaluation set made from real articles (pure: articles and a seed in, items out).

Each original gets an earlier publication date and one or two copies made by a transformation
a copier uses: chrome-wrapping (several templates), credited syndication, an excerpt (20-60%),
spinning (10/20/30% of words swapped from a synonym table), sentence-level paraphrase, an HTML
page with navigation and related-story blocks, homoglyph and zero-width tricks. The other
originals of the same category and period are the hard negatives: they share names, places
and topics but are not copies.

The synonym table (`data/eval_synonyms.json`) is the builder's alone; the detector never
reads it.
"""

import hashlib
import json
import random
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

COPY_TYPES = ("scraped", "syndicated", "excerpt", "spun", "paraphrased", "html", "homoglyph")
EXCERPT_SHARES = (0.2, 0.3, 0.4, 0.5, 0.6)
SPIN_SHARES = (0.1, 0.2, 0.3)
BASE_DATE = datetime(2005, 1, 1, 6, 0, tzinfo=UTC)
TAG_DUMP = "World, Business, Politics, Tech"
RELATED = "\n\nRelated stories:\n- Markets rally again\n- Weather warning issued\n- Top ten gadgets"

_CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
_ZERO_WIDTH = "\u200b"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_QUOTE = re.compile("[\"\u201c\u201d\u2018]|(?:^|\\s)'")
REUSE_MIN_WORDS = 10  # a verbatim sentence this long, outside quotes, is reused text


@lru_cache(maxsize=1)
def _synonyms() -> tuple[dict[str, str], tuple[str, ...]]:
    raw = (
        resources.files("dedup.eval")
        .joinpath("data/eval_synonyms.json")
        .read_text(encoding="utf-8")
    )
    data = json.loads(raw)
    return dict(data["words"]), tuple(data["fillers"])


def split_of(article_id: str) -> str:
    """dev or test, by a hash of the id (stable across runs and machines).

    >>> split_of("bbc:business/001") in ("dev", "test")
    True
    """
    return "dev" if hashlib.sha1(article_id.encode()).digest()[0] % 2 == 0 else "test"


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def reused_text(rows: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """id -> ids of the other articles with which it shares a verbatim sentence of at least
    REUSE_MIN_WORDS words outside quotation marks.

    The corpus holds updated versions of some stories (the outlet reusing its own
    paragraphs); such pairs are text reuse, not the independent coverage the false-copy rate
    must be measured on. Shared quotes do not count: independent reports quote the same
    people word for word.

    >>> body = "The court in Washington found the case could not be brought under the law."
    >>> rows = [{"id": "a", "text": body + " More."}, {"id": "b", "text": "So. " + body},
    ...         {"id": "c", "text": '"' + body + '"'}]
    >>> found = reused_text(rows)
    >>> sorted(found.items())
    [('a', {'b'}), ('b', {'a'})]
    """
    holders: dict[str, set[str]] = {}
    for row in rows:
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", row["text"]):
            found = re.findall(r"\w+", sentence.lower())
            if len(found) >= REUSE_MIN_WORDS and not _QUOTE.search(sentence):
                holders.setdefault(" ".join(found), set()).add(row["id"])
    reuse: dict[str, set[str]] = {}
    for ids in holders.values():
        for one in ids:
            if len(ids) > 1:
                reuse.setdefault(one, set()).update(ids - {one})
    return reuse


def spin(text: str, share: float, rng: random.Random) -> tuple[str, float]:
    """Swap `share` of all the words for synonyms (as many as the table allows; capitals
    kept), and say which share of the words was actually swapped."""
    words, _ = _synonyms()
    tokens = re.split(r"(\W+)", text)
    word_positions = [i for i, t in enumerate(tokens) if t and t[0].isalnum()]
    swappable = [i for i in word_positions if tokens[i].lower() in words]
    chosen = rng.sample(swappable, min(len(swappable), round(len(word_positions) * share)))
    for i in chosen:
        swapped = words[tokens[i].lower()]
        tokens[i] = swapped.capitalize() if tokens[i][:1].isupper() else swapped
    return "".join(tokens), len(chosen) / max(len(word_positions), 1)


def paraphrase(text: str, rng: random.Random) -> str:
    """Same facts, same order of paragraphs: neighbouring sentences swapped, one in ten
    dropped, 15% of the swappable words reworded, a filler clause here and there."""
    _, fillers = _synonyms()
    out = []
    for paragraph in _paragraphs(text):
        sentences = _SENTENCE.split(paragraph)
        for i in range(0, len(sentences) - 1, 2):
            if rng.random() < 0.5:
                sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
        kept = [s for s in sentences if rng.random() > 0.1] or sentences[:1]
        if rng.random() < 0.3:
            kept[0] = f"{rng.choice(fillers).capitalize()}, {kept[0][:1].lower()}{kept[0][1:]}"
        out.append(spin(" ".join(kept), 0.15, rng)[0])
    return "\n\n".join(out)


def excerpt(text: str, share: float) -> str:
    """The first `share` of the words, cut at a word boundary."""
    words = text.split(" ")
    return " ".join(words[: max(1, round(len(words) * share))])


def homoglyphs(text: str, rng: random.Random) -> str:
    """Cyrillic look-alikes in 5% of words and zero-width spaces inside another 5%."""
    tokens = re.split(r"(\s+)", text)
    for i, token in enumerate(tokens):
        roll = rng.random()
        if roll < 0.05 and len(token) > 3:
            tokens[i] = "".join(_CYRILLIC.get(ch, ch) if rng.random() < 0.5 else ch for ch in token)
        elif roll < 0.10 and len(token) > 3:
            cut = rng.randrange(1, len(token))
            tokens[i] = token[:cut] + _ZERO_WIDTH + token[cut:]
    return "".join(tokens)


def chrome(text: str, title: str, template: int) -> str:
    """The article inside one of three aggregator page templates."""
    paragraphs = _paragraphs(text)
    if template == 0:
        header = "Sponsor:  NEWS AI: Interactive Knowledge.\nAdmin\n\n" + title
        return header + "\n\n" + "\n\n".join(paragraphs) + "\n\nSource link\n\n" + TAG_DUMP
    if template == 1:
        body = []
        for i, paragraph in enumerate(paragraphs):
            body.append(paragraph)
            if i % 3 == 2:
                body.append("Advertisement")
        return (
            "Home | World | Business | Sport\n\n" + "\n\n".join(body) + f"\n\nRead more at {title}"
        )
    return f"{title}\nPosted by Editorial Staff\n\n" + "\n\n".join(paragraphs) + RELATED


def syndicated(text: str, rng: random.Random) -> str:
    """A credited wire copy: dateline credit and a copyright line."""
    paragraphs = _paragraphs(text)
    city = rng.choice(["LONDON", "NEW YORK", "PARIS", "TOKYO"])
    paragraphs[0] = f"{city} (Reuters) - {paragraphs[0]}"
    return "\n\n".join(paragraphs) + "\n\n(c) 2005 Reuters. All rights reserved."


def html_page(text: str, title: str) -> str:
    """The article in an HTML page with navigation, a related-stories block and a footer."""
    paragraphs = "".join(f"<p>{p}</p>" for p in _paragraphs(text))
    return (
        f"<html><head><title>{title} | Daily Digest</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        "<aside><h2>Related stories</h2><ul><li><a href='/a'>Markets rally again</a></li>"
        "<li><a href='/b'>Weather warning issued</a></li></ul></aside>"
        "<footer>Copyright Daily Digest. All rights reserved.</footer></body></html>"
    )


def _copy(kind: str, original: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str]:
    """(article fields, variant label) of one copy of an original."""
    text, title = original["text"], original["title"]
    if kind == "scraped":
        template = rng.randrange(3)
        return {"text": chrome(text, title, template)}, f"template {template}"
    if kind == "syndicated":
        return {"text": syndicated(text, rng)}, "reuters credit"
    if kind == "excerpt":
        share = rng.choice(EXCERPT_SHARES)
        return {"text": excerpt(text, share)}, f"{share:.0%}"
    if kind == "spun":
        share = rng.choice(SPIN_SHARES)
        spun, achieved = spin(text, share, rng)
        return {"text": spun, "spun_share": round(achieved, 3)}, f"{share:.0%} of words"
    if kind == "paraphrased":
        return {"text": paraphrase(text, rng)}, "sentences reordered and reworded"
    if kind == "html":
        return {"html": html_page(text, title)}, "page with navigation"
    return {"text": homoglyphs(text, rng)}, "cyrillic letters and zero-width spaces"


def build(
    originals: Sequence[dict[str, Any]], split: str, seed: int = 2025
) -> list[dict[str, Any]]:
    """The labeled items of one split, in ingest order: every original first (dated), then
    its copies (dated later). Each item is a POST /v1/articles body plus a `label`."""
    rng = random.Random(f"{seed}:{split}")
    chosen = [r for r in originals if split_of(r["id"]) == split]
    reuse = reused_text(chosen)
    items: list[dict[str, Any]] = []
    published: dict[str, datetime] = {}
    for index, row in enumerate(chosen):
        when = BASE_DATE + timedelta(hours=index)
        published[row["id"]] = when
        items.append(
            {
                "url": f"https://www.bbc.co.uk/news/{row['id'].split(':')[1]}",
                "site": "bbc.co.uk",
                "title": row["title"],
                "text": row["text"],
                "published_at": when.isoformat(),
                "label": {
                    "role": "original",
                    "group": row["id"],
                    "category": row["meta"]["category"],
                    "reuses": sorted(reuse.get(row["id"], ())),
                },
            }
        )
    for row in chosen:
        for kind in rng.sample(COPY_TYPES, rng.choice((1, 2))):
            fields, variant = _copy(kind, row, rng)
            details = {"spun_share": fields.pop("spun_share")} if "spun_share" in fields else {}
            lag = timedelta(hours=rng.randint(1, 48))
            number = len(items)
            items.append(
                {
                    "url": f"https://{kind}-{number % 7}.example/story/{number}",
                    "site": f"{kind}-{number % 7}.example",
                    **fields,
                    "published_at": (published[row["id"]] + lag).isoformat(),
                    "label": {
                        "role": "copy",
                        "group": row["id"],
                        "copy_type": kind,
                        "variant": variant,
                        "category": row["meta"]["category"],
                        **details,
                    },
                }
            )
    return items


def originals_of(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The corpus's own articles, without its 100 exact twins."""
    return [r for r in rows if r.get("role", "original") == "original"]
