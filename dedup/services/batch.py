"""`dedup batch`: a dump's copy pairs and per-site sums, written as Parquet, on Ray Data or a
local loop, by the same functions.

1. **prepare**: each NDJSON line becomes a row: `doc` (the hash of its url: the same on
   every worker), url, site, published_at, text and its candidate keys (the LSH band
   buckets and the containment anchors of `core.fingerprint`, as the index holds them).
   A line that is not an article becomes an error row with the reason.
2. **candidates**: the rows grouped by key. Every two docs in a group share that key; a
   group of more than `GROUP_CAP` docs is boilerplate and skipped (as the index caps its
   anchors). A pair that shares a band, or at least `MIN_SHARED_ANCHORS` anchors, is a
   candidate.
3. **verify**: each candidate pair is explained by `Explainer.compare`, the online check's
   own verification and attribution. A copy pair is kept, directed (copy, original).
4. **sums**: per site, articles, copies (it published a copy of another site's article),
   copied (another site copied it), credited copies and copy types.

The candidates here are the band and anchor paths only: the skeleton, content-word and
cross-language paths of an online check are not run, so a batch finds fewer rewrites and no
translations (docs/batch.md).
"""

import functools
import json
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import xxhash

from dedup.config import Settings
from dedup.core.article import Article, ArticleInput
from dedup.core.fingerprint import Fingerprint
from dedup.core.markers import find_markers
from dedup.errors import DedupError, UsageError
from dedup.services.detector import COMPARED_ID, Explainer
from dedup.services.input import ArticleIn, parse_line

# A dump has no times of observation: every article is "first seen" at one moment, so that
# the attribution never depends on which worker prepared what, or when.
SEEN = datetime(2000, 1, 1, tzinfo=UTC)
PREPARED_KEPT = 4096  # prepared articles a worker keeps for the pairs it verifies
NEEDS_EXTRA = 'dedup batch writes Parquet and runs on Ray: pip install -e ".[batch]"'
GROUP_CAP = 64  # docs sharing one key beyond this: boilerplate, no pairs from it
MIN_SHARED_ANCHORS = 2
BAND, ANCHOR = 1, 2
_KEY_MASK = (1 << 63) - 1  # keys and docs as non-negative int64 (Arrow's int64)

PAIR_COLUMNS = (
    "copy", "original", "copy_url", "original_url", "copy_site", "original_site",
    "relation", "copy_type", "reuse", "coverage", "credited", "lag_seconds", "is_source",
)  # fmt: skip


def doc_of(url: str) -> int:
    """A doc's number: the hash of its url, the same on every worker."""
    return xxhash.xxh3_64_intdigest(url.encode()) & _KEY_MASK


def _key(kind: int, value: int | bytes) -> int:
    raw = value if isinstance(value, bytes) else value.to_bytes(8, "big")
    return xxhash.xxh3_64_intdigest(bytes([kind]) + raw) & _KEY_MASK


def prepare(explainer: Explainer, lines: Iterable[str]) -> list[dict[str, Any]]:
    """Rows of NDJSON lines: an article with its candidate keys, or an error."""
    rows: list[dict[str, Any]] = []
    now = SEEN
    for line in lines:
        if not line.strip():
            continue
        item = parse_line(line, "line")
        if item.article is None:
            rows.append(_error_row(item.name, item.error or "not an article"))
            continue
        try:
            article, found = explainer.prepare(item.article, now)
        except DedupError as exc:
            rows.append(_error_row(item.article.url, str(exc)))
            continue
        bands = [_key(BAND, bytes([n]) + bucket) for n, bucket in enumerate(found.buckets)]
        anchors = [_key(ANCHOR, int(a)) for a in found.anchors]
        rows.append(
            {
                "doc": doc_of(article.url),
                "url": article.url,
                "site": article.site,
                "published_at": article.published_at.isoformat() if article.published_at else "",
                "text": article.text,
                "bands": bands,
                "anchors": anchors,
                "error": "",
            }
        )
    return rows


