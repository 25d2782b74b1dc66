"""Bulk loads: an archive's articles stored in the index without explaining them
(`Detector.index_many`), in this process or in several worker processes at once.

Fingerprinting is CPU-bound Python, so one process uses one core; with `processes` > 1 each
worker process fingerprints and writes its own batches on its own connection (the index's
scripts store each article atomically and hand out ids in blocks, so workers never clash; a
url sent twice is stored once). The batches' outcomes come back in order.
"""

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

from dedup.config import Settings
from dedup.core.article import ArticleInput
from dedup.errors import DedupError
from dedup.runtime import Runtime, open_runtime

Batch = list[tuple[str, ArticleInput]]  # (the item's name in the report, the article)
Outcome = tuple[str, str | None, bool]  # (name, the error that kept it out, newly stored)


@dataclass
class LoadCounts:
    """What a load did, item by item."""

    stored: int = 0
    already_stored: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)  # "name: reason", one a failed item

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for name, error, created in outcomes:
            if error is not None:
                self.failed += 1
                self.failures.append(f"{name}: {error}")
            elif created:
                self.stored += 1
            else:
                self.already_stored += 1


def load_batch(runtime: Runtime, batch: Batch, leads: bool) -> list[Outcome]:
    """Store one batch (one round trip); an unexpected failure fails its items with the
    reason instead of ending the load."""
    try:
        found = runtime.detector.index_many([article for _, article in batch], leads=leads)
    except Exception as exc:
        reason = f"the batch failed: {type(exc).__name__}: {exc}"
        return [(name, reason, False) for name, _ in batch]
    return [
        (name, str(outcome), False) if isinstance(outcome, DedupError) else (name, None, outcome[1])
        for (name, _), outcome in zip(batch, found, strict=True)
    ]


def load(
    runtime: Runtime,
    batches: Iterable[Batch],
    *,
    leads: bool = False,
    processes: int = 1,
    done: Callable[[int], None] = lambda n: None,
) -> LoadCounts:
    """Store every batch, in `processes` worker processes when more than one (each with its
    own connection to this runtime's Redis); `done` is told how many items each finished
    batch held."""
    counts = LoadCounts()
    for outcomes in _outcomes(runtime, batches, leads, processes):
        counts.add(outcomes)
        done(len(outcomes))
    return counts


def _outcomes(
    runtime: Runtime, batches: Iterable[Batch], leads: bool, processes: int
) -> Iterator[list[Outcome]]:
    if processes <= 1:
        for batch in batches:
            yield load_batch(runtime, batch, leads)
        return
    # The workers reach the same server: the embedded one through its socket's url.
    settings = runtime.settings.model_copy(update={"redis_url": runtime.redis_url})
    context = multiprocessing.get_context("spawn")  # no forked Redis connections or locks
    with context.Pool(processes, initializer=_start, initargs=(settings, leads)) as pool:
        yield from pool.imap(_work, batches)


# -- in a worker process ------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _start(settings: Settings, leads: bool) -> None:
    """A worker's runtime, open for the worker's life (the pool ends the process)."""
    stack = ExitStack()
    _WORKER["runtime"] = stack.enter_context(open_runtime(settings))
    _WORKER["leads"] = leads
    _WORKER["stack"] = stack


def _work(batch: Batch) -> list[Outcome]:
    runtime = _WORKER["runtime"]
    assert isinstance(runtime, Runtime)
    return load_batch(runtime, batch, bool(_WORKER["leads"]))
