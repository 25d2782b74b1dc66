"""A labeled news ecosystem made from real articles, to measure the farm score (pure).

Original publishers post BBC articles of their own; credited syndicators republish some of
them verbatim with a credit line naming the publisher; five farms copy them with their own
habits (a fast verbatim scraper in aggregator chrome, a spinner, a paraphraser, an excerpt
poster, a "translator"); independent reporters cover the same stories: each of their items
is the corpus article of the same category that shares the most names with a publisher's
story, posted hours after it, and never one that shares a verbatim sentence with it (that
would be text reuse, `evalset.reused_text`). Every item is dated; copies come after their
originals by each site's usual lag.

The translator farm cannot translate offline: its copies are a heavy spin (30% of words)
with a machine-translation credit line, a stand-in for a translation the index can match.
"""

import random
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from dedup.core.text import skeleton
from dedup.eval.synthetic import BASE_DATE, chrome, excerpt, paraphrase, reused_text, spin

# site -> (role, habit, share of the publishers' articles it copies, lag range in minutes)
FARMS: dict[str, tuple[str, float, tuple[int, int]]] = {
    "fastscrape.example": ("scraper", 0.25, (3, 40)),
    "spinzone.example": ("spinner", 0.2, (120, 600)),
    "rewrite-daily.example": ("paraphraser", 0.2, (180, 1200)),
    "snippets.example": ("excerpter", 0.2, (30, 360)),
    "translated-news.example": ("translator", 0.15, (720, 2880)),
}
Original = tuple[dict[str, Any], float, str]  # a publisher's item, its minute, its site
SYNDICATION_SHARE = 0.2  # of the publishers' articles each syndicator republishes
SYNDICATION_LAG = (10, 90)


def _when(minutes: float) -> str:
    return (BASE_DATE + timedelta(minutes=minutes)).isoformat()


def _farm_copy(habit: str, text: str, title: str, rng: random.Random, source: str) -> str:
    if habit == "scraper":
        return chrome(text, title, rng.randrange(3))
    if habit == "spinner":
        return spin(text, rng.choice((0.2, 0.3)), rng)[0]
    if habit == "paraphraser":
        return paraphrase(text, rng)
    if habit == "excerpter":
        return excerpt(text, rng.choice((0.3, 0.4, 0.5))) + f"\n\nRead more at {source}"
    return spin(text, 0.3, rng)[0] + "\n\nTranslated by Google Translate"


def build(
    rows: Sequence[dict[str, Any]],
    publishers: int = 10,
    per_publisher: int = 12,
    syndicators: int = 3,
    independents: int = 4,
    per_independent: int = 10,
    seed: int = 2025,
) -> list[dict[str, Any]]:
    """The ecosystem's items in time order: POST /v1/articles bodies plus a `label` holding
    the site's role (publisher, syndicator, farm, independent) and, for copies, the source
    url.

    >>> rows = [{"id": f"bbc:x/{i}", "title": f"T{i}", "text": ("Word number %d. " % i) * 40,
    ...          "meta": {"category": "x"}} for i in range(60)]
    >>> items = build(rows, publishers=2, per_publisher=5, syndicators=1, independents=1,
    ...               per_independent=3)
    >>> sorted({i["label"]["role"] for i in items})
    ['farm', 'independent', 'publisher', 'syndicator']
    >>> items == sorted(items, key=lambda i: i["published_at"])
    True
    """
    rng = random.Random(seed)
    pool = list(rows)
    rng.shuffle(pool)
    needed = publishers * per_publisher + independents * per_independent
    if len(pool) < needed:
        raise ValueError(f"the ecosystem needs {needed} articles, the corpus has {len(pool)}")
    items, originals, story_of = _publishers(pool, rng, publishers, lambda: per_publisher)
    for s in range(syndicators):
        site = f"wire{s + 1}.example"
        for k, (source, minute, source_site) in enumerate(originals):
            if rng.random() < SYNDICATION_SHARE:
                credit = rng.choice(
                    (
                        f"This article originally appeared on {source_site}.",
                        f"Source: {source_site}",
                    )
                )
                items.append(
                    {
                        "url": f"https://{site}/{k}",
                        "site": site,
                        "title": source["title"],
                        "text": source["text"] + "\n\n" + credit,
                        "published_at": _when(minute + rng.uniform(*SYNDICATION_LAG)),
                        "label": {"site": site, "role": "syndicator", "source": source["url"]},
                    }
                )
    for site, (habit, copy_share, lag) in FARMS.items():
        for k, (source, minute, source_site) in enumerate(originals):
            if rng.random() < copy_share:
                items.append(
                    {
                        "url": f"https://{site}/{k}",
                        "site": site,
                        "text": _farm_copy(
                            habit, source["text"], source["title"], rng, source_site
                        ),
                        "published_at": _when(minute + rng.uniform(*lag)),
                        "label": {
                            "site": site,
                            "role": "farm",
                            "habit": habit,
                            "source": source["url"],
                        },
                    }
                )
    items += _independents(
        rows, pool, (originals, story_of), rng, independents, lambda: per_independent
    )
    items.sort(key=lambda item: item["published_at"])
    return items


