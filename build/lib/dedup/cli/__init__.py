"""The `dedup` command: one group of subcommands, one place where errors become exits.

Subcommands live beside this module by topic (`scan.py`: scanning, loading and checking;
`sites.py`: site profiles; `admin.py`: keys, watched sites, exclusions, webhooks;
`evaluation.py`: evaluation sets). A `DedupError` prints
`Error: <what and how to fix it>` and exits with its class's code (see `dedup.errors`);
any other exception is a bug: its traceback goes to the log and the exit code is 70.
"""

import logging
import sys
from typing import Any

import click

from dedup import __version__
from dedup.cli import admin, batch, evaluation, scan, sites
from dedup.cli.common import settings
from dedup.errors import EXIT_BUG, DedupError
from dedup.logs import configure_logging

log = logging.getLogger("dedup.cli")


class DedupGroup(click.Group):
    """A click group that translates the error tree into exits, for every subcommand."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DedupError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception:
            log.exception("dedup failed unexpectedly (a bug: please report it with this log)")
            click.echo("Error: an unexpected failure; the log above has the details", err=True)
            ctx.exit(EXIT_BUG)


@click.group(cls=DedupGroup)
@click.version_option(__version__, prog_name="dedup")
def main() -> None:
    """Find copies of news articles, their likely original, and the shared passages.

    Settings come from DEDUP_* environment variables (see docs/settings.md). Without
    DEDUP_REDIS_URL an embedded Redis keeps the index in DEDUP_DATA_DIR.
    """
    try:
        configure_logging(settings())
    except DedupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)


@main.command()
@click.option("--host", default=None, help="Interface to listen on [DEDUP_API_HOST].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [DEDUP_API_PORT].")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes sharing the port (one per core uses every core).",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the REST API (OpenAPI docs at /docs).

    Example: dedup serve --port 8000 --workers 2
    """
    from api.server import serve as run_server

    config = settings()
    run_server(config, host or config.api_host, port or config.api_port, workers)


@main.command()
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes to run.",
)
def worker(processes: int) -> None:
    """Run worker processes for batch scans on the index's Redis (Ctrl-C to stop).

    Without DEDUP_REDIS_URL they share the embedded Redis of DEDUP_DATA_DIR. Dead workers are
    restarted, and chunks whose worker died are queued again.

    Example: dedup worker --processes 2
    """
    from workers.pool import Pool

    Pool(settings(), processes).run()


for command in (
    *scan.COMMANDS,
    *batch.COMMANDS,
    *sites.COMMANDS,
    *admin.COMMANDS,
    evaluation.eval_group,
):
    main.add_command(command)
