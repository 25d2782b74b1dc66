"""The `dedup` command: serve the API, scan files into the index, check one file."""

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from dedup import __version__
from dedup.config import Settings
from dedup.detector import ArticleInput, Detector
from dedup.errors import EXIT_CODES, DedupError
from dedup.input import HTML_SUFFIXES, count_items, find_files, local_url, read_items
from dedup.report import Scanned, describe_result, scan_report
from dedup.runtime import Runtime, open_runtime
from dedup.sites import share
from dedup.store import ScanStore

F = TypeVar("F", bound=Callable[..., Any])
EXIT_FAILED_ITEMS = 1
EXIT_USAGE = 2


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError names the DEDUP_ variable
        raise click.ClickException(f"invalid DEDUP_* setting: {exc}") from exc


@contextmanager
def _runtime(settings: Settings) -> Iterator[Runtime]:
    """Redis, detector and scans of the configured index; DedupErrors become
    'Error: ...' and an exit code."""
    try:
        with open_runtime(settings) as runtime:
            yield runtime
    except DedupError as exc:
        _fail(exc)


def _fail(exc: DedupError) -> NoReturn:
    """Print a DedupError as 'Error: ...' and exit with its code."""
    click.echo(f"Error: {exc}", err=True)
    sys.exit(EXIT_CODES.get(type(exc), 1))


@contextmanager
def _detector(settings: Settings) -> Iterator[Detector]:
    with _runtime(settings) as runtime:
        yield runtime.detector


@click.group()
@click.version_option(__version__, prog_name="dedup")
def main() -> None:
    """Find copies of news articles, their likely original, and the shared passages.

    Settings come from DEDUP_* environment variables (see the README). Without
    DEDUP_REDIS_URL an embedded Redis keeps the index in DEDUP_DATA_DIR.
    """
    logging.basicConfig(
        level=_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@main.command()
@click.option("--host", default=None, help="Interface to listen on [DEDUP_API_HOST].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [DEDUP_API_PORT].")
def serve(host: str | None, port: int | None) -> None:
    """Run the REST API (OpenAPI docs at /docs).

    Example: dedup serve --port 8000
    """
    import uvicorn

    from api.main import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
    )


def _files_or_exit(paths: tuple[Path, ...]) -> list[Path]:
    """The article files under the paths, or exit with a usage error when there are none."""
    files = find_files(list(paths))
    if not files:
        click.echo(
            "Error: no .txt, .html, .htm, .jsonl or .ndjson files in the given paths", err=True
        )
        sys.exit(EXIT_USAGE)
    return files


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--passages", default=1, show_default=True, type=click.IntRange(0, 50),
              help="Shared passages to show per match.")  # fmt: skip
@click.option("--queue", "queued", is_flag=True,
              help="Run the scan on the worker queue (workers: `dedup worker`).")  # fmt: skip
def scan(paths: tuple[Path, ...], passages: int, queued: bool) -> None:
    """Store articles from files and folders in the index, then report copies and originals.

    Reads .txt and .html/.htm files (one article each; a manifest.json beside them may give
    url, site, title, published_at per file name) and .jsonl/.ndjson files (one article per
    line, shaped like the POST /v1/articles body). Exit code 1 when any article failed.

    With --queue the articles go to the worker queue as one scan, which the command follows
    with a progress bar (articles/s, ETA) before printing the same report.

    Example: dedup scan seeds/
    """
    files = _files_or_exit(paths)
    if queued:
        _scan_on_queue(files, passages)
        return
    total = count_items(files)
    scanned: list[Scanned] = []
    started = time.perf_counter()
    from workers.tasks import count_followup

    with _runtime(_settings()) as runtime:
        detector = runtime.detector
        with click.progressbar(
            read_items(files), length=total, label=f"Scanning {total} article(s)",
            show_pos=True, show_eta=True, file=sys.stderr,
        ) as items:  # fmt: skip
            for item in items:
                if item.article is None:
                    scanned.append(Scanned(item.origin, item.name, None, item.error))
                    continue
                try:
                    result = detector.ingest(item.article)
                except DedupError as exc:
                    scanned.append(Scanned(item.origin, item.name, None, str(exc)))
                    continue
                count_followup(runtime.sites, result)  # site figures, as the workers do
                scanned.append(Scanned(item.origin, item.name, result))
        # Re-explain every article that takes part in a copy pair, so earlier articles also
        # list the copies stored after them.
        paired = {m.article.id for s in scanned if s.result for m in s.result.matches}
        scanned = [_reexplained(detector, s, paired) for s in scanned]
    click.echo(scan_report(scanned, time.perf_counter() - started))
    if any(s.result is None for s in scanned):
        sys.exit(EXIT_FAILED_ITEMS)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="Articles stored per round trip.")  # fmt: skip