def ranking_auc(scores: dict[str, float], farms: set[str]) -> float:
    """Probability that a farm outscores a non-farm (ties count half).

    >>> ranking_auc({"a": 0.9, "b": 0.8, "c": 0.1, "d": 0.8}, {"a", "b"})
    0.875
    """
    positives = [v for s, v in scores.items() if s in farms]
    negatives = [v for s, v in scores.items() if s not in farms]
    if not positives or not negatives:
        return 0.0
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


FARM_HABITS = ("scraper", "spinner", "paraphraser", "excerpter")


def build_mixed(rows: Sequence[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """An ecosystem whose sites mix their habits, drawn at random per seed (the labels are
    each site's trade): publishers post their own stories, and some also run other
    publishers' stories with credit; one publisher is copied by many (the farms take its
    stories three times as often); syndicators republish with credit and forget it now and
    then (10-30% of their copies); farms copy with one to three disguises at once and post
    their own or filler articles besides (a third to a half of what they post, in chrome
    half the time); independents cover the same stories in their own words.

    >>> rows = [{"id": f"bbc:x/{i}", "title": f"T{i}", "text": ("Word number %d. " % i) * 40,
    ...          "meta": {"category": "x"}} for i in range(400)]
    >>> items = build_mixed(rows, seed=1)
    >>> sorted({i["label"]["role"] for i in items})
    ['farm', 'independent', 'publisher', 'syndicator']
    """
    rng = random.Random(seed)
    pool = list(rows)
    rng.shuffle(pool)
    publishers = rng.randint(4, 6)
    items, originals, story_of = _publishers(pool, rng, publishers, lambda: rng.randint(8, 14))
    popular = originals[0][2]  # the publisher copied by many
    weights = [3.0 if site == popular else 1.0 for _, _, site in originals]
    for p in rng.sample(range(publishers), rng.randint(0, 2)):  # publishers that syndicate
        site = f"paper{p + 1}.example"
        share = rng.uniform(0.05, 0.2)
        for k, (source, minute, source_site) in enumerate(originals):
            if source_site != site and rng.random() < share:
                items.append(
                    _republished(site, f"s{k}", source, source_site, minute, rng, "publisher")
                )
    for s in range(rng.randint(2, 3)):
        site = f"wire{s + 1}.example"
        share, forget = rng.uniform(0.2, 0.35), rng.uniform(0.1, 0.3)
        for k, (source, minute, source_site) in enumerate(originals):
            if rng.random() < share:
                item = _republished(site, str(k), source, source_site, minute, rng, "syndicator")
                if rng.random() < forget:  # the credit line forgotten
                    item["text"] = source["text"]
                    item["label"]["habit"] = "syndicator, forgot credit"
                items.append(item)
    for f in range(rng.randint(3, 5)):
        site = f"farm{f + 1}.example"
        habits = rng.sample(FARM_HABITS, rng.randint(1, 3))
        lag = (rng.randint(3, 120), rng.randint(180, 1440))
        picks = {
            id(s[0]): s for s in rng.choices(originals, weights, k=rng.randint(10, 18))
        }.values()
        copies = 0
        for k, (source, minute, source_site) in enumerate(picks):
            habit = rng.choice(habits)
            items.append(
                {
                    "url": f"https://{site}/{k}",
                    "site": site,
                    "text": _farm_copy(habit, source["text"], source["title"], rng, source_site),
                    "published_at": _when(minute + rng.uniform(*lag)),
                    "label": {
                        "site": site,
                        "role": "farm",
                        "habit": "+".join(sorted(habits)),
                        "source": source["url"],
                    },
                }
            )
            copies += 1
        own_share = rng.uniform(1 / 3, 1 / 2)  # of everything it posts
        for k in range(round(copies * own_share / (1 - own_share))):
            row = pool.pop()
            text = (
                chrome(row["text"], row["title"], rng.randrange(3))
                if rng.random() < 0.5
                else row["text"]
            )
            items.append(
                {
                    "url": f"https://{site}/own{k}",
                    "site": site,
                    "text": text,
                    "published_at": _when(rng.uniform(0, 5 * 24 * 60)),
                    "label": {"site": site, "role": "farm", "habit": "+".join(sorted(habits))},
                }
            )
    items += _independents(rows, pool, (originals, story_of), rng, 3, lambda: rng.randint(6, 12))
    items.sort(key=lambda item: item["published_at"])
    return items


def _republished(
    site: str,
    key: str,
    source: dict[str, Any],
    source_site: str,
    minute: float,
    rng: random.Random,
    role: str,
) -> dict[str, Any]:
    """A credited verbatim republication of a publisher's story."""
    credit = rng.choice(
        (f"This article originally appeared on {source_site}.", f"Source: {source_site}")
    )
    return {
        "url": f"https://{site}/{key}",
        "site": site,
        "title": source["title"],
        "text": source["text"] + "\n\n" + credit,
        "published_at": _when(minute + rng.uniform(*SYNDICATION_LAG)),
        "label": {"site": site, "role": role, "habit": role, "source": source["url"]},
    }


def _independents(
    rows: Sequence[dict[str, Any]],
    pool: list[dict[str, Any]],
    stories: tuple[Sequence[Original], dict[str, dict[str, Any]]],
    rng: random.Random,
    sites: int,
    count: Callable[[], int],
) -> list[dict[str, Any]]:
    """Independent reporters on the publishers' stories: for a story, the unused corpus
    article of its category sharing the most names with it and no verbatim sentence, posted
    hours after it (`count()` items from each of `sites` sites)."""
    originals, story_of = stories
    reuse = reused_text(rows)
    names = {row["id"]: set(skeleton(row["text"])) for row in rows}
    items: list[dict[str, Any]] = []
    for i in range(sites):
        site = f"indie{i + 1}.example"
        for k in range(count()):
            story, minute, _ = rng.choice(originals)
            told = story_of[story["url"]]
            same_topic = [
                r
                for r in pool
                if r["meta"]["category"] == told["meta"]["category"]
                and r["id"] not in reuse.get(told["id"], ())
            ] or pool
            row = max(same_topic, key=lambda r: len(names[r["id"]] & names[told["id"]]))
            pool.remove(row)
            items.append(
                {
                    "url": f"https://{site}/{k}",
                    "site": site,
                    "title": row["title"],
                    "text": row["text"],
                    "published_at": _when(minute + rng.uniform(30, 360)),
                    "label": {
                        "site": site,
                        "role": "independent",
                        "habit": "independent",
                        "story": story["url"],
                        "shared_names": len(names[row["id"]] & names[told["id"]]),
                    },
                }
            )
    return items


def _publishers(
    pool: list[dict[str, Any]], rng: random.Random, publishers: int, count: Callable[[], int]
) -> tuple[list[dict[str, Any]], list[Original], dict[str, dict[str, Any]]]:
    """Publishers posting corpus articles of their own (`count()` a site) over five days:
    their items, the items as originals to copy, and each item url's corpus row."""
    items: list[dict[str, Any]] = []
    originals: list[Original] = []
    story_of: dict[str, dict[str, Any]] = {}
    for p in range(publishers):
        site = f"paper{p + 1}.example"
        for k in range(count()):
            row = pool.pop()
            minute = rng.uniform(0, 5 * 24 * 60)
            item = {
                "url": f"https://{site}/{k}",
                "site": site,
                "title": row["title"],
                "text": row["text"],
                "published_at": _when(minute),
                "label": {"site": site, "role": "publisher", "habit": "publisher"},
            }
            items.append(item)
            story_of[item["url"]] = row
            originals.append((item, minute, site))
    return items, originals, story_of
