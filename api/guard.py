"""What every request passes before routing: a request id, the Host check, the media type,
the body's size, encoding and arrival time; and the last line of defence, where any
unexpected exception becomes a JSON 500 with the request id (and a log line with the same).

Pure ASGI (no BaseHTTPMiddleware): the body is read once, up to its limit, and replayed.
"""

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.routing import Match, Route

from dedup.logs import incident_id
from dedup.logs import request_id as current_request

log = logging.getLogger("dedup.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID = b"x-request-id"
ANSWER_HEADERS = "answer_headers"  # request state: headers a route or dependency adds
_GOOD_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
JSON_TYPES = (b"application/json",)
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")  # the pages' forms
API_PATHS = ("/v1/", "/metrics")  # JSON only: no page posts there
NDJSON_TYPES = (b"application/x-ndjson", b"application/ndjson", b"application/jsonl")
STREAMED_PATHS = ("/v1/scans",)  # NDJSON uploads these routes read line by line themselves
WITH_BODY = ("POST",)  # the only method with a body here; others go to routing (405)


def media_type(headers: dict[bytes, bytes]) -> bytes:
    """The media type of a Content-Type header, lower case, without parameters.

    >>> media_type({b"content-type": b"Application/JSON; charset=utf-8"})
    b'application/json'
    """
    return headers.get(b"content-type", b"").split(b";")[0].strip().lower()


def host_of(headers: dict[bytes, bytes]) -> str:
    """The host a request names (Host header), without its port; IPv6 without brackets.

    >>> host_of({b"host": b"[::1]:8000"}), host_of({b"host": b"Example.COM:80"})
    ('::1', 'example.com')
    """
    raw = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if raw.startswith("["):
        return raw[1 : raw.find("]")] if "]" in raw else raw
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def host_allowed(host: str, trusted: tuple[str, ...]) -> bool:
    """Whether a host is one of the trusted names ('*' any, '*.example.com' its subdomains).

    >>> host_allowed("api.example.com", ("*.example.com",)), host_allowed("evil.test", ())
    (True, False)
    """
    for name in trusted:
        if name == "*" or host == name:
            return True
        if name.startswith("*.") and host.endswith(name[1:]):
            return True
    return False


def error_body(status: int, error: str, detail: str, **extra: Any) -> bytes:
    return json.dumps({"error": error, "detail": detail, **extra}, separators=(",", ":")).encode()


async def send_error(send: Send, status: int, error: str, detail: str, **extra: Any) -> None:
    """A JSON error answer (the shape of every error this service gives)."""
    body = error_body(status, error, detail, **extra)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if "request_id" in extra:
        headers.append((REQUEST_ID, str(extra["request_id"]).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _size(count: int) -> str:
    """A byte count as a person reads it.

    >>> _size(2_000_000), _size(3_250_000), _size(900)
    ('2 MB', '3.2 MB', '900 bytes')
    """
    if count < 1_000_000:
        return f"{count:,} bytes" if count < 1_000 else f"{count / 1000:.0f} kB"
    return f"{count / 1_000_000:.1f}".removesuffix(".0") + " MB"


def _routes(routes: Any) -> Any:
    """Every plain route under the app's, the included routers' own routes included (FastAPI
    wraps an included router; this app includes each with its own prefix, none added)."""
    for route in routes:
        if isinstance(route, Route):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)


def allowed_methods(scope: Scope) -> list[str] | None:
    """The methods a path takes (what a 405's Allow header lists, every route of the path
    together) when the request's method is not one of them; [] when no route has the path;
    None when some route takes the request as it is."""
    router = getattr(scope.get("app"), "router", None)
    taken: set[str] = set()
    for route in _routes(getattr(router, "routes", ())):
        matched, _ = route.matches(scope)
        if matched is Match.FULL:
            return None
        if matched is Match.PARTIAL and route.methods:
            taken |= route.methods
    return sorted(taken)


class Guard:
    """Request ids, Host and media-type checks, body limits, and the JSON 500."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        trusted_hosts: tuple[str, ...],
        body_timeout_seconds: float,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.trusted_hosts = trusted_hosts
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        given = headers.get(REQUEST_ID, b"")
        request_id = given.decode() if _GOOD_ID.match(given) else incident_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                given = message.get("headers", [])
                named = {name.lower() for name, _ in given}
                extra = scope["state"].get(ANSWER_HEADERS, {})
                message["headers"] = [
                    *given,
                    (REQUEST_ID, request_id.encode()),
                    *(
                        (k.lower().encode(), v.encode())
                        for k, v in extra.items()
                        if k.lower().encode() not in named  # the answer's own win (a 429's)
                    ),
                ]
            await send(message)

        token = current_request.set(request_id)  # on every log line written meanwhile
        try:
            await self._checked(scope, headers, receive, send_with_id)
        except Exception:
            log.exception("%s %s failed unexpectedly", scope["method"], scope["path"])
            if started:
                raise  # the answer is on its way: nothing better to send than a cut connection
            await send_error(
                send,
                500,
                "InternalError",
                f"an unexpected error; it is logged as [{request_id}]: retry, or report the id",
                request_id=request_id,
            )
        finally:
            current_request.reset(token)

    async def _checked(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, send: Send
    ) -> None:
        host = host_of(headers)
        if not host_allowed(host, self.trusted_hosts):
            await send_error(
                send,
                400,
                "InvalidHost",
                f"this service does not answer for host {host!r}; add it to DEDUP_TRUSTED_HOSTS "
                "if it is really this service's name",
            )
            return
        if scope["method"] not in WITH_BODY or allowed_methods(scope) is not None:
            # no body to check, or no route takes the request: the router's 404 or 405
            # (with every method the path takes in Allow) says so before any 415 would
            await self.app(scope, receive, send)
            return
        kind = media_type(headers)
        streamed = scope["path"] in STREAMED_PATHS and kind in NDJSON_TYPES
        if streamed:
            await self.app(scope, receive, send)  # read line by line by the route itself
            return
        form = kind in FORM_TYPES and not scope["path"].startswith(API_PATHS)
        if kind not in JSON_TYPES and not form:
            accepted = "application/json" + (
                " (or application/x-ndjson for an upload)"
                if scope["path"] in STREAMED_PATHS
                else ""
            )
            shown = kind.decode("latin-1") or "none"
            await send_error(
                send,
                415,
                "UnsupportedMediaType",
                f"the body's Content-Type is {shown}; send {accepted}",
            )
            return
        body = await self._read_body(scope, headers, receive, send, utf8=kind != FORM_TYPES[1])
        if body is None:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(
        self,
        scope: Scope,
        headers: dict[bytes, bytes],
        receive: Receive,
        send: Send,
        utf8: bool = True,
    ) -> bytes | None:
        """The whole body, or None when an error was answered (too large, too slow, not UTF-8,
        or the client went away)."""
        limit = self.max_body_bytes
        page = not scope["path"].startswith(API_PATHS)  # a form of the pages
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(int(declared), send, page)
            return None
        chunks: list[bytes] = []
        size = 0
        more = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_seconds
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                await send_error(
                    send,
                    408,
                    "RequestTimeout",
                    f"the body did not arrive within {self.body_timeout_seconds:g} s "
                    "(DEDUP_BODY_TIMEOUT_SECONDS)",
                )
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(size, send, page)
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if not utf8:  # a multipart form: its files are checked where they are read
            return body
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            await send_error(
                send,
                400,
                "InvalidBody",
                f"the body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset "
                f"{exc.start}); send JSON encoded as UTF-8",
            )
            return None
        return body

    async def _too_large(self, size: int, send: Send, page: bool = False) -> None:
        if page:  # a form of the pages: a page that says it in words, not a JSON body
            text = (
                f"That file is {_size(size)} or more, over the {_size(self.max_body_bytes)} a "
                "page may send (DEDUP_MAX_BODY_BYTES). Split it, or send it to POST /v1/scans, "
                "which takes an NDJSON upload of any size as it streams."
            )
            body = (
                '<!doctype html><html lang="en"><meta charset="utf-8"><title>Too large</title>'
                '<link rel="stylesheet" href="/static/app.css"><main><section class="problem" '
                f'role="alert"><h1>Too large to send</h1><p class="detail">{text}</p>'
                '<p><a href="javascript:history.back()">Back</a> &middot; <a href="/">Check'
                "</a></p></section></main></html>"
            ).encode()
            headers = [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send_error(
            send,
            413,
            "BodyTooLarge",
            f"the body is {size} bytes or more; the limit is {self.max_body_bytes} bytes "
            "(DEDUP_MAX_BODY_BYTES)",
        )
