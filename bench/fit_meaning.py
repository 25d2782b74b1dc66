"""Choose the one-language meaning tier's bars (`DEDUP_MEANING_*`) by leaving one corpus out.

    python -m bench.fit_meaning                                   # the shared dev files
    python -m bench.fit_meaning --synthetic eval-data/dev.jsonl   # plus the synthetic dev set

Each file is run by the evaluation protocol (`dedup.eval.real`) with the tier off; every
grey pair verification weighed (same language, not a copy by the word rules, sharing at
least the lowest floor tried of either text's 3-grams) is kept with the run's verdicts.
Each grey pair's sentences are then paired by meaning (`core.semantic`, the shipped
encoder) once, and every rule of the grid (3-gram floor, sentence similarity, share of the
shorter text's sentences paired in order) is scored on what it adds to the run: copies
found, negatives flagged, copies linked to another story. A rule is chosen on all corpora
but one (the most added recall at which each keeps its false-copy target) and scored on
the corpus left out: that table is the criterion; the pooled choice is printed last.
"""

import argparse
import itertools
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fit_reuse import CORPUS, DEFAULT_DEV, FALSE_COPY_TARGETS, shared_shape
from dedup.adapters.encoder import SentenceEncoder
from dedup.config import load_settings
from dedup.core.derived import Derived
from dedup.core.score import is_copy
from dedup.core.semantic import SemanticRule, pair_by_meaning
from dedup.core.verification import C3, Assessment
from dedup.eval import real
from dedup.runtime import open_runtime

FLOORS = (0.05, 0.08, 0.1, 0.15)
SIMILARITIES = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85)
SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
MIN_PAIRS = 3
MAX_CANDIDATES = 1  # grey pairs weighed a check (DEDUP_MEANING_MAX_CANDIDATES by default)


@dataclass
class Grey:
    query: str  # item ids
    candidate: str
    c3: float
    fewest: int  # embedded sentences of the shorter text
    runs: dict[float, int]  # in-order pairs at each similarity bar


@dataclass
class Corpus:
    name: str
    items: list[dict[str, Any]]
    outcomes: list[real.Outcome]
    grey: dict[str, list[Grey]]  # query item id -> its grey pairs, most likely derived first


def collect(name: str, items: list[dict[str, Any]], encoder: SentenceEncoder) -> Corpus:
    settings = load_settings(meaning=False)
    params = settings.match_params()
    found: dict[str, list[tuple[Assessment, str]]] = defaultdict(list)
    texts = {str(i["id"]): str(i["text"]) for i in items}

    def observe(item: dict[str, Any], assessed: list[Assessment], stored: dict[int, str]) -> None:
        if item["role"] == "original":
            return
        for a in assessed:
            if a.forward is None or a.backward is None or a.copy_by_reuse:
                continue
            if is_copy(a.scores, params.thresholds) or a.candidate.id not in stored:
                continue
            c3 = max(float(a.forward[C3]), float(a.backward[C3]))
            if c3 >= FLOORS[0]:
                found[str(item["id"])].append((a, stored[a.candidate.id]))

    with open_runtime(settings) as runtime:
        outcomes = real.run(items, runtime, observe=observe)
    derived: dict[str, Derived] = {}

    def of(item_id: str) -> Derived:
        if item_id not in derived:
            derived[item_id] = Derived(texts[item_id], b"", 0)
        return derived[item_id]

    grey: dict[str, list[Grey]] = {}
    for done, (query, pairs) in enumerate(found.items(), start=1):
        kept = []
        for a, other in sorted(pairs, key=lambda p: -p[0].reuse):
            mine, theirs = of(query), of(other)
            vectors = (mine.embedded(params, encoder), theirs.embedded(params, encoder))
            runs = {
                bar: len(
                    pair_by_meaning(
                        mine.sentences(params),
                        vectors[0],
                        theirs.sentences(params),
                        vectors[1],
                        SemanticRule(bar, 0.0, 1),
                    ).rewrite.pairs
                )
                for bar in SIMILARITIES
            }
            c3 = max(float(a.forward[C3]), float(a.backward[C3]))  # type: ignore[index]
            kept.append(Grey(query, other, c3, min(len(v.spans) for v in vectors), runs))
        grey[query] = kept
        if done % 50 == 0:
            print(f"  {name}: {done}/{len(found)} queries embedded", file=sys.stderr)
    return Corpus(name, items, outcomes, grey)


