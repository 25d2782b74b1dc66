"""How the copy threshold DEDUP_MIN_CONTAINMENT was chosen: on a development split of the
real BBC articles, then reported on the held-out test split.

    python -m bench.thresholds

Negatives are every pair of different articles of the same category (same topic and period,
shared names and places); the corpus's 100 built-in twin pairs are left out. Positives are
copies made from each article: chrome-wrapped, a 60% excerpt, and a light edit (one word in
25 replaced). The score of a pair is the decision statistic, max(containment, contained_by)
of the word 5-gram shingle sets. Articles go to dev or test by a hash of their id.
"""

import hashlib
import itertools
import json
import random
from collections import defaultdict
from dataclasses import replace

from bench.corpus import corpus_path
from dedup.config import Settings
from dedup.core.fingerprint import fingerprint
from dedup.core.score import containment

CANDIDATE_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FILLERS = ("notably", "reportedly", "meanwhile", "indeed", "however")


# Shingle sets of any text: the service's parameters, with no minimum length.
SHINGLES_ONLY = replace(Settings().fingerprint_params(), min_words=1)


def split_of(doc_id: str) -> str:
    return "dev" if hashlib.sha1(doc_id.encode()).digest()[0] % 2 == 0 else "test"


def shingles(text: str) -> set[int]:
    return set(fingerprint(text, SHINGLES_ONLY).shingle_set.tolist())


def score(first: set[int], second: set[int]) -> float:
    shared = len(first & second)
    return max(containment(shared, len(first)), containment(shared, len(second)))


def copies(text: str, rng: random.Random) -> dict[str, str]:
    words = text.split(" ")
    edited = list(words)
    for i in range(12, len(edited), 25):
        edited[i] = rng.choice(FILLERS)
    cut = text[: int(len(text) * 0.6)].rsplit(" ", 1)[0]
    return {
        "chrome": "Sponsor: NEWS AI\nAdmin\n\n" + text + "\n\nAdvertisement\nSource link",
        "excerpt 60%": cut,
        "light edit": " ".join(edited),
    }


def main() -> None:
    rows = [json.loads(line) for line in corpus_path().open(encoding="utf-8")]
    originals = [r for r in rows if r["role"] == "original"]
    twins = {frozenset((r["id"], r["group"])) for r in rows if r["role"] == "copy"}
    rng = random.Random(7)
    report: dict[str, dict[str, object]] = {}
    for split in ("dev", "test"):
        chosen = [r for r in originals if split_of(r["id"]) == split]
        sets = {r["id"]: shingles(r["text"]) for r in chosen}
        by_category = defaultdict(list)
        for r in chosen:
            by_category[r["meta"]["category"]].append(r["id"])
        negatives = [
            score(sets[a], sets[b])
            for ids in by_category.values()
            for a, b in itertools.combinations(ids, 2)
            if frozenset((a, b)) not in twins
        ]
        positives: dict[str, list[float]] = defaultdict(list)
        for r in chosen:
            for kind, text in copies(r["text"], rng).items():
                positives[kind].append(score(shingles(text), sets[r["id"]]))
        negatives.sort()
        report[split] = {
            "articles": len(chosen),
            "negative_pairs": len(negatives),
            "negative_max": round(negatives[-1], 4),
            "negative_p9999": round(negatives[int(len(negatives) * 0.9999)], 4),
            "false_copies": {t: sum(s >= t for s in negatives) for t in CANDIDATE_THRESHOLDS},
            "recall": {
                kind: {
                    t: round(sum(s >= t for s in scores) / len(scores), 4)
                    for t in CANDIDATE_THRESHOLDS
                }
                for kind, scores in positives.items()
            },
            "positive_min": {kind: round(min(scores), 4) for kind, scores in positives.items()},
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
