"""`dedup batch`: a dump's copy pairs and per-site sums as Parquet (dedup/services/batch.py)."""

from pathlib import Path

import click

from dedup.cli.common import files_or_fail, settings
from dedup.errors import UsageError


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for pairs.parquet, sites.parquet and errors.parquet.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this process; ray: Ray Data (a local Ray, or the cluster RAY_ADDRESS names).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 4096),
    default=2,
    show_default=True,
    help="CPUs of the local Ray (--engine ray).",
)
def batch(paths: tuple[Path, ...], out: Path, engine: str, workers: int) -> None:
    """Find every copy pair in .jsonl/.ndjson dumps, with no index: directed pairs (copy,
    original) and per-site sums, written as Parquet. Nothing is stored in Redis.

    Example: dedup batch dump/*.ndjson --out results --engine ray --workers 2
    """
    from dedup.services.batch import run_local, run_ray, write_parquet

    files = [f for f in files_or_fail(paths) if f.suffix in (".jsonl", ".ndjson")]
    if not files:
        raise UsageError("dedup batch reads .jsonl or .ndjson dumps (one article a line)")
    config = settings()
    result = run_ray(files, config, workers) if engine == "ray" else run_local(files, config)
    write_parquet(result, out)
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.stages.items())
    click.echo(
        f"{result.articles} articles, {result.candidates} candidate pairs, "
        f"{len(result.pairs)} copy pairs, {len(result.errors)} lines refused; "
        f"{result.seconds:.1f} s ({stages}); written to {out}",
        err=True,
    )


COMMANDS = (batch,)