def load(paths: tuple[Path, ...], batch: int) -> None:
    """Bulk-load articles into the index without explaining them (an archive to check new
    articles against): the fastest way in, with no matches, originals or site figures.

    Reads the files `dedup scan` reads. A url stored already is skipped. Exit code 1 when any
    article failed.

    Example: dedup load archive.jsonl
    """
    files = _files_or_exit(paths)
    total = count_items(files)
    counts = {"stored": 0, "already stored": 0, "failed": 0}
    failures: list[str] = []
    started = time.perf_counter()
    with _runtime(_settings()) as runtime, click.progressbar(
        length=total, label=f"Loading {total} article(s)", show_pos=True, show_eta=True,
        file=sys.stderr,
    ) as bar:  # fmt: skip
        pending: list[tuple[str, ArticleInput]] = []

        def flush() -> None:
            outcomes = runtime.detector.index_many([article for _, article in pending])
            for (name, _), outcome in zip(pending, outcomes, strict=True):
                if isinstance(outcome, DedupError):
                    counts["failed"] += 1
                    failures.append(f"{name}: {outcome}")
                else:
                    counts["stored" if outcome[1] else "already stored"] += 1
            bar.update(len(pending))
            pending.clear()

        for item in read_items(files):
            if item.article is None:
                counts["failed"] += 1
                failures.append(f"{item.name}: {item.error}")
                bar.update(1)
                continue
            pending.append((item.name, item.article))
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    seconds = time.perf_counter() - started
    click.echo(
        f"Loaded {total} article(s) in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f}/s): "
        + ", ".join(f"{n} {what}" for what, n in counts.items())
        + "."
    )
    for line in failures:
        click.echo(f"  failed: {line}")
    if failures:
        sys.exit(EXIT_FAILED_ITEMS)


def _article_line(article: ArticleInput) -> str:
    """An article as a JSONL line shaped like the POST /v1/articles body."""
    body: dict[str, str] = {"url": article.url, "site": article.site or "local"}
    if article.text is not None:
        body["text"] = article.text
    if article.html is not None:
        body["html"] = article.html
    if article.title:
        body["title"] = article.title
    if article.published_at:
        body["published_at"] = article.published_at.isoformat()
    return json.dumps(body)


def _scan_on_queue(files: list[Path], passages: int) -> None:
    """Queue the files as one scan, follow it until it ends, then report like a local scan."""
    from rq import Queue, Worker

    from workers.tasks import ScanWriter, queue_name

    settings = _settings()
    started = time.perf_counter()
    with _runtime(settings) as runtime:
        detector, scans = runtime.detector, runtime.scans
        queue = Queue(queue_name(settings), connection=runtime.queue_connection())
        if not Worker.all(queue=queue):
            click.echo(f"Note: no worker listens on queue {queue.name!r} yet; start one with "
                       "`dedup worker` (same DEDUP_* settings).", err=True)  # fmt: skip
        scan_id = uuid.uuid4().hex[:16]
        writer = ScanWriter(queue, scans, settings, scan_id)
        names: dict[int, tuple[str, str]] = {}
        for line, item in enumerate(read_items(files), 1):
            names[line] = (item.origin, item.name)
            full = (
                writer.add(line, _article_line(item.article))
                if item.article is not None
                else writer.add_failed(line, item.error or "unreadable")
            )
            if full:
                writer.flush()
        state = writer.close()
        click.echo(
            f"Scan {scan_id}: {state['total']} article(s) queued on {queue.name!r}", err=True
        )
        state = _follow(scans, scan_id, int(state["total"]))
        results: list[dict[str, Any]] = []
        after: int | None = 0
        while after is not None:
            page, after = scans.results(scan_id, after, 500)
            results += page
        scanned = []
        for result in results:
            fallback = f"line {result['line']}"
            origin, name = names.get(result["line"], (fallback, fallback))
            if result.get("error"):
                scanned.append(Scanned(origin, name, None, result["error"]))
            else:
                explained = replace(detector.matches(result["id"]), created=result["created"])
                scanned.append(Scanned(origin, name, explained))
    click.echo(scan_report(scanned, time.perf_counter() - started))
    if state["status"] != "done":
        reason = state.get("error") or "see `dedup scan-status`"
        click.echo(f"Error: scan {scan_id} ended {state['status']}: {reason}", err=True)
        sys.exit(EXIT_FAILED_ITEMS)
    if any(s.result is None for s in scanned):
        sys.exit(EXIT_FAILED_ITEMS)


