"""RQ jobs: plain functions of ids, run in a worker process on the runtime it installed.

Their dotted names and signatures are a contract with jobs already queued (see
`dedup.adapters.jobs`):
`workers.tasks.scan_chunk(scan_id, chunk)`, `workers.tasks.followup(article_id)` and
`workers.tasks.deliver(delivery_id)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from dedup.errors import InvalidSettings
from dedup.runtime import Runtime

_installed: list[Runtime] = []  # this process's runtime (a worker process installs one)


@contextmanager
def installed(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` the one the jobs of this process run on, while the block runs."""
    _installed.append(runtime)
    try:
        yield runtime
    finally:
        _installed.remove(runtime)


def current() -> Runtime:
    if not _installed:
        raise InvalidSettings(
            "this process runs no worker runtime: start workers with `dedup worker`"
        )
    return _installed[-1]


def scan_chunk(scan_id: str, chunk: int) -> dict[str, int]:
    """Ingest one chunk of a scan and record each line's result once."""
    return current().scans.run_chunk(scan_id, chunk)


def followup(article_id: str) -> dict[str, str | None]:
    """Count a stored article into its site's figures (once per article)."""
    return current().sites.followup(article_id)


def deliver(delivery_id: str) -> str:
    """Make one attempt of a webhook delivery and log it (retries are due later)."""
    return current().hooks.deliver(delivery_id)
