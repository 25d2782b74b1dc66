"""`dedup worker`: N RQ worker processes on the index's Redis, kept alive, plus the reaper.

The parent starts (or joins) the Redis, starts N processes that each run an RQ SimpleWorker
(jobs run in the worker process itself: no fork per job) on a runtime of their own, restarts
any that die, and every second queues again the chunks whose worker died (`Scans.reap`),
queues the webhook deliveries that are due (`Hooks.pump`), and evicts one batch of articles
past the retention window (`DEDUP_RETENTION_DAYS`). On SIGTERM
or Ctrl-C it asks the workers to finish their current job, then stops them and the embedded
Redis it started. Settings reach the worker processes as an argument, never through the
environment.
"""

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from rq import SimpleWorker

from dedup.adapters.jobs import RqJobs
from dedup.config import Settings
from dedup.errors import StoreUnavailable
from dedup.logs import configure_logging
from dedup.runtime import Runtime, open_runtime
from dedup.services.retention import evict_expired
from workers.tasks import installed

log = logging.getLogger(__name__)

REAP_EVERY_SECONDS = 1.0
CLEAN_EVERY_ROUNDS = 30  # RQ's cleanup of jobs abandoned by workers on any machine
STOP_GRACE_SECONDS = 30.0  # a worker finishing its current chunk on SIGTERM


def worker_name(pid: int) -> str:
    """The RQ name of the worker in process `pid` of this machine."""
    return f"dedup-{socket.gethostname()}-{pid}"


class QueueWorker(SimpleWorker):
    """RQ's SimpleWorker whose command channel (pubsub) polls every second instead of every
    60: RQ 3 stops that thread just after unsubscribing, and when the thread has already
    read the unsubscribe reply it waits out a whole poll for a subscription that never
    comes (redis-py 7's PubSubWorkerThread.stop joins it): a worker took up to 60 s to exit
    on SIGTERM."""

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux), so that a
    SIGKILLed `dedup worker` leaves no orphan taking jobs that nobody reaps; it then
    finishes its current job and exits, as on any SIGTERM."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        log.warning("this system cannot tie a worker's life to its pool's")
    if os.getppid() != parent:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def work(settings: Settings, burst: bool = False, parent: int | None = None) -> None:
    """Body of one worker process: an RQ SimpleWorker on this index's queue."""
    if parent is not None:
        die_with_parent(parent)
    configure_logging(settings)
    with open_runtime(settings) as runtime, installed(runtime):
        jobs = runtime.jobs
        assert isinstance(jobs, RqJobs), "open_runtime refuses a queue-less worker first"
        name = worker_name(os.getpid())
        QueueWorker([jobs.queue], connection=jobs.connection, name=name).work(
            burst=burst, with_scheduler=False, logging_level=settings.log_level.upper()
        )


class Pool:
    """N worker processes, restarted when they die, and the reaper."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._context = multiprocessing.get_context("spawn")
        self._children: list[BaseProcess] = []
        self._unrecovered: set[str] = set()  # dead workers whose jobs Redis kept us from
        self._stopping = False

    def _spawn(self, settings: Settings) -> BaseProcess:
        child = self._context.Process(
            target=work, args=(settings, False, os.getpid()), name="dedup-worker"
        )
        child.start()
        log.info("worker process %d started", child.pid)
        return child

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current jobs", signum)
        self._stopping = True

    def run(self) -> None:
        """Run until SIGTERM or SIGINT."""
        with open_runtime(self.settings) as runtime:
            runtime.jobs.require()  # a runtime without a queue says why, now
            # The children join the Redis this process started (or was given).
            child_settings = self.settings.model_copy(update={"redis_url": runtime.redis_url})
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
            try:
                self._children = [self._spawn(child_settings) for _ in range(self.processes)]
                log.info(
                    "%d worker(s) on queue %r, Redis %s",
                    self.processes,
                    runtime.jobs.name,
                    runtime.redis_url,
                )
                rounds = 0
                while not self._stopping:
                    self._keep_alive(runtime, child_settings)
                    self._housekeeping(runtime, clean=rounds % CLEAN_EVERY_ROUNDS == 0)
                    rounds += 1
                    time.sleep(REAP_EVERY_SECONDS)
            finally:
                self._shutdown()

    def _keep_alive(self, runtime: Runtime, settings: Settings) -> None:
        """Start a new process for each one that died, and queue again the follow-ups the
        dead ones were running (every round until Redis lets it)."""
        for index, child in enumerate(self._children):
            if child.is_alive():
                continue
            log.warning(
                "worker process %d died (exit %s); starting another", child.pid, child.exitcode
            )
            if child.pid is not None:
                self._unrecovered.add(worker_name(child.pid))
            self._children[index] = self._spawn(settings)
        if not isinstance(runtime.jobs, RqJobs):
            return
        for name in sorted(self._unrecovered):
            try:
                again = runtime.jobs.recover(name)
            except StoreUnavailable as exc:
                log.warning("could not recover the jobs of %s yet: %s", name, exc)
                return
            self._unrecovered.discard(name)
            if again:
                log.warning("queued again %d follow-up(s) %s was running", again, name)

    @staticmethod
    def _housekeeping(runtime: Runtime, *, clean: bool) -> None:
        try:
            runtime.scans.reap()
            runtime.hooks.pump()  # webhook deliveries that are due, onto the queue
            evict_expired(runtime.detector, runtime.sites)  # one bounded batch per round
            if clean and isinstance(runtime.jobs, RqJobs):
                runtime.jobs.clean_abandoned()
        except StoreUnavailable as exc:
            log.warning("reaper: %s", exc)

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
