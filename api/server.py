"""Running the API: uvicorn with limits on slow and idle clients, in one or more processes.

uvicorn closes idle keep-alive connections, but waits for the headers of a request forever:
a client that sends half a request head holds its connection (and a slot) as long as it
likes. `HeaderTimeoutProtocol` closes a connection whose request head has not arrived
`DEDUP_HEADER_TIMEOUT_SECONDS` after it began; the body's own time limit is the request
guard's (`api.guard`, 408). `DEDUP_MAX_CONNECTIONS` bounds concurrent connections and tasks
(503 beyond it, uvicorn's `limit_concurrency`).
"""

import asyncio
import ipaddress
import logging
import os
import shutil
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from api.main import create_app
from dedup.config import Settings, load_settings
from dedup.errors import InvalidSettings
from dedup.logs import configure_logging

log = logging.getLogger("dedup.api")

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_HEAD_BYTES = 65_536
LINGER_SECONDS = 1.0  # after a 431, how long the rest of the head is read and dropped


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that closes a connection whose request head is late, or
    larger than DEDUP_MAX_HEAD_BYTES (431 first: uvicorn and httptools take a head of any
    size, and 28 heads of 64 MB held 2.4 GB for minutes)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = float(
            getattr(config, "header_timeout_seconds", DEFAULT_HEADER_TIMEOUT_SECONDS)
        )
        self.max_head_bytes = int(getattr(config, "max_head_bytes", DEFAULT_MAX_HEAD_BYTES))
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True  # bytes received now belong to a request head
        self._head_bytes = 0
        self._discarding = False

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return  # answered 431: the rest is read and dropped until the connection closes
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._head_too_large()
                return
        super().data_received(data)

    def _head_too_large(self) -> None:
        self._disarm()
        self._in_head = False
        if self.transport.is_closing():
            return
        body = (
            b'{"error":"RequestHeaderFieldsTooLarge","detail":"the request head is over '
            + str(self.max_head_bytes).encode()
            + b' bytes (DEDUP_MAX_HEAD_BYTES): send fewer or shorter headers"}'
        )
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        # A close with unread bytes would reset the connection before the client reads the
        # answer: end our side, drop what still comes, and close a moment later.
        self._discarding = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # the first request's head must arrive in time

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # ... and every next request's head on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request on a kept-alive connection starts with a head

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def app_from_environment() -> Any:
    """The app of one server process, from the DEDUP_* environment (uvicorn's factory when
    several processes serve: each makes its own)."""
    settings = load_settings()
    configure_logging(settings)
    return create_app(settings)


def is_loopback(host: str) -> bool:
    """Whether a bind address is reachable only from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_open_door(settings: Settings, host: str) -> None:
    """DEDUP_AUTH=off only on loopback: anyone who reaches the port could store and delete."""
    if settings.auth == "off" and not is_loopback(host):
        raise InvalidSettings(
            f"DEDUP_AUTH=off is refused on {host!r}: without keys anyone who reaches the "
            "port can store, delete and cancel. Bind a loopback address (--host 127.0.0.1) "
            "for experiments, or keep DEDUP_AUTH=on and make keys with `dedup keys create`"
        )


def config_for(settings: Settings, host: str, port: int, workers: int) -> uvicorn.Config:
    app: Any = "api.server:app_from_environment" if workers > 1 else create_app(settings)
    config = uvicorn.Config(
        app,
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        http=HeaderTimeoutProtocol,
        log_level=settings.log_level.lower(),
        log_config=None,  # the root logger's handler (dedup.logs): one format for every line
        access_log=False,  # dedup.services.access writes one line per answer, with its request id
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=30,
    )
    config.header_timeout_seconds = settings.header_timeout_seconds  # type: ignore[attr-defined]
    config.max_head_bytes = settings.max_head_bytes  # type: ignore[attr-defined]
    return config


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Run the API until SIGTERM or Ctrl-C, in `workers` processes sharing one socket."""
    refuse_open_door(settings, host)
    if settings.auth == "off":
        log.warning("DEDUP_AUTH=off: requests need no key (loopback %s only)", host)
    if workers > 1:  # the processes' metrics, summed by whichever answers GET /metrics
        shared = settings.data_dir / "metrics" / str(os.getpid())
        shutil.rmtree(shared, ignore_errors=True)
        shared.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    config = config_for(settings, host, port, workers)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    socket = config.bind_socket()
    try:
        Multiprocess(config, sockets=[socket]).run()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