def _follow(scans: "ScanStore", scan_id: str, total: int) -> dict[str, str]:
    """Show a progress bar (articles/s, ETA) until the scan is done, failed or cancelled."""
    seen, started = 0, time.monotonic()
    with click.progressbar(length=max(total, 1), label="Scanning", show_eta=True,
                           show_pos=True, file=sys.stderr) as bar:  # fmt: skip
        while True:
            state = scans.get(scan_id)
            if state is None:
                raise click.ClickException(f"scan {scan_id} disappeared")
            processed = int(state["processed"])
            rate = processed / max(time.monotonic() - started, 1e-6)
            bar.label = f"Scanning ({rate:.0f} articles/s)"
            bar.update(processed - seen)
            seen = processed
            if state["status"] in ("done", "failed", "cancelled"):
                return state
            time.sleep(0.5)


def _reexplained(detector: Detector, item: Scanned, paired: set[int]) -> Scanned:
    """The item explained against the index as it is after the scan, when it takes part in a
    copy pair: an article scanned early then also lists the copies scanned after it."""
    if item.result is None or not (item.result.matches or item.result.article.id in paired):
        return item
    now = detector.matches(str(item.result.article.id))
    return replace(item, result=replace(now, created=item.result.created))


@main.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
def scans(limit: int) -> None:
    """List recent scans, newest first.

    Example: dedup scans --limit 5
    """
    settings = _settings()
    with _runtime(settings) as runtime:
        rows = [(scan_id, runtime.scans.get(scan_id)) for scan_id in runtime.scans.recent(limit)]
    click.echo(f"{'id':16}  {'status':9}  {'processed':>15}  {'stored':>7}  {'copies':>7}  "
               f"{'failed':>7}  created")  # fmt: skip
    for scan_id, state in rows:
        if state is None:
            continue
        progress = f"{state['processed']}/{state['total']}"
        counts = f"{state['stored']:>7}  {state['duplicates_found']:>7}  {state['failed']:>7}"
        click.echo(f"{scan_id:16}  {state['status']:9}  {progress:>15}  {counts}  "
                   f"{state['created_at'][:19]}")  # fmt: skip


@main.command("scan-status")
@click.argument("scan_id")
def scan_status(scan_id: str) -> None:
    """Show one scan's status and counters (exit 1 if unknown).

    Example: dedup scan-status 3f9c2a1b7d4e5f60
    """
    settings = _settings()
    with _runtime(settings) as runtime:
        state = runtime.scans.get(scan_id) if scan_id.isalnum() else None
    if state is None:
        click.echo(f"Error: no scan with id {scan_id!r}", err=True)
        sys.exit(1)
    for name in ("status", "total", "processed", "stored", "already_stored", "duplicates_found",
                 "failed", "created_at", "started_at", "finished_at", "error"):  # fmt: skip
        if state.get(name):
            click.echo(f"{name:17} {state[name]}")


@main.command()
def evict() -> None:
    """Remove every article first seen before the retention window (DEDUP_RETENTION_DAYS)
    from the record and every index, in batches of DEDUP_EVICT_BATCH; `dedup worker` does
    the same continuously. Exit 2 when no retention is set.

    Example: DEDUP_RETENTION_DAYS=30 dedup evict
    """
    from dedup.detector import evict_expired

    settings = _settings()
    if settings.retention_days <= 0:
        click.echo("Error: set DEDUP_RETENTION_DAYS (> 0) to say how long to keep articles",
                   err=True)  # fmt: skip
        sys.exit(EXIT_USAGE)
    removed = 0
    with _runtime(settings) as runtime:
        while batch := evict_expired(runtime.detector, runtime.sites):
            removed += batch
            click.echo(f"\r{removed} evicted", nl=False, err=True)
    click.echo(f"{removed} article(s) first seen over {settings.retention_days:g} day(s) ago "
               "were evicted.")  # fmt: skip


@main.command()
@click.option(
    "--min-articles",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Only sites with at least this many counted articles.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500),
              help="How many sites to show.")  # fmt: skip
