"""Scanning, loading and checking articles: `dedup scan`, `load`, `check`, `scans`,
`scan-status`, `evict`."""

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import click
from pydantic import ValidationError

from dedup.cli.common import files_or_fail, progress, refuse_if_too_large, settings
from dedup.cli.report import Scanned, describe_result, scan_report
from dedup.core.article import ArticleInput
from dedup.core.verdict import Verdict
from dedup.errors import DedupError, ItemsFailed, UsageError
from dedup.runtime import Runtime, bulk, open_runtime
from dedup.runtime.bulk import Batch
from dedup.services.detector import Detector
from dedup.services.input import (
    HTML_SUFFIXES,
    ArticleIn,
    count_items,
    describe,
    local_url,
    read_items,
)
from dedup.services.retention import evict_expired
from dedup.services.scans import ScanState, ScanStatus


def _failed(scanned: list[Scanned]) -> None:
    """ItemsFailed (exit 1) when any scanned article failed; the report listed each."""
    failed = sum(1 for s in scanned if s.result is None)
    if failed:
        raise ItemsFailed(f"{failed} article(s) failed; each is listed above with its reason")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--passages",
    default=1,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Shared passages to show per match (with --verbose).",
)
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Run the scan on the worker queue (workers: `dedup worker`).",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="After the summary, each article: markers, matches, passages, the original's reasons.",
)
def scan(paths: tuple[Path, ...], passages: int, queued: bool, verbose: bool) -> None:
    """Store articles from files and folders in the index, then report copies and originals.

    Reads .txt and .html/.htm files (one article each; a manifest.json beside them may give
    url, site, title, published_at per file name) and .jsonl/.ndjson files (one article per
    line, shaped like the POST /v1/articles body). Exit code 1 when any article failed.

    With --queue the articles go to the worker queue as one scan, which the command follows
    with a progress bar (articles/s, ETA) before printing the same report.

    Example: dedup scan seeds/
    """
    config = settings()
    files = files_or_fail(paths, config.max_body_bytes)
    started = time.perf_counter()
    with open_runtime(config) as runtime:
        if queued:
            scanned, state = _scan_on_queue(runtime, files)
        else:
            scanned, state = _scan_here(runtime, files), None
    click.echo(scan_report(scanned, time.perf_counter() - started, verbose, passages))
    if state is not None and state.status is not ScanStatus.DONE:
        raise ItemsFailed(
            f"scan {state.id} ended {state.status}: {state.error or 'see `dedup scan-status`'}"
        )
    _failed(scanned)


def _scan_here(runtime: Runtime, files: list[Path]) -> list[Scanned]:
    """Ingest every article in this process, each ingest finished as the workers finish
    theirs (counted into its site's figures, `copy.found` emitted)."""
    total = count_items(files)
    scanned: list[Scanned] = []
    detector = runtime.detector
    with progress(total, f"Scanning {total} article(s)") as bar:
        for item in read_items(files):
            bar.update(1)
            if item.article is None:
                scanned.append(Scanned(item.origin, item.name, None, item.error))
                continue
            try:
                result = detector.ingest(item.article)
            except DedupError as exc:
                scanned.append(Scanned(item.origin, item.name, None, str(exc)))
                continue
            result = runtime.sites.finish_ingest(result, deferred=False)
            scanned.append(Scanned(item.origin, item.name, Verdict.of(result)))
    return _reexplained(detector, scanned)


def _reexplained(detector: Detector, scanned: list[Scanned]) -> list[Scanned]:
    """The items that take part in a copy pair explained again against the index as it is
    after the scan, so that an article scanned early also lists the copies scanned after it;
    every other item keeps the verdict it was given."""
    paired = {m.article.id for s in scanned if s.result for m in s.result.matches}

    def again(item: Scanned) -> Scanned:
        verdict = item.result
        if verdict is None or not (verdict.matches or verdict.article.id in paired):
            return item
        now = Verdict.of(detector.matches(str(verdict.article.id)))
        return replace(item, result=replace(now, created=verdict.created))

    return [again(item) for item in scanned]