def _error_row(url: str, reason: str) -> dict[str, Any]:
    return {
        "doc": doc_of(url),
        "url": url,
        "site": "",
        "published_at": "",
        "text": "",
        "bands": [],
        "anchors": [],
        "error": reason,
    }


def keyed(doc: int, bands: Iterable[int], anchors: Iterable[int]) -> list[tuple[int, int, int]]:
    """A doc's (key, doc, kind) entries for the grouping by key, each distinct key once."""
    return [(int(k), doc, BAND) for k in set(bands)] + [(int(k), doc, ANCHOR) for k in set(anchors)]


def group_pairs(docs: Sequence[int], kind: int) -> list[dict[str, Any]]:
    """The pairs of one key's group (each pair once, smaller doc first)."""
    found = sorted(set(docs))
    if len(found) > GROUP_CAP:
        return []
    band, anchor = int(kind == BAND), int(kind == ANCHOR)
    return [{"a": a, "b": b, "bands": band, "anchors": anchor} for a, b in combinations(found, 2)]


def is_candidate(bands: Any, anchors: Any) -> Any:
    """Whether a pair sharing `bands` bands and `anchors` anchors is a candidate: for ints,
    or elementwise for numpy arrays of them (the Ray stage tests whole blocks)."""
    return (bands >= 1) | (anchors >= MIN_SHARED_ANCHORS)


def _input(row: dict[str, Any]) -> ArticleInput:
    published = row["published_at"] or None
    return ArticleIn(
        url=row["url"], text=row["text"], site=row["site"], published_at=published
    ).to_input()


class Prepared:
    """The prepared (article, fingerprint) of the docs a worker verifies, least recently
    used out: a doc in several candidate pairs is fingerprinted once."""

    def __init__(self, explainer: Explainer, size: int = PREPARED_KEPT) -> None:
        self.explainer = explainer
        self.size = size
        self._kept: OrderedDict[int, tuple[Article, Fingerprint]] = OrderedDict()

    def of(self, row: dict[str, Any]) -> tuple[Article, Fingerprint]:
        doc = int(row["doc"])
        found = self._kept.get(doc)
        if found is None:
            found = self._kept[doc] = self.explainer.prepare(_input(row), SEEN)
            if len(self._kept) > self.size:
                self._kept.popitem(last=False)
        self._kept.move_to_end(doc)
        return found


