"""Evaluation: `dedup eval build` (labelled sets from real articles), `eval run`, `eval curve`,
`eval sites`."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dedup.cli.common import progress, settings
from dedup.errors import UsageError
from dedup.runtime import open_runtime

DEFAULT_CORPUS = Path("../shared/corpus/bbc.jsonl")


def read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file, or a usage error saying what is wrong."""
    if not path.exists():
        raise UsageError(f"{what} {path} not found; pass the path to a JSONL file")
    try:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {path} is not UTF-8 JSON lines: {exc}") from exc


F = TypeVar("F", bound=Callable[..., Any])


def corpus_option(what: str) -> Callable[[F], F]:
    """The --corpus option: a JSONL file of real articles."""
    return click.option(
        "--corpus",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_CORPUS,
        show_default=True,
        help=what,
    )


@click.group("eval")
def eval_group() -> None:
    """Build labeled evaluation sets from real articles, and measure detection on them."""


@eval_group.command("build")
@corpus_option("JSONL of articles (id, title, text).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-data"),
    show_default=True,
    help="Folder for dev.jsonl and test.jsonl.",
)
@click.option("--seed", default=2025, show_default=True, help="Seed of the transformations.")
def eval_build(corpus: Path, out: Path, seed: int) -> None:
    """Make dev and test sets: originals, their copies of every type, hard negatives.

    Example: dedup eval build --corpus ../shared/corpus/bbc.jsonl --out eval-data
    """
    from dedup.eval.synthetic import build, originals_of

    rows = read_jsonl(corpus, "corpus")
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
@click.option(
    "--ablation",
    is_flag=True,
    help="Run the set once per candidate generator switched off (five runs) and "
    "print recall per copy type for each.",
)
@click.option(
    "--stream",
    is_flag=True,
    help="Stream order (a file of the shared shape): every text, originals included, in one "
    "shuffled order; each verdict read back afterwards as GET /v1/articles/{id}/matches "
    "gives it.",
)
def eval_run(set_path: Path, json_path: Path | None, ablation: bool, stream: bool) -> None:
    """Ingest a labelled set through the API's code path and print what was found.

    A file of the shared shape (../shared/corpus/README.md: id, text, group, role) is scored
    by that README's protocol: recall per label, original-source accuracy, false-copy rate,
    beside exhaustive 3-gram containment (its bar chosen on the file at a false-copy rate of
    0.10) and datasketch LSH 0.5. A synthetic set (`dedup eval build`) gets recall,
    precision and original-source accuracy per copy type, and its false-copy rate.

    Examples: dedup eval run ../shared/corpus/meter-dev.jsonl;
    dedup eval run --stream ../shared/corpus/meter-dev.jsonl;
    dedup eval run eval-data/dev.jsonl --json eval-dev.json
    """
    from dedup.eval import evaluate, real

    items = read_jsonl(set_path, "set")
    if real.is_shared_shape(items):
        if ablation:
            raise UsageError("--ablation applies to synthetic sets (made by `dedup eval build`)")
        with open_runtime(settings()) as runtime, progress(len(items), "Evaluating") as bar:
            run = real.run_stream if stream else real.run
            outcomes = run(items, runtime, progress=bar.update)
        real_report = real.score(items, outcomes)
        click.echo(real.markdown(set_path.name, real_report))
        if json_path is not None:
            json_path.write_text(json.dumps(real_report, indent=2))
        return
    if "label" not in items[0]:
        raise UsageError(
            f"{set_path} holds no labelled items: give a file of the shared shape "
            "(id, text, group, role: see ../shared/corpus/README.md) or one made by "
            "`dedup eval build`"
        )
    runs = len(evaluate.ABLATIONS) if ablation else 1
    with open_runtime(settings()) as runtime, progress(len(items) * runs, "Evaluating") as bar:
        if ablation:
            results = evaluate.ablation(items, runtime, progress=bar.update)
        else:
            report = evaluate.run(items, runtime, progress=bar.update).as_dict()
    output: Any = results if ablation else report
    click.echo(evaluate.ablation_markdown(results) if ablation else evaluate.markdown(report))
    if json_path is not None:
        json_path.write_text(json.dumps(output, indent=2))