def _article_line(article: ArticleInput) -> tuple[str | None, str | None]:
    """An article as a queue line: the POST /v1/articles body (`ArticleIn`) it stands for,
    or (None, why) when it is not one the API would take."""
    try:
        return ArticleIn.of_input(article).model_dump_json(exclude_none=True), None
    except ValidationError as exc:
        return None, describe(exc.errors())


def _scan_on_queue(runtime: Runtime, files: list[Path]) -> tuple[list[Scanned], ScanState]:
    """Queue the files as one scan, follow it until it ends, then report like a local scan."""
    scans = runtime.scans
    if not runtime.jobs.has_workers():
        click.echo(
            f"Note: no worker listens on queue {runtime.jobs.name!r} yet; start one with "
            "`dedup worker` (same DEDUP_* settings).",
            err=True,
        )
    writer = scans.writer()
    names: dict[int, tuple[str, str]] = {}
    for line, item in enumerate(read_items(files), 1):
        names[line] = (item.origin, item.name)
        body, problem = _article_line(item.article) if item.article else (None, item.error)
        full = (
            writer.add(line, body)
            if body is not None
            else writer.add_failed(line, problem or "unreadable")
        )
        if full:
            writer.flush()
    state = writer.close()
    click.echo(
        f"Scan {state.id}: {state.total} article(s) queued on {runtime.jobs.name!r}", err=True
    )
    state = _follow(runtime, state)
    scanned = []
    for stored in scans.every_result(state.id):  # the verdicts the workers stored
        fallback = f"line {stored.line}"
        origin, name = names.get(stored.line, (fallback, fallback))
        scanned.append(Scanned(origin, name, stored.verdict, stored.error))
    return _reexplained(runtime.detector, scanned), state


def _follow(runtime: Runtime, state: ScanState) -> ScanState:
    """Show a progress bar (articles/s, ETA) until the scan is done, failed or cancelled."""
    seen, started = 0, time.monotonic()
    with progress(state.total, "Scanning") as bar:
        while True:
            state = runtime.scans.state(state.id)
            rate = state.processed / max(time.monotonic() - started, 1e-6)
            bar.label = f"Scanning ({rate:.0f} articles/s)"
            bar.update(state.processed - seen)
            seen = state.processed
            if state.status.ended:
                return state
            time.sleep(0.5)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--batch",
    default=200,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Articles stored per round trip.",
)
@click.option(
    "--leads/--no-leads",
    default=False,
    show_default=True,
    help="Also embed and keep each article's lead (~3.7 ms an article), so that its "
    "translations are found by meaning, not only by shared names and numbers.",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes that fingerprint and store batches at once (one core each).",
)
def load(paths: tuple[Path, ...], batch: int, leads: bool, processes: int) -> None:
    """Bulk-load articles into the index without explaining them (an archive to check new
    articles against): the fastest way in, with no matches, originals or site figures.

    Reads the files `dedup scan` reads. A url stored already is skipped. Exit code 1 when any
    article failed.

    Example: dedup load archive.jsonl --processes 2
    """
    files = files_or_fail(paths)
    total = count_items(files)
    failures: list[str] = []  # items that could not be read
    started = time.perf_counter()
    with open_runtime(settings()) as runtime, progress(total, f"Loading {total} article(s)") as bar:

        def batches() -> Iterator[Batch]:
            pending: Batch = []
            for item in read_items(files):
                if item.article is None:
                    failures.append(f"{item.name}: {item.error}")
                    bar.update(1)
                    continue
                pending.append((item.name, item.article))
                if len(pending) >= batch:
                    yield pending
                    pending = []
            if pending:
                yield pending

        counts = bulk.load(runtime, batches(), leads=leads, processes=processes, done=bar.update)
    seconds = time.perf_counter() - started
    failures += counts.failures
    click.echo(
        f"Loaded {total} article(s) in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f}/s): "
        f"{counts.stored} stored, {counts.already_stored} already stored, "
        f"{len(failures)} failed."
    )
    for line in failures:
        click.echo(f"  failed: {line}")
    if failures:
        raise ItemsFailed(f"{len(failures)} article(s) failed; each is listed above")


