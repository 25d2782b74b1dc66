"""Evaluation on labelled real reuse: any file of the shared JSONL shape (see
../shared/corpus/README.md), scored exactly as that README says, with two baselines from the
same run.

Shape: one JSON object per line with `id`, `text`, `title`, `group` (a copy and its
original(s) share it), `role` (`original`, `copy` or `unrelated`), `label` (the corpus's own
class), `corpus`, `meta` (`meta.negative_scope` = "any": the item's own source is not stored,
so any link at all is a false copy).

Protocol: originals are stored first, published one day before the rest; then copies and
negatives in a shuffled order (seeded), each through the API's ingest, its follow-up job run
before the next text as a worker would (the answer scored is the ingest's). A copy is **found**
when the answer's likely original, or any match whose copy type is not `related`, is one of
its group's originals; a negative is a **false copy** when it is linked that way to one of its
group's originals (or, with negative_scope "any", to anything). An answer of 422 counts as
not found. Original-source accuracy is, among found copies, the share whose likely original
is one of their group's originals.

Stream order (`run_stream`): every text of the file (originals included, still dated a day
earlier) is ingested in one shuffled order, as a crawler meets texts; afterwards each
stored text's verdict is read back as `GET /v1/articles/{id}/matches` gives it (the index
as it is at the end) and scored as above. A copy stored before its original must be found,
and attributed, once the original is there.

Baselines, on the same items in the same order, each linking a query to stored texts:
- `3-gram`: exhaustive word-3-gram containment (share of the query's distinct 3-grams found
  in a stored text) against every stored text, at the lowest threshold whose false-copy rate
  on this file is at most 0.10 (chosen here, so on a dev file it is the baseline's best);
- `lsh`: datasketch's MinHashLSH at 0.5 on word 5-grams, its candidates taken as links.
"""

import random
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import numpy as np
from datasketch import MinHashLSH

from dedup.core.article import ArticleInput
from dedup.core.result import Result
from dedup.core.shingles import shingle_hashes, shingle_set, word_hashes
from dedup.core.text import words
from dedup.core.verification import Assessment
from dedup.errors import DedupError
from dedup.eval.evaluate import baseline_minhash
from dedup.runtime import Runtime

BASE_DATE = datetime(2000, 1, 1, 9, 0, tzinfo=UTC)
BASELINE_FALSE_COPY_RATE = 0.10
SHUFFLE_SEED = 2025
_SITE = re.compile(r"[^a-z0-9-]+")


@dataclass
class Outcome:
    """One query item (a copy or a negative) and what each detector linked it to."""

    item: dict[str, Any]
    accepted: bool  # False: the detector refused it (422), nothing was linked
    linked: set[str] = field(default_factory=set)  # ids of stored items linked as copies
    original: str | None = None  # the item id the detector named its likely original
    reuse: dict[str, float] = field(
        default_factory=dict
    )  # item id -> reuse, of every candidate weighed
    copy_types: dict[str, str | None] = field(default_factory=dict)  # stored id -> copy type
    baseline_3gram: dict[str, float] = field(default_factory=dict)  # stored id -> containment
    baseline_lsh: set[str] = field(default_factory=set)

    @property
    def role(self) -> str:
        return str(self.item["role"])

    @property
    def label(self) -> str:
        return str(self.item.get("label") or self.item["role"])

    @property
    def scope_any(self) -> bool:
        return (self.item.get("meta") or {}).get("negative_scope") == "any"


def is_shared_shape(items: Sequence[dict[str, Any]]) -> bool:
    """Whether a labelled file has the shared shape (roles and groups on each item)."""
    return bool(items) and all({"id", "text", "group", "role"} <= set(i) for i in items[:50])


def site_of_item(item: dict[str, Any]) -> str:
    """A site name for an item: its outlet when the corpus names one, else its corpus."""
    meta = item.get("meta") or {}
    name = meta.get("newspaper") or meta.get("outlet") or meta.get("worker_id")
    base = f"{item.get('corpus', 'corpus')}-{name}" if name else str(item.get("corpus", "corpus"))
    return _SITE.sub("-", base.lower()).strip("-") + ".example"


def _input(item: dict[str, Any], when: datetime) -> ArticleInput:
    site = site_of_item(item)
    return ArticleInput(
        url=f"https://{site}/{quote(str(item['id']), safe='')}",
        text=str(item["text"]),
        title=item.get("title") or None,
        site=site,
        published_at=when,
    )


def _grams(text: str) -> np.ndarray:
    return shingle_set(shingle_hashes(word_hashes(words(text)), 3))


