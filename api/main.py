"""The FastAPI application: lifespan, body limits, error translation, routers."""

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.routes import articles, check, health, scans, sites
from dedup import __version__
from dedup.config import Settings, get_settings
from dedup.errors import DedupError
from dedup.input import describe, is_ndjson
from dedup.runtime import open_runtime

log = logging.getLogger("dedup.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


class BodyGuard:
    """Reject bodies over the limit (413) and bodies that are not UTF-8 (400) before routing.

    The body is read once, up to the limit, and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if scope["path"] == "/v1/scans" and is_ndjson(headers.get(b"content-type", b"")):
            await self.app(scope, receive, send)  # streamed line by line by the route itself
            return
        limit = self.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject_size(int(declared), scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject_size(size, scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            response = _error(
                400,
                "InvalidBody",
                f"the body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset "
                f"{exc.start}); send JSON encoded as UTF-8",
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject_size(self, size: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = _error(
            413,
            "BodyTooLarge",
            f"the body is {size} bytes or more; the limit is {self.max_body_bytes} bytes "
            "(DEDUP_MAX_BODY_BYTES)",
        )
        await response(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; `settings` default to the environment (DEDUP_*)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            runtime.jobs.has_workers()  # follow-ups need a queue: say so now, not per request
            log.info(
                "dedup %s ready on Redis %s (prefix %r)",
                __version__,
                runtime.redis_url,
                settings.key_prefix,
            )
            yield

    app = FastAPI(
        title="dedup",
        version=__version__,
        summary="Finds copies of news articles, their likely original, and the shared passages.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(DedupError)
    async def dedup_error(request: Request, exc: DedupError) -> JSONResponse:
        status = exc.status
        if status >= 500:
            log.warning(
                "%s %s -> %d %s: %s",
                request.method,
                request.url.path,
                status,
                type(exc).__name__,
                exc,
            )
        return _error(status, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            ctx = errors[0].get("ctx", {})
            return _error(
                400, "InvalidJSON", f"the body is not JSON: {ctx.get('error', 'parse error')}"
            )
        body = {"error": "ValidationError", "detail": describe(errors)}
        # every error but the input itself, which may be a whole article
        trimmed = [{k: v for k, v in e.items() if k != "input"} for e in errors]
        body["errors"] = json.loads(json.dumps(trimmed, default=str))
        return JSONResponse(body, status_code=422)

    app.include_router(articles.router)
    app.include_router(check.router)
    app.include_router(scans.router)
    app.include_router(sites.router)
    app.include_router(health.router)
    return app