def verify(prepared: Prepared, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    """A candidate pair explained as an online check explains a match: the directed copy
    pair when it is one, else None."""
    result = prepared.explainer.compare_prepared(prepared.of(a), prepared.of(b)[0])
    copies = [m for m in result.matches if m.is_copy]
    if not copies:
        return None
    match = copies[0]
    b_is_original = result.original.id == str(COMPARED_ID)
    copy, original = (a, b) if b_is_original else (b, a)
    copy_text = copy["text"]
    credited = any(m.kind == "credit" for m in find_markers(copy_text))
    when = {
        side["doc"]: datetime.fromisoformat(side["published_at"]) if side["published_at"] else None
        for side in (a, b)
    }
    lag = None
    if when[copy["doc"]] and when[original["doc"]]:
        lag = int((when[copy["doc"]] - when[original["doc"]]).total_seconds())  # type: ignore[operator]
    return {
        "copy": copy["doc"],
        "original": original["doc"],
        "copy_url": copy["url"],
        "original_url": original["url"],
        "copy_site": copy["site"],
        "original_site": original["site"],
        "relation": match.relation,
        "copy_type": match.copy_type or "",
        "reuse": round(float(match.reuse), 4),
        "coverage": round(float(match.coverage[0] if b_is_original else match.coverage[1]), 4),
        "credited": credited,
        "lag_seconds": lag,
    }


def mark_sources(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pair with `is_source`: whether its original is the copy's likely original. A
    copy pairs with its original and with the original's other copies; its source is the
    partner that copies nothing itself (the most reused one, if several), as an online
    check names the earliest of a story's articles. Sorted by (copy, original).
    A `sibling` pair (both copies of a source that is not stored: `core.attribution`) names
    no source: its `is_source` is False."""
    directed = [p for p in pairs if p["relation"] != "sibling"]
    copies = {p["copy"] for p in directed}
    best: dict[int, tuple[bool, float, int]] = {}
    for p in directed:
        rank = (p["original"] not in copies, p["reuse"], -p["original"])
        if p["copy"] not in best or rank > best[p["copy"]]:
            best[p["copy"]] = rank
    marked = [
        {**p, "is_source": p["copy"] in best and best[p["copy"]][2] == -p["original"]}
        for p in pairs
    ]
    return sorted(marked, key=lambda p: (p["copy"], p["original"]))


def site_sums(articles: Counter[str], pairs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per site: articles, copies of another site's articles, copied by others, credited
    copies, and the copy types, each copy counted with its source only (`mark_sources`;
    a copy of the same site's own article is not counted). Both sides of a `sibling` pair
    count as copies of an unknown source: copies, no `copied`."""
    sums: dict[str, dict[str, Any]] = {
        site: {"site": site, "articles": n, "copies": 0, "copied": 0, "credited": 0}
        for site, n in articles.items()
    }
    types: dict[str, Counter[str]] = defaultdict(Counter)
    copied_docs: dict[str, set[int]] = defaultdict(set)
    copying_docs: dict[str, set[int]] = defaultdict(set)

    def count_copy(doc: int, site: str, pair: dict[str, Any]) -> None:
        if doc not in copying_docs[site]:
            copying_docs[site].add(doc)
            sums[site]["credited"] += int(pair["credited"]) if doc == pair["copy"] else 0
            types[site][pair["copy_type"] or "unknown"] += 1

    for pair in pairs:
        if pair["copy_site"] == pair["original_site"]:
            continue
        if pair["relation"] == "sibling":
            count_copy(pair["copy"], pair["copy_site"], pair)
            count_copy(pair["original"], pair["original_site"], pair)
            continue
        if not pair["is_source"]:
            continue
        count_copy(pair["copy"], pair["copy_site"], pair)
        copied_docs[pair["original_site"]].add(pair["original"])
    for site, row in sums.items():
        row["copies"] = len(copying_docs[site])
        row["copied"] = len(copied_docs[site])
        row["copy_types"] = json.dumps(dict(sorted(types[site].items())))
    return sorted(sums.values(), key=lambda r: (-r["copies"], r["site"]))


@dataclass
class BatchResult:
    """What a batch found, and what it cost."""

    pairs: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    articles: int
    candidates: int
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)

    def pair_set(self) -> set[tuple[int, int]]:
        return {(p["copy"], p["original"]) for p in self.pairs}


def read_lines(paths: Sequence[Path]) -> Iterator[str]:
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    yield line


def run_local(paths: Sequence[Path], settings: Settings) -> BatchResult:
    """The batch in this process: the reference the Ray engine must agree with."""
    started = time.perf_counter()
    explainer = Explainer(settings)
    rows = prepare(explainer, read_lines(paths))
    prepared = time.perf_counter()
    by_doc = {r["doc"]: r for r in rows if not r["error"]}
    groups: dict[int, tuple[int, list[int]]] = {}
    for row in by_doc.values():
        for key, doc, kind in keyed(row["doc"], row["bands"], row["anchors"]):
            groups.setdefault(key, (kind, []))[1].append(doc)
    shared: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for kind, docs in groups.values():
        for pair in group_pairs(docs, kind):
            counts = shared[(pair["a"], pair["b"])]
            counts[0] += pair["bands"]
            counts[1] += pair["anchors"]
    candidates = sorted(p for p, (bands, anchors) in shared.items() if is_candidate(bands, anchors))
    grouped = time.perf_counter()
    kept = Prepared(explainer)
    pairs = [v for a, b in candidates if (v := verify(kept, by_doc[a], by_doc[b]))]
    verified = time.perf_counter()
    articles = Counter(r["site"] for r in by_doc.values())
    pairs = mark_sources(pairs)
    return BatchResult(
        pairs,
        site_sums(articles, pairs),
        [{"url": r["url"], "error": r["error"]} for r in rows if r["error"]],
        len(by_doc),
        len(candidates),
        time.perf_counter() - started,
        {
            "prepare": prepared - started,
            "candidates": grouped - prepared,
            "verify": verified - grouped,
        },
    )


def write_parquet(result: BatchResult, out: Path) -> None:
    """pairs.parquet, sites.parquet and errors.parquet in `out`."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise UsageError(NEEDS_EXTRA) from exc

    out.mkdir(parents=True, exist_ok=True)
    for name, rows, columns in (
        ("pairs", result.pairs, list(PAIR_COLUMNS)),
        ("sites", result.sites, ["site", "articles", "copies", "copied", "credited", "copy_types"]),
        ("errors", result.errors, ["url", "error"]),
    ):
        table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in columns})
        pq.write_table(table, out / f"{name}.parquet")


@functools.cache
def _explainer(settings_json: str) -> Explainer:
    """One Explainer per worker process (Ray tasks reuse their processes)."""
    return Explainer(Settings.model_validate_json(settings_json))


@functools.cache
def _prepared(settings_json: str) -> Prepared:
    return Prepared(_explainer(settings_json))


def _prepare_batch(batch: dict[str, Any], settings_json: str) -> dict[str, Any]:
    """Ray Data's prepare stage over a batch of lines."""
    rows = prepare(_explainer(settings_json), list(batch["text"]))
    return {name: [r[name] for r in rows] for name in rows[0]} if rows else {}


SIDE = ("doc", "url", "site", "published_at", "text")


def _keyed_batch(batch: dict[str, Any]) -> dict[str, Any]:
    """Ray Data's keying stage: the (key, doc, kind) entries of a batch of rows."""
    entries = [
        entry
        for doc, bands, anchors in zip(batch["doc"], batch["bands"], batch["anchors"], strict=True)
        for entry in keyed(int(doc), bands, anchors)
    ]
    return {
        "key": [e[0] for e in entries],
        "doc": [e[1] for e in entries],
        "kind": [e[2] for e in entries],
    }


def _verify_batch(batch: dict[str, Any], settings_json: str) -> dict[str, Any]:
    """Ray Data's verify stage: candidate pairs joined with both texts, explained."""
    kept = _prepared(settings_json)
    found: list[dict[str, Any]] = []
    for i in range(len(batch["a"])):
        # the join keeps each side's doc as its key column (a, b), the rest suffixed
        a = {name: batch[f"{name}_a"][i] for name in SIDE[1:]} | {"doc": int(batch["a"][i])}
        b = {name: batch[f"{name}_b"][i] for name in SIDE[1:]} | {"doc": int(batch["b"][i])}
        if (pair := verify(kept, a, b)) is not None:
            found.append(pair)
    return {c: [p[c] for p in found] for c in PAIR_COLUMNS[:-1]} if found else {}  # no is_source


def _pairs_in_block(batch: dict[str, Any]) -> dict[str, Any]:
    """Ray Data's grouping stage over one block of (key, doc, kind) entries, hash-partitioned
    by key (so all of a key's entries are in one block): `group_pairs` of each key that two
    docs or more share (most keys are one doc's: numpy skips them)."""
    import numpy as np

    keys, docs, kinds = batch["key"], batch["doc"], batch["kind"]
    found: dict[str, list[int]] = {"a": [], "b": [], "bands": [], "anchors": []}
    if len(keys) == 0:
        return found
    order = np.argsort(keys, kind="stable")
    keys, docs, kinds = keys[order], docs[order], kinds[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    shared = ends - starts >= 2
    for start, end in zip(starts[shared], ends[shared], strict=True):
        for pair in group_pairs([int(d) for d in docs[start:end]], int(kinds[start])):
            for name in found:
                found[name].append(pair[name])
    return found


def _candidates_in_block(batch: dict[str, Any]) -> dict[str, Any]:
    """Ray Data's summing stage over one block of pairs, hash-partitioned by (a, b): each
    pair's shared bands and anchors summed, and the candidates kept (`is_candidate`)."""
    import numpy as np

    if len(batch["a"]) == 0:
        return {"a": np.array([], dtype=np.int64), "b": np.array([], dtype=np.int64)}
    both = np.stack([batch["a"], batch["b"]], axis=1)
    unique, inverse = np.unique(both, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    bands = np.bincount(inverse, weights=batch["bands"], minlength=len(unique))
    anchors = np.bincount(inverse, weights=batch["anchors"], minlength=len(unique))
    keep = is_candidate(bands, anchors)
    return {"a": unique[keep, 0], "b": unique[keep, 1]}


def run_ray(paths: Sequence[Path], settings: Settings, workers: int) -> BatchResult:
    """The batch on Ray Data (a local Ray of `workers` CPUs unless one is running: on a
    cluster, `ray.init(address=...)` first). The same functions as `run_local`."""
    try:
        import ray
        import ray.data
        from ray.data.expressions import col
    except ImportError as exc:
        raise UsageError(NEEDS_EXTRA) from exc

    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    # A key's (and a pair's) entries must stay in one block after their hash partitioning:
    # no splitting of large blocks (more partitions, `parts`, keep them small instead).
    context.target_max_block_size = None
    lines = ray.data.read_text([str(p) for p in paths])  # blank lines: skipped by prepare
    config = settings.model_dump_json()
    rows = lines.map_batches(
        _prepare_batch,  # type: ignore[arg-type]
        fn_kwargs={"settings_json": config},
        batch_size=100,
    ).materialize()
    prepared = time.perf_counter()
    good = rows.filter(expr=col("error") == "")
    parts = max(1, workers * 2)
    entries = good.map_batches(_keyed_batch, batch_format="numpy", batch_size=200)

    # Hash partitions, then whole blocks in numpy: a groupby calls its function once a key,
    # and most of the ~80 keys an article has are its own.
    shared = entries.repartition(parts, keys=["key"]).map_batches(
        _pairs_in_block, batch_size=None, batch_format="numpy"
    )
    candidates = (
        shared.repartition(parts, keys=["a", "b"])
        .map_batches(_candidates_in_block, batch_size=None, batch_format="numpy")
        .materialize()
    )
    grouped = time.perf_counter()
    texts = good.select_columns(list(SIDE))
    left = texts.rename_columns({c: f"{c}_a" for c in SIDE})
    right = texts.rename_columns({c: f"{c}_b" for c in SIDE})
    joined = candidates.join(left, "inner", parts, on=("a",), right_on=("doc_a",))
    joined = joined.join(right, "inner", parts, on=("b",), right_on=("doc_b",))
    verified = joined.map_batches(_verify_batch, fn_kwargs={"settings_json": config}, batch_size=20)
    pairs = verified.take_all()
    done = time.perf_counter()
    errors = rows.filter(expr=col("error") != "").select_columns(["url", "error"]).take_all()
    article_sites = Counter(r["site"] for r in good.select_columns(["site"]).take_all())
    count = candidates.count()
    pairs = mark_sources(pairs)
    return BatchResult(
        pairs,
        site_sums(article_sites, pairs),
        errors,
        sum(article_sites.values()),
        count,
        time.perf_counter() - started,
        {"prepare": prepared - started, "candidates": grouped - prepared, "verify": done - grouped},
    )
