"""/v1/scans: batch scans on the worker queue (inline JSON or a streamed NDJSON upload)."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from rq import Queue

from api.schemas import ErrorOut
from dedup.errors import InvalidArticle, ScanNotFound, ScanTooLarge
from dedup.input import is_ndjson
from dedup.runtime import Runtime
from workers.tasks import ScanWriter, queue_name, submit

router = APIRouter(prefix="/v1/scans", tags=["scans"])

MAX_INLINE_ARTICLES = 10_000
NDJSON_SCHEMA = {
    "type": "string",
    "description": "One article per line, shaped like the POST /v1/articles body.",
}


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class ScanIn(BaseModel):
    """Articles to scan, each shaped like the POST /v1/articles body. An invalid article is
    recorded as a failed item with its reason; it never fails the whole scan."""

    articles: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_INLINE_ARTICLES)


class ScanCreated(BaseModel):
    id: str
    status_url: str
    status: str
    total: int


class ScanOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    total: int
    processed: int
    stored: int = Field(description="Articles in the index from this scan (new or already there).")
    already_stored: int = Field(description="Of those, the ones that were stored before.")
    duplicates_found: int = Field(description="Articles with at least one verified copy.")
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class ResultsOut(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="In line order: the ingest response plus 'line' and 'error' (null if none)."
    )
    next_cursor: int | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


def _scan_out(scan_id: str, state: dict[str, str]) -> ScanOut:
    def when(name: str) -> datetime | None:
        return datetime.fromisoformat(state[name]) if state.get(name) else None

    names = ("total", "processed", "stored", "already_stored", "duplicates_found", "failed")
    counters = {name: int(state.get(name) or 0) for name in names}
    return ScanOut(
        id=scan_id,
        status=state["status"],  # type: ignore[arg-type]
        created_at=datetime.fromisoformat(state["created_at"]),
        started_at=when("started_at"),
        finished_at=when("finished_at"),
        error=state.get("error") or None,
        **counters,
    )


def _state(runtime: Runtime, scan_id: str) -> dict[str, str]:
    state = runtime.scans.get(scan_id) if scan_id.isalnum() else None
    if state is None:
        raise ScanNotFound(f"no scan with id {scan_id!r}")
    return state


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ScanCreated,
    responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ScanIn.model_json_schema()},
                "application/x-ndjson": {"schema": NDJSON_SCHEMA},
            }
        }
    },
)
async def create_scan(request: Request, runtime: RuntimeDep) -> ScanCreated:
    """Queue a batch scan: JSON `{"articles": [...]}` (up to DEDUP_MAX_BODY_BYTES), or an
    NDJSON upload (Content-Type application/x-ndjson, streamed, up to DEDUP_MAX_SCAN_BYTES)."""
    settings = runtime.settings
    queue = Queue(queue_name(settings), connection=runtime.queue_connection())
    scan_id = uuid.uuid4().hex[:16]
    if is_ndjson(request.headers.get("content-type", "").encode()):
        writer = await run_in_threadpool(ScanWriter, queue, runtime.scans, settings, scan_id)
        received, line, pending = 0, 0, b""
        async for piece in request.stream():
            received += len(piece)
            if received > settings.max_scan_bytes:
                await run_in_threadpool(runtime.scans.cancel, scan_id, datetime.now(UTC))
                raise ScanTooLarge(
                    f"the upload is over {settings.max_scan_bytes} bytes "
                    "(DEDUP_MAX_SCAN_BYTES); split it into several scans"
                )
            *complete, pending = (pending + piece).split(b"\n")
            for raw in complete:
                line += 1
                if writer.add(line, raw):
                    await run_in_threadpool(writer.flush)
        if pending:
            writer.add(line + 1, pending)
        state = await run_in_threadpool(writer.close)
    else:
        try:
            body = ScanIn.model_validate_json(await request.body())
        except ValueError as exc:
            raise InvalidArticle(
                f'expected {{"articles": [...]}} or an NDJSON upload: {exc}'
            ) from exc

        lines = ((n, json.dumps(article)) for n, article in enumerate(body.articles, 1))
        state = await run_in_threadpool(submit, lines, queue, runtime.scans, settings, scan_id)
    return ScanCreated(
        id=scan_id,
        status_url=f"/v1/scans/{scan_id}",
        status=state["status"],
        total=int(state["total"]),
    )


@router.get("", response_model=list[ScanOut])
def list_scans(runtime: RuntimeDep, limit: int = Query(20, ge=1, le=200)) -> list[ScanOut]:
    """The most recent scans, newest first."""
    found = []
    for scan_id in runtime.scans.recent(limit):
        state = runtime.scans.get(scan_id)
        if state is not None:
            found.append(_scan_out(scan_id, state))
    return found


@router.get("/{scan_id}", response_model=ScanOut, responses={404: {"model": ErrorOut}})
def get_scan(scan_id: str, runtime: RuntimeDep) -> ScanOut:
    """A scan's status and counters (processed = stored + failed)."""
    return _scan_out(scan_id, _state(runtime, scan_id))


@router.get(
    "/{scan_id}/results",
    response_model=ResultsOut,
    responses={404: {"model": ErrorOut}, 200: {"content": {"application/x-ndjson": {}}}},
)
def scan_results(
    scan_id: str,
    runtime: RuntimeDep,
    cursor: int = Query(0, ge=0, description="Line number after which to start."),
    limit: int = Query(100, ge=1, le=1000),
    format: Literal["json", "ndjson"] = "json",
) -> Any:
    """Per-article results in line order: pages of JSON, or every result streamed as NDJSON."""
    _state(runtime, scan_id)
    if format == "ndjson":

        def stream() -> Iterator[bytes]:
            after: int | None = cursor
            while after is not None:
                items, after = runtime.scans.results(scan_id, after, 500)
                for item in items:
                    yield json.dumps(item).encode() + b"\n"

        return StreamingResponse(stream(), media_type="application/x-ndjson")
    items, next_cursor = runtime.scans.results(scan_id, cursor, limit)
    return ResultsOut(items=items, next_cursor=next_cursor)


@router.delete(
    "/{scan_id}",
    response_model=ScanOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def cancel_scan(scan_id: str, runtime: RuntimeDep) -> Any:
    """Cancel a queued or running scan: chunks not started are skipped, running ones stop
    within 25 articles. Results recorded so far are kept."""
    state = _state(runtime, scan_id)
    if state["status"] not in ("queued", "running"):
        return JSONResponse(
            {
                "error": "ScanFinished",
                "detail": f"scan {scan_id} is {state['status']}; nothing to cancel",
            },
            status_code=409,
        )
    runtime.scans.cancel(scan_id, datetime.now(UTC))
    return _scan_out(scan_id, _state(runtime, scan_id))