class ThreeGrams:
    """Exhaustive word-3-gram containment of a query in every stored text."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.sets: list[np.ndarray] = []

    def scores(self, text: str) -> dict[str, float]:
        query = _grams(text)
        if not len(query):
            return {}
        found = {}
        for doc_id, stored in zip(self.ids, self.sets, strict=True):
            shared = np.intersect1d(query, stored, assume_unique=True).size
            if shared:
                found[doc_id] = shared / len(query)
        return found

    def add(self, doc_id: str, text: str) -> None:
        self.ids.append(doc_id)
        self.sets.append(_grams(text))


Observer = Callable[[dict[str, Any], list[Assessment], dict[int, str]], None]


def run(
    items: Sequence[dict[str, Any]],
    runtime: Runtime,
    progress: Callable[[int], None] = lambda _n: None,
    *,
    seed: int = SHUFFLE_SEED,
    observe: Observer | None = None,
    **changes: Any,
) -> list[Outcome]:
    """Ingest the items by the protocol (a throwaway key prefix, settings changed as given)
    and record what the detector and both baselines linked each query to. `observe` sees,
    for every item ingested (originals too), the assessments of the candidates verification
    weighed and the map from stored ids to item ids (bench.fit_reuse trains on them)."""
    scoped = runtime.scoped(f"{runtime.settings.key_prefix}-real-{uuid.uuid4().hex[:8]}", **changes)
    detector = scoped.detector
    current: list[dict[str, Any]] = []
    weighed: dict[int, float] = {}  # stored id -> reuse score of the current item's candidates

    def record(assessed: list[Assessment]) -> None:
        for assessment in assessed:
            weighed[assessment.candidate.id] = assessment.reuse
        if observe is not None:
            observe(current[-1], assessed, stored_id)

    def follow_up(result: Result) -> None:
        """The ingest's follow-up job, run before the next text as a worker would (it
        stores the lead vector); what it weighs is not observed (no pair twice)."""
        detector.observe = None
        try:
            scoped.sites.followup(str(result.article.id))
        finally:
            detector.observe = record

    detector.observe = record
    originals = sorted((i for i in items if i["role"] == "original"), key=lambda i: str(i["id"]))
    queries = [i for i in items if i["role"] != "original"]
    random.Random(seed).shuffle(queries)
    stored_id: dict[int, str] = {}  # detector id -> item id
    grams = ThreeGrams()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    outcomes: list[Outcome] = []
    try:
        for item in originals:
            progress(1)
            current.append(item)
            try:
                result = detector.ingest(_input(item, BASE_DATE))
            except DedupError:
                continue  # an original too short to store: its copies cannot be found
            follow_up(result)
            stored_id[result.article.id] = str(item["id"])
            grams.add(str(item["id"]), str(item["text"]))
            lsh.insert(str(item["id"]), baseline_minhash(str(item["text"])))
        for item in queries:
            progress(1)
            current.append(item)
            outcome = Outcome(item, accepted=True)
            weighed.clear()
            outcome.baseline_3gram = grams.scores(str(item["text"]))
            sketch = baseline_minhash(str(item["text"]))
            outcome.baseline_lsh = {str(k) for k in lsh.query(sketch)}
            try:
                result = detector.ingest(_input(item, BASE_DATE + timedelta(days=1)))
            except DedupError:
                outcome.accepted = False
                outcomes.append(outcome)
                continue
            own = str(item["id"])
            stored_id[result.article.id] = own
            outcome.reuse = {stored_id[k]: v for k, v in weighed.items() if k in stored_id}
            _read(outcome, result, stored_id, own)  # the POST answer, before its follow-up
            follow_up(result)
            grams.add(own, str(item["text"]))
            lsh.insert(own, sketch)
            outcomes.append(outcome)
    finally:
        scoped.drop()
    return outcomes


def run_stream(
    items: Sequence[dict[str, Any]],
    runtime: Runtime,
    progress: Callable[[int], None] = lambda _n: None,
    *,
    seed: int = SHUFFLE_SEED,
    **changes: Any,
) -> list[Outcome]:
    """Ingest every item in one shuffled order (originals dated a day before the rest),
    then read each copy's and negative's verdict back against the final index; the
    baselines link each of them to every other text of the file (all are stored by then)."""
    scoped = runtime.scoped(f"{runtime.settings.key_prefix}-real-{uuid.uuid4().hex[:8]}", **changes)
    detector = scoped.detector
    order = list(items)
    random.Random(seed).shuffle(order)
    stored_id: dict[int, str] = {}  # detector id -> item id
    item_ids: dict[str, int] = {}
    grams = ThreeGrams()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sketches = {}
    try:
        for item in order:
            progress(1)
            when = BASE_DATE if item["role"] == "original" else BASE_DATE + timedelta(days=1)
            own = str(item["id"])
            try:
                result = detector.ingest(_input(item, when))
            except DedupError:
                continue  # refused (too short): a copy counts as not found
            scoped.sites.finish_ingest(result, deferred=False)
            stored_id[result.article.id] = own
            item_ids[own] = result.article.id
            grams.add(own, str(item["text"]))
            sketches[own] = baseline_minhash(str(item["text"]))
            lsh.insert(own, sketches[own])
        outcomes: list[Outcome] = []
        for item in items:
            if item["role"] == "original":
                continue
            own = str(item["id"])
            outcome = Outcome(item, accepted=own in item_ids)
            outcomes.append(outcome)
            outcome.baseline_3gram = {
                k: v for k, v in grams.scores(str(item["text"])).items() if k != own
            }
            if not outcome.accepted:
                continue
            outcome.baseline_lsh = {str(k) for k in lsh.query(sketches[own])} - {own}
            result = detector.matches(str(item_ids[own]))
            _read(outcome, result, stored_id, own)
    finally:
        scoped.drop()
    return outcomes


def _read(outcome: Outcome, result: Result, stored_id: dict[int, str], own: str) -> None:
    """What the detector linked an item to: its copies' and sources' item ids, its copy
    types, and the item it named its likely original (None: itself)."""
    for match in result.matches:
        other = stored_id.get(match.article.id)
        if other is None:
            continue
        outcome.copy_types[other] = match.copy_type
        if match.is_copy:
            outcome.linked.add(other)
    named = stored_id.get(int(result.original.id)) if result.original.id.isdigit() else None
    outcome.original = None if named == own else named
    if outcome.original is not None:
        outcome.linked.add(outcome.original)


def _originals(items: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item["role"] == "original":
            found[str(item["group"])].add(str(item["id"]))
    return found


def _hits(links: set[str], outcome: Outcome, group_originals: set[str]) -> bool:
    """Whether these links make the outcome a found copy (or, for a negative, a false one)."""
    if outcome.role == "unrelated" and outcome.scope_any:
        return bool(links)
    return bool(links & group_originals)


def score(items: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Per label: recall (copies) or false-copy rate (negatives), original-source accuracy,
    for the detector and both baselines; the 3-gram threshold chosen on this file."""
    originals = _originals(items)
    negatives = [o for o in outcomes if o.role == "unrelated"]

    def gram_links(outcome: Outcome, threshold: float) -> set[str]:
        return {k for k, v in outcome.baseline_3gram.items() if v >= threshold}

    def false_rate(threshold: float) -> float:
        flagged = sum(
            _hits(gram_links(o, threshold), o, originals[str(o.item["group"])]) for o in negatives
        )
        return flagged / len(negatives) if negatives else 0.0

    candidates = sorted({v for o in outcomes for v in o.baseline_3gram.values()} | {1.01})
    threshold = next(t for t in candidates if false_rate(t) <= BASELINE_FALSE_COPY_RATE)
    rows: dict[str, dict[str, Any]] = {}
    for label in sorted({o.label for o in outcomes}):
        chosen = [o for o in outcomes if o.label == label]
        role = chosen[0].role
        found = base = lsh = right = 0
        for o in chosen:
            group = originals[str(o.item["group"])]
            hit = _hits(o.linked, o, group) if o.accepted else False
            found += hit
            right += hit and o.original in group
            base += _hits(gram_links(o, threshold), o, group)
            lsh += _hits(o.baseline_lsh, o, group)
        n = len(chosen)
        rows[label] = {
            "role": role,
            "items": n,
            "rate": round(found / n, 4),  # recall for copies, false-copy rate for negatives
            "original_accuracy": round(right / found, 4) if found and role == "copy" else None,
            "baseline_3gram": round(base / n, 4),
            "baseline_lsh": round(lsh / n, 4),
            "refused": sum(not o.accepted for o in chosen),
        }
    group_of = {str(i["id"]): str(i["group"]) for i in items}
    links = [
        group_of.get(target) == str(o.item["group"])
        for o in outcomes
        if o.role == "copy"
        for target in o.linked
    ]
    return {
        "labels": rows,
        "baseline_3gram_threshold": round(threshold, 4),
        # of every link a copy was given, the share to a text of its own story
        "right_story_links": round(sum(links) / len(links), 4) if links else None,
    }


