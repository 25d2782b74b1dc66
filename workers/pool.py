"""`dedup worker`: N RQ worker processes on the index's Redis, kept alive, plus the reaper.

The parent starts (or joins) the Redis, starts N processes that each run an RQ SimpleWorker
(jobs run in the worker process itself: no fork per job), restarts any that die, and every
second queues again the chunks whose worker died (`workers.tasks.reap`) and evicts one batch
of articles past the retention window (`DEDUP_RETENTION_DAYS`). On SIGTERM or
Ctrl-C it asks the workers to finish their current job, then stops them and the embedded
Redis it started.
"""

import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from rq import Queue, SimpleWorker

from dedup.config import Settings, get_settings
from dedup.detector import Detector, evict_expired
from dedup.embedded import EmbeddedRedis
from dedup.errors import StoreUnavailable
from dedup.runtime import connect, queue_client
from dedup.store import ScanStore, SiteStore, Store
from workers.tasks import queue_name, reap

log = logging.getLogger(__name__)

REAP_EVERY_SECONDS = 1.0
STOP_GRACE_SECONDS = 30.0  # a worker finishing its current chunk on SIGTERM


def work(redis_url: str, burst: bool = False) -> None:
    """Body of one worker process: an RQ SimpleWorker on this index's queue."""
    os.environ["DEDUP_REDIS_URL"] = redis_url  # jobs read their settings from the environment
    get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    connection = queue_client(settings, redis_url)
    queue = Queue(queue_name(settings), connection=connection)
    name = f"dedup-{socket.gethostname()}-{os.getpid()}"
    SimpleWorker([queue], connection=connection, name=name).work(
        burst=burst, with_scheduler=False, logging_level=settings.log_level.upper()
    )


class Pool:
    """N worker processes, restarted when they die, and the reaper."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._context = multiprocessing.get_context("spawn")
        self._children: list[BaseProcess] = []
        self._stopping = False

    def _spawn(self, url: str) -> BaseProcess:
        child = self._context.Process(target=work, args=(url,), name="dedup-worker")
        child.start()
        log.info("worker process %d started", child.pid)
        return child

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current jobs", signum)
        self._stopping = True

    def run(self) -> None:
        """Run until SIGTERM or SIGINT."""
        embedded = None if self.settings.redis_url else EmbeddedRedis(self.settings.data_dir)
        url = self.settings.redis_url or embedded.url  # type: ignore[union-attr]
        client = connect(url)
        queue_connection = queue_client(self.settings, url, client)
        queue = Queue(queue_name(self.settings), connection=queue_connection)
        scans = ScanStore(client, self.settings.key_prefix, self.settings.scan_ttl_seconds)
        detector = Detector(Store.for_settings(client, self.settings),
                            self.settings)  # fmt: skip
        sites = SiteStore(client, self.settings.key_prefix)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            self._children = [self._spawn(url) for _ in range(self.processes)]
            log.info("%d worker(s) on queue %r, Redis %s", self.processes, queue.name, url)
            while not self._stopping:
                for index, child in enumerate(self._children):
                    if not child.is_alive():
                        log.warning("worker process %d died (exit %s); starting another",
                                    child.pid, child.exitcode)  # fmt: skip
                        self._children[index] = self._spawn(url)
                try:
                    reap(queue, scans, self.settings)
                    evict_expired(detector, sites)  # one bounded batch per round
                except StoreUnavailable as exc:
                    log.warning("reaper: %s", exc)
                time.sleep(REAP_EVERY_SECONDS)
        finally:
            self._shutdown()
            client.close()
            if queue_connection is not client:
                queue_connection.close()
            if embedded is not None:
                embedded.stop()

    def _shutdown(self) -> None:
        for child in self._children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signal.SIGTERM)  # RQ: warm shutdown after the current job
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self._children:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                log.warning("worker process %d did not stop in time; killing it", child.pid)
                child.kill()
                child.join()
