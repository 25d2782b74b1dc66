"""/v1/scans: batch scans on the worker queue (inline JSON or a streamed NDJSON upload)."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from api.deps import (
    DELETE,
    READ,
    SCAN,
    GrantDep,
    RuntimeDep,
    ScansDep,
    answer_headers,
    scan_reader,
)
from api.schemas import ErrorOut, ResultsOut, ScanCreated, ScanIn, ScanOut, scan_item
from dedup.errors import DedupError, InvalidArticle, ScanTooLarge, UploadTimeout
from dedup.services.input import LineReader, is_ndjson

router = APIRouter(prefix="/v1/scans", tags=["scans"])

NDJSON_SCHEMA = {
    "type": "string",
    "description": "One article per line, shaped like the POST /v1/articles body.",
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ScanCreated,
    dependencies=[SCAN],
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
async def create_scan(
    request: Request, scans: ScansDep, runtime: RuntimeDep, grant: GrantDep
) -> ScanCreated:
    """Queue a batch scan: JSON `{"articles": [...]}` (up to DEDUP_MAX_BODY_BYTES), or an
    NDJSON upload (Content-Type application/x-ndjson, streamed, up to DEDUP_MAX_SCAN_BYTES).
    Its lines are charged to the key's articles a day a chunk at a time, as they arrive: an
    upload past the quota is refused with a 429 and its scan ends failed (chunks queued before
    it stay queued)."""
    settings = scans.settings
    access = runtime.access
    if is_ndjson(request.headers.get("content-type", "").encode()):
        writer = await run_in_threadpool(scans.writer, None, grant.digest)
        lines = LineReader(settings.max_line_bytes)
        received = uncharged = 0

        async def charged() -> None:
            nonlocal grant, uncharged
            try:
                grant = await run_in_threadpool(access.charge, grant, uncharged)
            except DedupError as exc:
                await run_in_threadpool(writer.abandon, f"refused: {exc}")
                raise
            uncharged = 0
            answer_headers(request, grant.headers)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.body_timeout_seconds
        pieces = request.stream().__aiter__()
        try:
            while True:
                try:
                    piece = await asyncio.wait_for(
                        pieces.__anext__(), max(0.0, deadline - loop.time())
                    )
                except StopAsyncIteration:
                    break
                received += len(piece)
                if received > settings.max_scan_bytes:
                    raise ScanTooLarge(
                        f"the upload is over {settings.max_scan_bytes} bytes "
                        "(DEDUP_MAX_SCAN_BYTES); split it into several scans"
                    )
                for number, raw, problem in lines.feed(piece):
                    uncharged += problem is None
                    full = (
                        writer.add(number, raw)
                        if problem is None
                        else writer.add_failed(number, problem)
                    )
                    if full:
                        await charged()
                        await run_in_threadpool(writer.flush)
        except TimeoutError:
            reason = (
                f"the upload did not arrive within {settings.body_timeout_seconds:g} s "
                f"(DEDUP_BODY_TIMEOUT_SECONDS; {received:,} bytes came)"
            )
            await run_in_threadpool(writer.abandon, reason)
            raise UploadTimeout(reason) from None
        except ClientDisconnect:  # nobody to answer: the scan says what happened
            ended = await run_in_threadpool(
                writer.abandon, f"the client went away after {received:,} bytes of the upload"
            )
            return ScanCreated.of(ended)
        except ScanTooLarge as exc:
            await run_in_threadpool(writer.abandon, str(exc))
            raise
        for number, raw, problem in lines.end():
            uncharged += problem is None
            if problem is None:
                writer.add(number, raw)
            else:
                writer.add_failed(number, problem)
        await charged()
        state = await run_in_threadpool(writer.close)
    else:
        try:
            body = ScanIn.model_validate_json(await request.body())
        except ValueError as exc:
            raise InvalidArticle(
                f'expected {{"articles": [...]}} or an NDJSON upload: {exc}'
            ) from exc
        grant = await run_in_threadpool(access.charge, grant, len(body.articles))
        answer_headers(request, grant.headers)
        articles = ((n, json.dumps(article)) for n, article in enumerate(body.articles, 1))
        state = await run_in_threadpool(scans.submit, articles, None, grant.digest)
    return ScanCreated.of(state)


@router.get("", response_model=list[ScanOut], dependencies=[READ])
def list_scans(
    scans: ScansDep, grant: GrantDep, limit: int = Query(20, ge=1, le=200)
) -> list[ScanOut]:
    """The most recent scans of this key (every key's, for an admin key), newest first."""
    return [ScanOut.of(state) for state in scans.recent(limit, scan_reader(grant))]


@router.get(
    "/{scan_id}",
    response_model=ScanOut,
    responses={404: {"model": ErrorOut}},
    dependencies=[READ],
)
def get_scan(scan_id: str, scans: ScansDep, grant: GrantDep) -> ScanOut:
    """A scan's status and counters (processed = stored + failed); 404 for another key's
    scan (an admin key reads every one)."""
    return ScanOut.of(scans.state(scan_id, scan_reader(grant)))


@router.get(
    "/{scan_id}/results",
    response_model=ResultsOut,
    responses={404: {"model": ErrorOut}, 200: {"content": {"application/x-ndjson": {}}}},
    dependencies=[READ],
)
def scan_results(
    scan_id: str,
    scans: ScansDep,
    grant: GrantDep,
    cursor: int = Query(0, ge=0, description="Line number after which to start."),
    limit: int = Query(100, ge=1, le=1000),
    format: Literal["json", "ndjson"] = "json",
) -> Any:
    """Per-article results in line order: pages of JSON, or every result streamed as NDJSON."""
    scans.state(scan_id, scan_reader(grant))
    if format == "ndjson":

        def stream() -> Iterator[bytes]:
            for item in scans.every_result(scan_id, cursor):
                yield json.dumps(scan_item(item)).encode() + b"\n"

        return StreamingResponse(stream(), media_type="application/x-ndjson")
    items, next_cursor = scans.results(scan_id, cursor, limit)
    return ResultsOut(items=[scan_item(i) for i in items], next_cursor=next_cursor)


@router.delete(
    "/{scan_id}",
    response_model=ScanOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    dependencies=[DELETE],
)
def cancel_scan(scan_id: str, scans: ScansDep, grant: GrantDep) -> ScanOut:
    """Cancel a queued or running scan of this key (any, for an admin key): chunks not
    started are skipped, running ones stop within 25 articles. Results recorded so far are
    kept. 409 once it has ended."""
    return ScanOut.of(scans.cancel(scan_id, scan_reader(grant)))
