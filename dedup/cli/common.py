"""What every command shares: settings, the runtime, finding files, exits."""

import logging
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from dedup.config import Settings, load_settings
from dedup.errors import UsageError
from dedup.services.input import JSONL_SUFFIXES, find_files

log = logging.getLogger("dedup.cli")


def settings(**overrides: Any) -> Settings:
    """The DEDUP_* settings; an invalid one is InvalidSettings (exit 2) naming it."""
    return load_settings(**overrides)


def files_or_fail(paths: tuple[Path, ...], max_article_bytes: int | None = None) -> list[Path]:
    """The article files under the paths, or a usage error when there are none, or when a
    one-article file (.txt, .html) is over `max_article_bytes` (checked before any is read:
    the API refuses such a body at once, and reading one whole could take gigabytes)."""
    files = find_files(list(paths))
    if not files:
        raise UsageError("no .txt, .html, .htm, .jsonl or .ndjson files in the given paths")
    if max_article_bytes is not None:
        for file in files:
            if file.suffix.lower() not in JSONL_SUFFIXES:
                refuse_if_too_large(file, max_article_bytes)
    return files


def refuse_if_too_large(file: Path, limit: int) -> None:
    """UsageError (exit 2) when an article file is over the API's body limit."""
    size = file.stat().st_size
    if size > limit:
        raise UsageError(
            f"{file} is {size:,} bytes, over the {limit:,}-byte limit on one article "
            "(DEDUP_MAX_BODY_BYTES, as the API applies it); split it, or raise the setting"
        )


class Progress:
    """A progress bar on standard error whose rate and ETA are the articles done over the
    time since the first one finished: the first article pays for loading models and warming
    caches, so click's own ETA (from the first steps) read 3:54 for a 9 s scan."""

    WARM_ITEMS = 3  # no ETA is shown before this many articles after the first

    def __init__(self, length: int, label: str) -> None:
        self.length = max(length, 1)
        self.done = 0
        self._since: float | None = None  # when the first article finished
        self._first = 0
        self._bar = click.progressbar(
            length=self.length,
            label=label,
            show_pos=True,
            show_eta=False,
            file=sys.stderr,
            item_show_func=lambda shown: shown,
        )

    @property
    def label(self) -> str:
        return str(self._bar.label)

    @label.setter
    def label(self, text: str) -> None:
        self._bar.label = text

    def __enter__(self) -> "Progress":
        self._bar.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._bar.__exit__(kind, error, trace)

    def update(self, steps: int) -> None:
        self.done += steps
        now = time.monotonic()
        if self._since is None:
            self._since, self._first = now, self.done
        self._bar.update(steps, self.rate_text(now))

    def rate_text(self, now: float) -> str | None:
        """'12 articles/s, about 0:34 left', once enough articles are timed."""
        if self._since is None or self.done - self._first < self.WARM_ITEMS:
            return None
        rate = (self.done - self._first) / max(now - self._since, 1e-6)
        left = int((self.length - self.done) / rate)
        return f"{rate:.0f} articles/s, about {left // 60}:{left % 60:02d} left"


def progress(length: int, label: str) -> Progress:
    """A progress bar on standard error with a rate-based ETA (`Progress`)."""
    return Progress(length, label)
