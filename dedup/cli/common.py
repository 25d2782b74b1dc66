"""What every command shares: settings, the runtime, finding files, exits."""

import logging
import sys
from pathlib import Path
from typing import Any

import click

from dedup.config import Settings, load_settings
from dedup.errors import UsageError
from dedup.services.input import find_files

log = logging.getLogger("dedup.cli")


def settings(**overrides: Any) -> Settings:
    """The DEDUP_* settings; an invalid one is InvalidSettings (exit 2) naming it."""
    return load_settings(**overrides)


def files_or_fail(paths: tuple[Path, ...]) -> list[Path]:
    """The article files under the paths, or a usage error when there are none."""
    files = find_files(list(paths))
    if not files:
        raise UsageError("no .txt, .html, .htm, .jsonl or .ndjson files in the given paths")
    return files


def progress(length: int, label: str) -> Any:
    """A progress bar on standard error (articles/s and ETA)."""
    return click.progressbar(
        length=max(length, 1), label=label, show_pos=True, show_eta=True, file=sys.stderr
    )
