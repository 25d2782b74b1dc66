"""Run a labeled evaluation set through the same code path as the API and score it.

Items are ingested in order (originals first, then copies) into a key prefix of the run's own,
deleted afterwards. For each copy type: recall (the copy's matches include its source),
precision (share of reported matches that belong to the copy's own story), original-source
accuracy (the likely original is the source), copy-type accuracy (once copy types exist).
Matches between two originals are false copies unless the builder found the two share a
verbatim sentence outside quotes (the corpus holds updated versions of some stories: text
reuse, labelled `reuses`); the false-copy rate counts the others, the upper bound every one,
and every such pair is listed for inspection.
A baseline, plain word-5-gram MinHash LSH at 0.5 (datasketch, in memory), runs on the same
items in the same run.
"""

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datasketch import MinHash, MinHashLSH
from pydantic import ValidationError

from dedup.core.sites import cadence, share
from dedup.core.text import words
from dedup.errors import DedupError
from dedup.eval.ecosystem import ranking_auc
from dedup.runtime import Runtime
from dedup.services.input import ArticleIn

# The copy type each of the builder's transformations should be labelled with: an HTML page
# and homoglyph tricks are disguises of a scraped copy.
EXPECTED_TYPE = {
    "scraped": "scraped",
    "syndicated": "syndicated",
    "excerpt": "excerpt",
    "spun": "spun",
    "paraphrased": "paraphrased",
    "html": "scraped",
    "homoglyph": "scraped",
}


@dataclass
class TypeScore:
    """Counts for one copy type (or one variant of it)."""

    copies: int = 0
    found: int = 0
    matches: int = 0
    correct_matches: int = 0
    original_right: int = 0
    type_right: int = 0
    baseline_found: int = 0
    baseline_candidates: int = 0
    baseline_correct: int = 0

    def row(self) -> dict[str, float | int | None]:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "copies": self.copies,
            "recall": share(self.found, self.copies),
            "precision": share(self.correct_matches, self.matches),
            "original_accuracy": share(self.original_right, self.copies),
            "copy_type_accuracy": share(self.type_right, self.copies),
            "baseline_recall": share(self.baseline_found, self.copies),
            "baseline_precision": share(self.baseline_correct, self.baseline_candidates),
        }


@dataclass
class Report:
    by_type: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    by_variant: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    originals: int = 0
    original_pairs: list[tuple[str, str]] = field(default_factory=list)
    false_pairs: list[tuple[str, str]] = field(default_factory=list)  # without reused text
    baseline_original_pairs: int = 0
    baseline_false_pairs: int = 0
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "copy_types": {k: v.row() for k, v in sorted(self.by_type.items())},
            "variants": {k: v.row() for k, v in sorted(self.by_variant.items())},
            "originals": self.originals,
            "false_copy_rate_upper_bound": round(
                len(self.original_pairs) / max(self.originals, 1), 4
            ),
            "false_copy_rate": round(len(self.false_pairs) / max(self.originals, 1), 4),
            "original_pairs_matched": [list(p) for p in self.original_pairs],
            "false_pairs": [list(p) for p in self.false_pairs],
            "baseline_false_copy_rate_upper_bound": round(
                self.baseline_original_pairs / max(self.originals, 1), 4
            ),
            "baseline_false_copy_rate": round(
                self.baseline_false_pairs / max(self.originals, 1), 4
            ),
            "copy_type_accuracy": round(
                sum(s.type_right for s in self.by_type.values())
                / max(sum(s.copies for s in self.by_type.values()), 1),
                4,
            ),
            "failed_items": self.failed,
        }


def baseline_minhash(text: str) -> MinHash:
    """datasketch's usual pipeline: a SHA-1 MinHash (128 permutations) of the word 5-grams
    (the same words dedup sees), as the baseline of the evaluation and the benchmark."""
    found = words(text)
    sketch = MinHash(num_perm=128)
    sketch.update_batch(
        [" ".join(found[i : i + 5]).encode() for i in range(max(1, len(found) - 4))]
    )
    return sketch


