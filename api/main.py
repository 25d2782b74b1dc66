"""The FastAPI application: lifespan, the request guard, error translation, routers.

Every error is JSON `{"error": kind, "detail": message}` (422s add `errors`, 500s add
`request_id`), whichever layer raises it: the guard, FastAPI's routing and validation, the
error tree, or a bug. The OpenAPI document declares those shapes and every status an
operation can answer with.
"""

import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from api.guard import Guard, allowed_methods
from api.metrics import MeasureRequests, Metrics
from api.metrics import router as metrics_router
from api.openapi import document
from api.routes import admin, articles, check, health, scans, sites
from api.web import routes as web
from dedup import __version__
from dedup.config import Settings, get_settings
from dedup.errors import DedupError, QuotaExceeded, StoreUnavailable, Unauthorized
from dedup.runtime import open_runtime
from dedup.services.input import describe

log = logging.getLogger("dedup.api")

HTTP_ERRORS = {
    400: "InvalidBody",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "BodyTooLarge",
    415: "UnsupportedMediaType",
}


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; `settings` default to the environment (DEDUP_*)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            runtime.jobs.require()  # follow-ups need a queue: say so now, not per request
            # The encoder's weights (~1 s) load beside the first requests, not inside one.
            threading.Thread(target=runtime.detector.warm, name="encoder", daemon=True).start()
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
    app.state.metrics = metrics = Metrics()
    origins = settings.cors_origin_list
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["content-type", "authorization", "x-request-id"],
            expose_headers=["x-request-id"],
        )
    app.add_middleware(
        Guard,
        max_body_bytes=settings.max_body_bytes,
        trusted_hosts=settings.trusted_host_list,
        body_timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(MeasureRequests, metrics=metrics)  # outermost: counts the guard's too

    @app.exception_handler(web.NeedsLogin)
    async def needs_login(request: Request, exc: web.NeedsLogin) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(DedupError)
    async def dedup_error(request: Request, exc: DedupError) -> Response:
        if exc.status >= 500:
            log.warning(
                "%s %s -> %d %s: %s",
                request.method,
                request.url.path,
                exc.status,
                type(exc).__name__,
                exc,
            )
        response: Response = _error(exc.status, type(exc).__name__, str(exc))
        if web.is_page(request):  # the same words, as a page
            response = web.error_page(request, exc.status, type(exc).__name__, str(exc))
        if isinstance(exc, StoreUnavailable):
            metrics.redis_errors.inc()
        if isinstance(exc, QuotaExceeded):
            response.headers.update(exc.headers)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="dedup"'
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        kind = HTTP_ERRORS.get(exc.status_code, "HTTPError")
        detail = str(exc.detail)
        if exc.status_code == 404:
            detail = f"no such route: {request.method} {request.url.path} (see /docs)"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path} (see /docs)"
        elif exc.status_code == 400:
            detail = f"the body could not be read as JSON: {exc.detail}"
        response: Response = _error(exc.status_code, kind, detail)
        if web.is_page(request):
            response = web.error_page(request, exc.status_code, kind, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request.scope) or ())
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if web.is_page(request):
            return web.error_page(request, 422, "ValidationError", describe(errors))
        if any(e.get("type") == "json_invalid" for e in errors):
            ctx = errors[0].get("ctx", {})
            return _error(
                400, "InvalidJSON", f"the body is not JSON: {ctx.get('error', 'parse error')}"
            )
        body: dict[str, Any] = {"error": "ValidationError", "detail": describe(errors)}
        # every error but the input itself, which may be a whole article
        trimmed = [{k: v for k, v in e.items() if k != "input"} for e in errors]
        body["errors"] = json.loads(json.dumps(trimmed, default=str))
        return JSONResponse(body, status_code=422)

    app.include_router(articles.router)
    app.include_router(check.router)
    app.include_router(scans.router)
    app.include_router(sites.router)
    app.include_router(admin.router)
    app.include_router(metrics_router)
    app.include_router(health.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.HERE / "static"), name="static")
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    return app