def sites(min_articles: int, limit: int) -> None:
    """The sites most likely to be content farms, highest farm score first.

    Sites are counted by the follow-up of every ingest (workers, scans).

    Example: dedup sites --min-articles 5
    """
    from dedup.dossier import ranked

    settings = _settings()
    with _runtime(settings) as runtime:
        page, total = ranked(runtime.sites, min_articles, 0, limit)
    if not page:
        click.echo(f"No site with at least {min_articles} counted article(s) yet.")
        return
    click.echo(f"{'site':32} {'articles':>8} {'copies':>7} {'credited':>8} {'score':>6}  role")
    for figures, score in page:
        credited = share(figures.credited_copies, figures.copies)
        click.echo(f"{figures.site[:32]:32} {figures.articles:8d} {figures.copies:7d} "
                   f"{credited:8.0%} {score.value:6.3f}  {score.role}")  # fmt: skip
    if total > len(page):
        click.echo(f"... {total - len(page)} more (--limit)")


@main.command()
@click.argument("name")
def site(name: str) -> None:
    """One site's dossier: profile, farm score, the reasons and example copies with their
    originals (exit 1 if the site was never counted).

    Example: dedup site farm.example
    """
    from dedup.dossier import dossier

    settings = _settings()
    with _runtime(settings) as runtime:
        found = dossier(runtime.sites, runtime.detector.store, name.strip().lower())
    f, score = found.figures, found.score
    click.echo(f"{f.site}: farm score {score.value:.3f} ({score.role})")
    click.echo(f"  articles {f.articles}, copies of other sites {f.copies} "
               f"({share(f.credited_copies, f.copies):.0%} credited), copied by others "
               f"{f.copied}")  # fmt: skip
    if f.lag_median_seconds is not None:
        click.echo(f"  lag behind the original: median {f.lag_median_seconds / 60:.0f} min, "
                   f"p90 {(f.lag_p90_seconds or 0) / 60:.0f} min")  # fmt: skip
    if f.copy_types:
        mix = ", ".join(f"{k} {v}" for k, v in sorted(f.copy_types.items()))
        click.echo(f"  copies by type: {mix}")
    if f.sources:
        top = ", ".join(f"{k} ({v})" for k, v in list(f.sources.items())[:5])
        click.echo(f"  copies from: {top}")
    click.echo(f"  cadence: {found.articles_per_hour:.2f} articles/hour, burstiness "
               f"{found.burstiness:.1f}")  # fmt: skip
    for reason in score.reasons:
        click.echo(f"  {reason.contribution:+.2f}  {reason.text}")
        for e in found.examples.get(reason.name, ()):
            later = f"{e.copy_type or 'copy'}, {e.lag_seconds / 60:.0f} min later"
            click.echo(f"         id {e.article_id} {e.url} <- id {e.source_id} {e.source_url} "
                       f"({later})")  # fmt: skip


@main.command()
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes to run.")  # fmt: skip
def worker(processes: int) -> None:
    """Run worker processes for batch scans on the index's Redis (Ctrl-C to stop).

    Without DEDUP_REDIS_URL they share the embedded Redis of DEDUP_DATA_DIR. Dead workers are
    restarted, and chunks whose worker died are queued again.

    Example: dedup worker --processes 2
    """
    from workers.pool import Pool

    try:
        Pool(_settings(), processes).run()
    except DedupError as exc:
        _fail(exc)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="The article's url (default: the file's path).")
@click.option("--site", default=None, help="The article's site (default: from the url).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response instead.")
@click.option("--passages", default=3, show_default=True, type=click.IntRange(0, 50),
              help="Shared passages to show per match.")  # fmt: skip
def check(file: Path, url: str | None, site: str | None, as_json: bool, passages: int) -> None:
    """Check one .txt or .html file against the index without storing it.

    Example: dedup check suspicious.html --site suspicious.example
    """
    try:
        content = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        click.echo(f"Error: {file} is not valid UTF-8 (byte offset {exc.start})", err=True)
        sys.exit(EXIT_USAGE)
    is_html = file.suffix.lower() in HTML_SUFFIXES
    article = ArticleInput(
        url=url or local_url(file),
        text=None if is_html else content,
        html=content if is_html else None,
        site=site or ("local" if url is None else None),
    )
    with _detector(_settings()) as detector:
        result = detector.check(article)
    if as_json:
        from api.schemas import CheckOut

        click.echo(
            json.dumps(CheckOut.of(result).model_dump(mode="json"), indent=2, ensure_ascii=False)
        )
    else:
        click.echo("\n".join(describe_result(result, file.name, passages)))


DEFAULT_CORPUS = Path("../shared/corpus/bbc.jsonl")


@main.group("eval")
def eval_group() -> None:
    """Build labeled evaluation sets from real articles, and measure detection on them."""