def markdown(name: str, report: dict[str, Any]) -> str:
    """The report as a table: one row per label."""
    lines = [
        f"{name} (3-gram baseline threshold {report['baseline_3gram_threshold']:.3f}, chosen on "
        f"this file at a false-copy rate of {BASELINE_FALSE_COPY_RATE:.2f})",
        "",
        "| label | role | items | dedup | original accuracy | 3-gram baseline | LSH 0.5 baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, row in report["labels"].items():
        what = "recall" if row["role"] == "copy" else "false-copy rate"
        accuracy = "-" if row["original_accuracy"] is None else f"{row['original_accuracy']:.3f}"
        lines.append(
            f"| {label} | {row['role']} ({what}) | {row['items']} | {row['rate']:.3f} "
            f"| {accuracy} | {row['baseline_3gram']:.3f} | {row['baseline_lsh']:.3f} |"
        )
    if report.get("right_story_links") is not None:
        lines += [
            "",
            f"copy links to a text of the copy's own story: {report['right_story_links']:.3f}",
        ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Curve:
    """Recall against false-copy rate as a score's threshold falls, for the detector's reuse
    score and the 3-gram baseline's containment, with where each one operates."""

    name: str
    detector: tuple[list[float], list[float]]  # (false-copy rates, recalls)
    baseline: tuple[list[float], list[float]]
    detector_point: tuple[float, float]  # the detector's decisions: (false-copy rate, recall)
    baseline_point: tuple[float, float]  # at the threshold chosen on this file


def _roc(positives: list[float], negatives: list[float]) -> tuple[list[float], list[float]]:
    """(false-copy rate, recall) at every threshold above 0, highest first, from (0, 0): a
    query scoring 0 was never weighed, and no threshold finds it."""
    thresholds = sorted({v for v in (*positives, *negatives) if v > 0}, reverse=True)
    pos, neg = np.array(positives), np.array(negatives)
    rates, recalls = [0.0], [0.0]
    for t in thresholds:
        rates.append(float((neg >= t).mean()) if len(neg) else 0.0)
        recalls.append(float((pos >= t).mean()) if len(pos) else 0.0)
    return rates, recalls


def curve(name: str, items: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> Curve:
    """The curves of one file: a query's score is its best against what would make it a hit
    (its group's originals; anything, for a negative whose source is not stored). A refused
    query scores 0 for the detector."""
    originals = _originals(items)

    def best(scores: dict[str, float], outcome: Outcome) -> float:
        group = originals[str(outcome.item["group"])]
        return max((v for k, v in scores.items() if outcome.scope_any or k in group), default=0.0)

    report = score(items, outcomes)
    sides: dict[str, tuple[list[float], list[float]]] = {}
    for side in ("detector", "baseline"):
        positives: list[float] = []
        negatives: list[float] = []
        for o in outcomes:
            scores = o.baseline_3gram if side == "baseline" else o.reuse
            value = best(scores, o) if (o.accepted or side == "baseline") else 0.0
            (positives if o.role == "copy" else negatives).append(value)
        sides[side] = _roc(positives, negatives)
    rows = report["labels"].values()
    copies = [r for r in rows if r["role"] == "copy"]
    negatives_rows = [r for r in rows if r["role"] != "copy"]

    def pooled(rows: Iterable[dict[str, Any]], key: str) -> float:
        chosen = list(rows)
        n = sum(r["items"] for r in chosen)
        return sum(r[key] * r["items"] for r in chosen) / n if n else 0.0

    return Curve(
        name=name,
        detector=sides["detector"],
        baseline=sides["baseline"],
        detector_point=(pooled(negatives_rows, "rate"), pooled(copies, "rate")),
        baseline_point=(pooled(negatives_rows, "baseline_3gram"), pooled(copies, "baseline_3gram")),
    )


def draw(curves: Sequence[Curve], path: str) -> None:
    """One panel per file: both curves and both operating points, saved as a PNG. Needs
    matplotlib (the `eval` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4.5), squeeze=False)
    for ax, c in zip(axes[0], curves, strict=True):
        ax.plot(*c.detector, label="dedup (reuse score)", color="tab:blue")
        ax.plot(*c.baseline, label="3-gram containment", color="tab:gray", linestyle="--")
        ax.plot(*c.detector_point, "o", color="tab:blue", label="dedup's decisions")
        ax.plot(*c.baseline_point, "s", color="tab:gray", label="3-gram at its chosen bar")
        ax.axvline(BASELINE_FALSE_COPY_RATE, color="tab:red", linewidth=0.6, linestyle=":")
        ax.set(title=c.name, xlabel="false-copy rate", ylabel="recall", xlim=(0, 1), ylim=(0, 1))
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