@eval_group.command("curve")
@click.argument(
    "set_paths",
    metavar="SET...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("curve.png"),
    show_default=True,
    help="The PNG to write.",
)
def eval_curve(set_paths: tuple[Path, ...], out: Path) -> None:
    """Draw recall against false-copy rate for the detector's reuse score and the 3-gram
    baseline on labelled sets of the shared shape (one panel each), with where each
    operates (drawn with matplotlib).

    Example: dedup eval curve ../shared/corpus/meter-dev.jsonl --out meter.png
    """
    from dedup.eval import real

    if out.suffix.lower() != ".png":
        raise UsageError(f"--out {out} must name a .png file")
    sets = [(path, read_jsonl(path, "set")) for path in set_paths]
    for path, items in sets:
        if not real.is_shared_shape(items):
            raise UsageError(
                f"{path} is not of the shared shape (id, text, group, role on every item)"
            )
    curves = []
    total = sum(len(items) for _, items in sets)
    with open_runtime(settings()) as runtime, progress(total, "Evaluating") as bar:
        for path, items in sets:
            outcomes = real.run(items, runtime, progress=bar.update)
            curves.append(real.curve(path.stem, items, outcomes))
    real.draw(curves, str(out))
    for c in curves:
        rate, recall = c.detector_point
        base_rate, base_recall = c.baseline_point
        click.echo(
            f"{c.name}: dedup recall {recall:.3f} at false-copy rate {rate:.3f}; "
            f"3-gram {base_recall:.3f} at {base_rate:.3f}"
        )
    click.echo(f"wrote {out}")


@eval_group.command("sites")
@corpus_option("JSONL of articles (id, title, text, meta.category).")
@click.option(
    "--split",
    type=click.Choice(["dev", "test"]),
    default="test",
    show_default=True,
    help="Which half of the corpus the ecosystem is made of.",
)
@click.option("--seed", default=2025, show_default=True, help="Seed of the simulation.")
@click.option(
    "--mixed",
    "mixed_seeds",
    default=None,
    metavar="SEEDS",
    help="Run the mixed-habit simulation instead, once per seed (comma-separated, e.g. 4,5,6).",
)
@click.option(
    "--newspapers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Score the sites of the METER file instead (../shared/corpus/meter-dev.jsonl): the "
    "Press Association as the wire (pa.media, in DEDUP_WIRE_SITES), the papers as sites.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full report as JSON here.",
)
def eval_sites(
    corpus: Path,
    split: str,
    seed: int,
    mixed_seeds: str | None,
    newspapers: Path | None,
    json_path: Path | None,
) -> None:
    """Simulate a news ecosystem from real articles (publishers, credited syndicators, five
    farms, independent reporters), score every site, and print the table, the ranking AUC
    of farms over non-farms and the other targets. With --mixed, sites mix their habits
    (publishers that syndicate, syndicators that forget credit, farms with several
    disguises and their own filler posts), drawn at random per seed.

    Examples: dedup eval sites --corpus ../shared/corpus/bbc.jsonl --split test;
    dedup eval sites --mixed 4,5,6
    """
    from dedup.eval import ecosystem, evaluate
    from dedup.eval.synthetic import originals_of, split_of

    if newspapers is not None:
        items = evaluate.newspaper_items(read_jsonl(newspapers, "newspaper file"))
        with open_runtime(settings()) as runtime, progress(len(items), "Counting") as bar:
            report = evaluate.run_sites(items, runtime, progress=bar.update)
        click.echo(evaluate.sites_markdown(report))
        farms = [r["site"] for r in report["sites"] if r["role"] == "farm"]
        click.echo(f"newspapers labelled farm: {', '.join(farms) if farms else 'none'}")
        if json_path is not None:
            json_path.write_text(json.dumps(report, indent=2))
        return
    rows = [r for r in originals_of(read_jsonl(corpus, "corpus")) if split_of(r["id"]) == split]
    seeds = [seed]
    if mixed_seeds is not None:
        try:
            seeds = [int(s) for s in mixed_seeds.split(",") if s.strip()]
        except ValueError as exc:
            raise UsageError(f"--mixed takes whole numbers separated by commas: {exc}") from exc
        if not seeds:
            raise UsageError("--mixed needs at least one seed, e.g. --mixed 4,5,6")
    reports = []
    for one in seeds:
        try:
            items = (
                ecosystem.build_mixed(rows, seed=one)
                if mixed_seeds is not None
                else ecosystem.build(rows, seed=one)
            )
        except (ValueError, KeyError, IndexError) as exc:
            raise UsageError(f"cannot build the ecosystem from {corpus}: {exc}") from exc
        with open_runtime(settings()) as runtime, progress(len(items), "Simulating") as bar:
            report = evaluate.run_sites(items, runtime, progress=bar.update)
        report["seed"] = one
        reports.append(report)
        click.echo(f"\nseed {one}\n" + evaluate.sites_markdown(report))
    if len(reports) > 1:
        click.echo("\n" + evaluate.seeds_summary(reports))
    if json_path is not None:
        json_path.write_text(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