def run(
    items: Sequence[dict[str, Any]],
    runtime: Runtime,
    progress: Callable[[int], None] = lambda _n: None,
    **changes: Any,
) -> Report:
    """Ingest the items through the detector on a throwaway key prefix (settings changed as
    given) and score them."""
    scoped = runtime.scoped(f"{runtime.settings.key_prefix}-eval-{uuid.uuid4().hex[:8]}", **changes)
    detector = scoped.detector
    baseline = MinHashLSH(threshold=0.5, num_perm=128)
    report = Report()
    group_of: dict[int, str] = {}  # stored id -> story group
    source_id: dict[str, int] = {}  # group -> id of its original
    reuse: dict[str, set[str]] = {}  # group -> groups whose originals matched it
    try:
        for number, item in enumerate(items):
            progress(1)
            label = item["label"]
            try:
                given = ArticleIn.model_validate({k: v for k, v in item.items() if k != "label"})
                result = detector.ingest(given.to_input())
            except (ValidationError, DedupError) as exc:
                report.failed.append(f"item {number}: {exc}")
                continue
            doc_id = result.article.id
            group_of[doc_id] = label["group"]
            text = item.get("text") or result.article.text
            sketch = baseline_minhash(text)
            candidates = baseline.query(sketch)
            baseline.insert(str(doc_id), sketch)
            if label["role"] == "original":
                report.originals += 1
                source_id[label["group"]] = doc_id
                reused = set(label.get("reuses", ()))
                for match in result.matches:
                    other = group_of[match.article.id]
                    report.original_pairs.append((label["group"], other))
                    if other not in reused:
                        report.false_pairs.append((label["group"], other))
                    reuse.setdefault(label["group"], set()).add(other)
                    reuse.setdefault(other, set()).add(label["group"])
                others = [
                    group_of[int(c)] for c in candidates if group_of[int(c)] != label["group"]
                ]
                report.baseline_original_pairs += len(others)
                report.baseline_false_pairs += sum(1 for g in others if g not in reused)
                continue
            group = label["group"]
            source = source_id[group]
            # A match into another version of the same story (two originals that matched each
            # other) is neither right nor wrong: it leaves precision's numerator and denominator.
            versions = {group} | reuse.get(group, set())
            matched = [group_of[m.article.id] for m in result.matches]
            kept = [g for g in matched if g == group or g not in versions]
            baseline_groups = [group_of[int(c)] for c in candidates]
            baseline_kept = [g for g in baseline_groups if g == group or g not in versions]
            kind = label["copy_type"]
            for score in (report.by_type[kind], report.by_variant[f"{kind} {label['variant']}"]):
                score.copies += 1
                score.found += any(m.article.id == source for m in result.matches)
                score.matches += len(kept)
                score.correct_matches += kept.count(group)
                score.original_right += result.original.id in {str(source_id[g]) for g in versions}
                score.type_right += any(
                    m.article.id == source and m.copy_type == EXPECTED_TYPE[kind]
                    for m in result.matches
                )
                score.baseline_found += str(source) in candidates
                score.baseline_candidates += len(baseline_kept)
                score.baseline_correct += baseline_kept.count(group)
    finally:
        scoped.drop()
    return report


# Each candidate generator and the sentence verification switched off in turn (settings).
ABLATIONS: dict[str, dict[str, Any]] = {
    "all on (defaults)": {},
    "without anchors (containment path)": {"anchor_modulus": 0},
    "without the skeleton index": {"skeleton_modulus": 0},
    "without sentence verification": {"rewrite_verification": False},
    "LSH and SimHash alone": {
        "anchor_modulus": 0,
        "skeleton_modulus": 0,
        "rewrite_verification": False,
    },
}


def ablation(
    items: Sequence[dict[str, Any]],
    runtime: Runtime,
    progress: Callable[[int], None] = lambda _n: None,
) -> dict[str, dict[str, Any]]:
    """The set run once per configuration of ABLATIONS: its report and ingest rate."""
    results = {}
    for name, changes in ABLATIONS.items():
        started = time.perf_counter()
        report = run(items, runtime, progress, **changes).as_dict()
        report["articles_per_second"] = round(len(items) / (time.perf_counter() - started), 1)
        results[name] = report
    return results


