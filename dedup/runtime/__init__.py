"""The live parts of a process, wired once from the settings: Redis (given or embedded),
the stores, the HTML extractor, the detector, the job queue and the scan protocol.

The API, the workers, the CLI, the evaluation and the benchmarks all get theirs from
`open_runtime(settings)`; `Runtime.scoped(prefix)` gives the same parts on another key
prefix over the same connections (an evaluation's throwaway index).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from dedup.adapters.html import HtmlExtractor
from dedup.adapters.jobs import ChunkJob, Jobs, RqJobs
from dedup.config import Settings
from dedup.errors import InvalidSettings
from dedup.runtime.connect import connect, queue_client
from dedup.runtime.embedded import EmbeddedRedis
from dedup.services.access import Access
from dedup.services.detector import Detector
from dedup.services.hooks import Hooks
from dedup.services.lists import Lists
from dedup.services.reports import Reports
from dedup.services.scans import Scans
from dedup.services.sites import Sites
from dedup.store import Client, ScanStore, SiteStore, Store, drop_prefix
from dedup.store.access import AccessStore, PolicyStore
from dedup.store.hooks import HookStore
from dedup.store.reports import ReportStore

log = logging.getLogger(__name__)

__all__ = ["Runtime", "connect", "index_store", "open_runtime"]


class NoQueue:
    """The `Jobs` of a runtime without a worker queue (a Redis Cluster without
    DEDUP_QUEUE_URL): everything that would queue work says how to get one."""

    name = "(none)"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refuse(self) -> InvalidSettings:
        return InvalidSettings(self.reason)

    def queue_chunk(self, scan_id: str, chunk: int, attempt: int, timeout_seconds: int) -> None:
        raise self._refuse()

    def queue_followup(self, article_id: int) -> None:
        raise self._refuse()

    def queue_delivery(self, delivery_id: str) -> None:
        raise self._refuse()

    def chunk_job(self, scan_id: str, chunk: int, attempt: int) -> ChunkJob | None:
        raise self._refuse()

    def drop_chunk_job(self, scan_id: str, chunk: int, attempt: int) -> None:
        raise self._refuse()

    def has_workers(self) -> bool:
        raise self._refuse()

    def require(self) -> None:
        raise self._refuse()


def index_store(client: Client, settings: Settings) -> Store:
    """The index these settings name, on an open client."""
    return Store(
        client,
        settings.key_prefix,
        settings.anchor_cap,
        settings.shards,
        settings.index_group_bits,
    )


@dataclass(frozen=True, slots=True)
class Runtime:
    """The live parts of one process on one index (key prefix)."""

    settings: Settings
    redis_url: str
    client: Client
    queue_connection: redis.Redis | None  # None: no worker queue (see NoQueue)
    store: Store
    detector: Detector
    sites: Sites
    scan_store: ScanStore
    jobs: Jobs
    scans: Scans
    access: Access
    lists: Lists
    hooks: Hooks
    reports: Reports
    embedded: EmbeddedRedis | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        redis_url: str,
        client: Client,
        queue: redis.Redis | None,
        *,
        extractor: HtmlExtractor | None = None,
        embedded: EmbeddedRedis | None = None,
        queue_refusal: str = "",
    ) -> "Runtime":
        """The parts over open connections (nothing is started or connected here)."""
        prefix = settings.key_prefix
        store = index_store(client, settings)
        detector = Detector(store, settings, extractor)
        scan_store = ScanStore(client, prefix, settings.scan_ttl_seconds)
        jobs: Jobs = RqJobs(queue, prefix) if queue is not None else NoQueue(queue_refusal)
        lists = Lists(PolicyStore(client, prefix), settings.policy_refresh_seconds)
        detector.policy = lists.current
        hooks = Hooks(HookStore(client, prefix), settings, jobs.queue_delivery)
        sites = Sites(SiteStore(client, prefix), detector, jobs, settings, hooks)
        scans = Scans(detector, sites, scan_store, jobs, settings, hooks=hooks)
        return cls(
            settings,
            redis_url,
            client,
            queue,
            store,
            detector,
            sites,
            scan_store,
            jobs,
            scans,
            Access(AccessStore(client, prefix), settings),
            lists,
            hooks,
            Reports(ReportStore(client, prefix)),
            embedded,
        )

    def scoped(self, prefix: str, **changes: object) -> "Runtime":
        """The same connections on another key prefix (and settings changed as given): a
        throwaway index for an evaluation or a benchmark. `drop()` deletes it."""
        settings = self.settings.model_copy(update={"key_prefix": prefix, **changes})
        refusal = self.jobs.reason if isinstance(self.jobs, NoQueue) else ""
        return Runtime.build(
            settings,
            self.redis_url,
            self.client,
            self.queue_connection,
            extractor=self.detector.extractor,
            queue_refusal=refusal,
        )

    def ping(self) -> bool:
        """Whether Redis answers."""
        return self.store.ping()

    def drop(self) -> int:
        """Delete every key of this runtime's prefix and its queued jobs."""
        if isinstance(self.jobs, RqJobs):
            self.jobs.empty()
        return drop_prefix(self.client, self.settings.key_prefix)


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    """Connect to DEDUP_REDIS_URL, or start the embedded server; stop everything on exit."""
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir)
    url = settings.redis_url or embedded.url  # type: ignore[union-attr]
    extractor = HtmlExtractor(settings.html_timeout_seconds, settings.html_workers)
    client: Client | None = None
    queue: redis.Redis | None = None
    try:
        client = connect(url)
        refusal = ""
        try:
            queue = queue_client(settings.queue_url, url, client)
        except InvalidSettings as exc:  # only commands that queue work need it: they say so
            refusal = str(exc)
        yield Runtime.build(
            settings,
            url,
            client,
            queue,
            extractor=extractor,
            embedded=embedded,
            queue_refusal=refusal,
        )
    finally:
        extractor.close()
        if client is not None:
            client.close()
        if queue is not None and queue is not client:
            queue.close()
        if embedded is not None:
            embedded.stop()