@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
def scans(limit: int) -> None:
    """List recent scans, newest first.

    Example: dedup scans --limit 5
    """
    with open_runtime(settings()) as runtime:
        rows = runtime.scans.recent(limit)
    click.echo(
        f"{'id':16}  {'status':9}  {'processed':>15}  {'stored':>7}  {'copies':>7}  "
        f"{'failed':>7}  created"
    )
    for state in rows:
        progress_text = f"{state.processed}/{state.total}"
        counts = f"{state.stored:>7}  {state.duplicates_found:>7}  {state.failed:>7}"
        click.echo(
            f"{state.id:16}  {state.status:9}  {progress_text:>15}  {counts}  "
            f"{state.created_at.isoformat()[:19]}"
        )


@click.command("scan-status")
@click.argument("scan_id")
def scan_status(scan_id: str) -> None:
    """Show one scan's status and counters (exit 1 if unknown).

    Example: dedup scan-status 3f9c2a1b7d4e5f60
    """
    with open_runtime(settings()) as runtime:
        state = runtime.scans.state(scan_id)
    shown = {
        "status": state.status.value,
        "total": state.total,
        "processed": state.processed,
        "stored": state.stored,
        "already_stored": state.already_stored,
        "duplicates_found": state.duplicates_found,
        "failed": state.failed,
        "created_at": state.created_at.isoformat(),
        "started_at": state.started_at.isoformat() if state.started_at else None,
        "finished_at": state.finished_at.isoformat() if state.finished_at else None,
        "error": state.error,
    }
    for name, value in shown.items():
        if value:
            click.echo(f"{name:17} {value}")


@click.command()
def evict() -> None:
    """Remove every article first seen before the retention window (DEDUP_RETENTION_DAYS)
    from the record and every index, in batches of DEDUP_EVICT_BATCH; `dedup worker` does
    the same continuously. Exit 2 when no retention is set.

    Example: DEDUP_RETENTION_DAYS=30 dedup evict
    """
    config = settings()
    if config.retention_days <= 0:
        raise UsageError("set DEDUP_RETENTION_DAYS (> 0) to say how long to keep articles")
    removed = 0
    with open_runtime(config) as runtime:
        while batch := evict_expired(runtime.detector, runtime.sites):
            removed += batch
            click.echo(f"\r{removed} evicted", nl=False, err=True)
    click.echo(
        f"{removed} article(s) first seen over {config.retention_days:g} day(s) ago were evicted."
    )


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="The article's url (default: the file's path).")
@click.option("--site", default=None, help="The article's site (default: from the url).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response instead.")
@click.option(
    "--passages",
    default=3,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Shared passages to show per match.",
)
def check(file: Path, url: str | None, site: str | None, as_json: bool, passages: int) -> None:
    """Check one .txt or .html file against the index without storing it.

    Example: dedup check suspicious.html --site suspicious.example
    """
    config = settings()
    refuse_if_too_large(file, config.max_body_bytes)  # before reading it
    try:
        content = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{file} is not valid UTF-8 (byte offset {exc.start})") from exc
    is_html = file.suffix.lower() in HTML_SUFFIXES
    article = ArticleInput(
        url=url or local_url(file),
        text=None if is_html else content,
        html=content if is_html else None,
        site=site or ("local" if url is None else None),
    )
    with open_runtime(config) as runtime:
        result = runtime.detector.check(article)
    if as_json:
        from api.schemas import CheckOut

        answer = CheckOut.of(result).model_dump(mode="json")
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(describe_result(Verdict.of(result), file.name, passages)))


COMMANDS = (scan, load, scans, scan_status, evict, check)