def _read_corpus(corpus: Path) -> list[dict[str, Any]]:
    """The corpus's rows, or exit 2 with what is wrong."""
    if not corpus.exists():
        click.echo(
            f"Error: corpus {corpus} not found; pass --corpus PATH to a JSONL of articles", err=True
        )
        sys.exit(EXIT_USAGE)
    try:
        return [json.loads(line) for line in corpus.open(encoding="utf-8") if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        click.echo(f"Error: corpus {corpus} is not UTF-8 JSON lines: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@eval_group.command("build")
@click.option("--corpus", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_CORPUS,
              show_default=True, help="JSONL of articles (id, title, text).")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("eval-data"),
              show_default=True, help="Folder for dev.jsonl and test.jsonl.")  # fmt: skip
@click.option("--seed", default=2025, show_default=True, help="Seed of the transformations.")
def eval_build(corpus: Path, out: Path, seed: int) -> None:
    """Make dev and test sets: originals, their copies of every type, hard negatives.

    Example: dedup eval build --corpus ../shared/corpus/bbc.jsonl --out eval-data
    """
    from dedup.evalset import build, originals_of

    rows = _read_corpus(corpus)
    out.mkdir(parents=True, exist_ok=True)
    for split in ("dev", "test"):
        items = build(originals_of(rows), split, seed)
        with (out / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        copies = sum(1 for i in items if i["label"]["role"] == "copy")
        click.echo(f"{out / (split + '.jsonl')}: {len(items) - copies} originals, {copies} copies")


@eval_group.command("run")
@click.argument(
    "set_path", metavar="SET", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full report (with per-variant rows) as JSON here.",
)
@click.option("--ablation", is_flag=True,
              help="Run the set once per candidate generator switched off (five runs) and "
                   "print recall per copy type for each.")  # fmt: skip
def eval_run(set_path: Path, json_path: Path | None, ablation: bool) -> None:
    """Ingest a labeled set through the API's code path and print recall, precision,
    original-source accuracy per copy type, the false-copy rate, and a baseline row.

    Example: dedup eval run eval-data/dev.jsonl --json eval-dev.json
    """
    from dedup import evaluate

    items = [json.loads(line) for line in set_path.open(encoding="utf-8") if line.strip()]
    if not items or "label" not in items[0]:
        click.echo(
            f"Error: {set_path} holds no labeled items (make one with `dedup eval build`)", err=True
        )
        sys.exit(EXIT_USAGE)
    settings = _settings()
    runs = len(evaluate.ABLATIONS) if ablation else 1
    bar = click.progressbar(length=len(items) * runs, label="Evaluating", file=sys.stderr)
    with _runtime(settings) as runtime, bar:
        if ablation:
            results = evaluate.ablation(items, runtime.client, settings, progress=bar.update)
        else:
            report = evaluate.run(items, runtime.client, settings, progress=bar.update).as_dict()
    output: Any = results if ablation else report
    click.echo(evaluate.ablation_markdown(results) if ablation else evaluate.markdown(report))
    if json_path is not None:
        json_path.write_text(json.dumps(output, indent=2))


@eval_group.command("sites")
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CORPUS,
    show_default=True,
    help="JSONL of articles (id, title, text, meta.category).",
)
@click.option(
    "--split",
    type=click.Choice(["dev", "test"]),
    default="test",
    show_default=True,
    help="Which half of the corpus the ecosystem is made of.",
)
@click.option("--seed", default=2025, show_default=True, help="Seed of the simulation.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full report as JSON here.")  # fmt: skip
def eval_sites(corpus: Path, split: str, seed: int, json_path: Path | None) -> None:
    """Simulate a news ecosystem from real articles (publishers, credited syndicators, five
    farms, independent reporters), score every site, and print the table, the ranking AUC
    of farms over non-farms and the other targets.

    Example: dedup eval sites --corpus ../shared/corpus/bbc.jsonl --split test
    """
    from dedup import ecosystem, evaluate
    from dedup.evalset import originals_of, split_of

    rows = [r for r in originals_of(_read_corpus(corpus)) if split_of(r["id"]) == split]
    try:
        items = ecosystem.build(rows, seed=seed)
    except (ValueError, KeyError) as exc:
        click.echo(f"Error: cannot build the ecosystem from {corpus}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    settings = _settings()
    bar = click.progressbar(length=len(items), label="Simulating", file=sys.stderr)
    with _runtime(settings) as runtime, bar:
        report = evaluate.run_sites(items, runtime.client, settings, progress=bar.update)
    click.echo(evaluate.sites_markdown(report))
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