@dataclass(frozen=True)
class Rule:
    floor: float
    similarity: float
    share: float

    def passes(self, g: Grey) -> bool:
        run = g.runs[self.similarity]
        return g.c3 >= self.floor and run >= MIN_PAIRS and run >= self.share * g.fewest


OFF = Rule(2.0, SIMILARITIES[0], 1.0)


def score(corpus: Corpus, rule: Rule) -> dict[str, float]:
    """Recall per copy label, false-copy rate per negative label, and the share of copy
    links to the copy's own story, with the rule's links added to the run's."""
    originals = real._originals(corpus.items)
    group = {str(i["id"]): str(i["group"]) for i in corpus.items}
    rows: dict[str, list[bool]] = defaultdict(list)
    links: list[bool] = []
    for o in corpus.outcomes:
        own = str(o.item["id"])
        greys = [g for g in corpus.grey.get(own, []) if g.c3 >= rule.floor][:MAX_CANDIDATES]
        added = {g.candidate for g in greys if rule.passes(g)}
        linked = (o.linked | added) if o.accepted else set()
        rows[f"{o.role} {o.label}"].append(real._hits(linked, o, originals[str(o.item["group"])]))
        if o.role == "copy":
            links += [group.get(t) == str(o.item["group"]) for t in linked]
    out = {k: sum(v) / len(v) for k, v in rows.items()}
    out["right story links"] = sum(links) / len(links) if links else 1.0
    return out


def keeps_targets(corpus: Corpus, figures: dict[str, float]) -> bool:
    target = FALSE_COPY_TARGETS.get(corpus.name, 0.02)
    return all(v <= target + 1e-9 for k, v in figures.items() if k.startswith("unrelated"))


def gain(corpus: Corpus, figures: dict[str, float], base: dict[str, float]) -> float:
    copies = [k for k in figures if k.startswith("copy")]
    return sum(figures[k] - base[k] for k in copies) / max(1, len(copies))


def choose(corpora: Sequence[Corpus]) -> Rule:
    """The rule with the most mean added recall over these corpora at which each keeps its
    false-copy target (or no worse than the run without the tier) and its right-story links."""
    bases = [score(c, OFF) for c in corpora]
    best, best_gain = OFF, 0.0
    for floor, similarity, share in itertools.product(FLOORS, SIMILARITIES, SHARES):
        rule = Rule(floor, similarity, share)
        total, ok = 0.0, True
        for corpus, base in zip(corpora, bases, strict=True):
            figures = score(corpus, rule)
            false_ok = keeps_targets(corpus, figures) or all(
                figures[k] <= base[k] for k in figures if k.startswith("unrelated")
            )
            if not false_ok or figures["right story links"] < base["right story links"] - 0.005:
                ok = False
                break
            total += gain(corpus, figures, base)
        if ok and total / len(corpora) > best_gain + 1e-9:
            best, best_gain = rule, total / len(corpora)
    return best


def show(corpus: Corpus, rule: Rule) -> str:
    base, figures = score(corpus, OFF), score(corpus, rule)
    return ", ".join(f"{k} {base[k]:.3f}->{figures[k]:.3f}" for k in sorted(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--synthetic", type=Path, help="the synthetic dev set (dedup eval build)")
    args = parser.parse_args()
    files = list(args.files) or [CORPUS / f for f in DEFAULT_DEV]
    missing = [f for f in files if not f.exists()]
    if missing:
        sys.exit(
            f"not found: {', '.join(map(str, missing))} (the shared corpus sits beside the repo)"
        )
    encoder = SentenceEncoder()
    corpora = []
    for path in files:
        items = shared_shape(path)
        corpora.append(collect(str(items[0].get("corpus", path.stem)), items, encoder))
    if args.synthetic is not None:
        corpora.append(collect("synthetic", shared_shape(args.synthetic), encoder))
    for corpus in corpora:
        n = sum(len(v) for v in corpus.grey.values())
        print(f"{corpus.name}: {n} grey pairs for {len(corpus.grey)} queries")
    print("\nleave one corpus out (chosen on the others, scored on it):")
    for k, left in enumerate(corpora):
        rule = choose([c for j, c in enumerate(corpora) if j != k])
        print(f"  {left.name} left out, {rule}: {show(left, rule)}")
    rule = choose(corpora)
    print(f"\npooled: {rule}")
    for corpus in corpora:
        print(f"  {corpus.name}: {show(corpus, rule)}")


if __name__ == "__main__":
    main()