def ablation_markdown(results: dict[str, dict[str, Any]]) -> str:
    """Recall per copy type, false-copy rate and speed, one row per configuration."""
    kinds = sorted(next(iter(results.values()))["copy_types"])
    lines = [
        "| configuration | " + " | ".join(kinds) + " | false-copy rate | articles/s |",
        "|---|" + "---|" * (len(kinds) + 2),
    ]
    for name, report in results.items():
        recalls = [report["copy_types"][k]["recall"] for k in kinds]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r:.3f}" for r in recalls)
            + f" | {report['false_copy_rate']:.4f} | {report['articles_per_second']:.0f} |"
        )
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """The report as a markdown table, one row per copy type."""

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [
        "| copy type | copies | recall | precision | original accuracy | copy-type accuracy "
        "| baseline recall | baseline precision |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in report["copy_types"].items():
        lines.append(
            f"| {name} | {row['copies']} | {cell(row['recall'])} | {cell(row['precision'])} "
            f"| {cell(row['original_accuracy'])} | {cell(row['copy_type_accuracy'])} "
            f"| {cell(row['baseline_recall'])} | {cell(row['baseline_precision'])} |"
        )
    lines.append("")
    lines.append(
        f"Copy-type accuracy over all copies: {report['copy_type_accuracy']:.3f}. False-copy "
        f"rate on the {report['originals']} originals (matches between originals that share "
        f"no verbatim sentence): {report['false_copy_rate']:.4f} "
        f"({len(report['false_pairs'])} pairs; baseline {report['baseline_false_copy_rate']:.4f}); "
        f"upper bound counting every match between originals: "
        f"{report['false_copy_rate_upper_bound']:.4f} "
        f"({len(report['original_pairs_matched'])} pairs; baseline "
        f"{report['baseline_false_copy_rate_upper_bound']:.4f})."
    )
    return "\n".join(lines)


def run_sites(
    items: Sequence[dict[str, Any]],
    runtime: Runtime,
    progress: Callable[[int], None] = lambda _n: None,
) -> dict[str, Any]:
    """Ingest an ecosystem (`dedup.eval.ecosystem.build`) and count every article into the
    site sums as the follow-up jobs do; score each site and check the issue's targets."""
    scoped = runtime.scoped(f"{runtime.settings.key_prefix}-sites-{uuid.uuid4().hex[:8]}")
    detector, sites = scoped.detector, scoped.sites
    roles: dict[str, str] = {}
    habits: dict[str, str] = {}
    failed: list[str] = []
    try:
        for number, item in enumerate(items):
            progress(1)
            label = item["label"]
            roles[label["site"]] = label["role"]
            habits[label["site"]] = label.get("habit", label["role"])
            try:
                given = ArticleIn.model_validate({k: v for k, v in item.items() if k != "label"})
                sites.finish_ingest(detector.ingest(given.to_input()), deferred=False)
            except (ValidationError, DedupError) as exc:
                failed.append(f"item {number}: {exc}")
        rows: list[dict[str, Any]] = []
        for site in sorted(roles):
            figures = sites.figures(site)
            score = sites.score(figures)
            speed, burst = cadence(figures)
            rows.append(
                {
                    "site": site,
                    "label": roles[site],
                    "habit": habits[site],
                    "articles": figures.articles,
                    "copies": figures.copies,
                    "credited_share": round(share(figures.credited_copies, figures.copies), 3),
                    "lag_median_minutes": _minutes(figures.lag_median_seconds),
                    "lag_p90_minutes": _minutes(figures.lag_p90_seconds),
                    "copy_types": figures.copy_types,
                    "credited_copies": figures.credited_copies,
                    "markers": figures.markers,
                    "copied": figures.copied,
                    "articles_per_hour": round(speed, 3),
                    "burstiness": round(burst, 2),
                    "farm_score": score.value,
                    "role": score.role,
                    "confidence": score.confidence,
                }
            )
    finally:
        scoped.drop()
    rows.sort(key=lambda r: -r["farm_score"])
    farms = {r["site"] for r in rows if r["label"] == "farm"}
    scores = {r["site"]: r["farm_score"] for r in rows}
    return {
        "sites": rows,
        "ranking_auc": round(ranking_auc(scores, farms), 4),
        "syndicators_labelled": all(
            r["role"] == "syndicator" for r in rows if r["label"] == "syndicator"
        ),
        "independent_max_score": max(
            (r["farm_score"] for r in rows if r["label"] == "independent"), default=0.0
        ),
        "farms_labelled": all(r["role"] == "farm" for r in rows if r["label"] == "farm"),
        "non_farm_max_score": max(
            (r["farm_score"] for r in rows if r["label"] != "farm"), default=0.0
        ),
        "failed_items": failed,
    }


def _minutes(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def sites_markdown(report: dict[str, Any]) -> str:
    """The ecosystem report: one row per site, highest farm score first, then the targets."""
    lines = [
        "| site | truth | articles | copies | credited | lag median / p90, min | copy types "
        "| copied by others | farm_score | role |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["sites"]:
        types = ", ".join(f"{k} {v}" for k, v in sorted(r["copy_types"].items())) or "-"
        lag = (
            "-"
            if r["lag_median_minutes"] is None
            else f"{r['lag_median_minutes']:.0f} / {r['lag_p90_minutes']:.0f}"
        )
        lines.append(
            f"| {r['site']} | {r['habit']} | {r['articles']} | {r['copies']} "
            f"| {r['credited_share']:.0%} | {lag} | {types} | {r['copied']} "
            f"| {r['farm_score']:.3f} | {r['role']} ({r.get('confidence', 0):.2f}) |"
        )
    lines += [
        "",
        f"Ranking AUC (farms above non-farms): {report['ranking_auc']:.4f}; syndicators "
        f"labelled as such: {'yes' if report['syndicators_labelled'] else 'NO'}; highest "
        f"independent reporter score: {report['independent_max_score']:.3f}; every farm "
        f"labelled farm: {'yes' if report['farms_labelled'] else 'NO'}; highest score of a "
        f"site that is not a farm: {report['non_farm_max_score']:.3f}.",
    ]
    return "\n".join(lines)


def seeds_summary(reports: Sequence[dict[str, Any]]) -> str:
    """One line per seed of the site targets, and the worst of them."""
    lines = [
        "| seed | ranking AUC | every farm labelled farm | highest non-farm score |",
        "|---|---|---|---|",
    ]
    for r in reports:
        lines.append(
            f"| {r['seed']} | {r['ranking_auc']:.4f} | {'yes' if r['farms_labelled'] else 'NO'} "
            f"| {r['non_farm_max_score']:.3f} |"
        )
    lines.append(
        f"| worst | {min(r['ranking_auc'] for r in reports):.4f} "
        f"| {'yes' if all(r['farms_labelled'] for r in reports) else 'NO'} "
        f"| {max(r['non_farm_max_score'] for r in reports):.3f} |"
    )
    return "\n".join(lines)


WIRE_SITE = "pa.media"  # the Press Association, as DEDUP_WIRE_SITES names it by default


def newspaper_items(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The METER corpus as an ecosystem: the Press Association's stories (its originals) on
    `WIRE_SITE`, each newspaper's articles on a site of its own, a day later (the corpus
    README's protocol); labels: the wire is a syndicator's source, the papers `newspaper`."""
    items = []
    for row in rows:
        paper = str(row["meta"].get("newspaper") or "unknown").lower()
        original = row["role"] == "original"
        site = WIRE_SITE if original else f"{paper}.example"
        day = str(row["meta"].get("date_iso") or "2000-01-01")
        items.append(
            {
                "url": f"https://{site}/{row['id']}",
                "site": site,
                "title": row.get("title"),
                "text": row["text"],
                "published_at": f"{day}T{'08' if original else '20'}:00:00+00:00",
                "label": {
                    "site": site,
                    "role": "wire" if original else "newspaper",
                    "habit": row["label"] if not original else "wire",
                },
            }
        )
    items.sort(key=lambda item: (item["published_at"], item["url"]))
    return items
