"""The analyst's pages, served by `dedup serve` at `/`: server-rendered (Jinja2), on the same
detector, site store and scans as the API, with the same keys (kept in an HttpOnly,
SameSite=Strict cookie after the login form) and the same error messages.

Pages: check (paste or upload, store if asked), compare two texts, an article and its
matches, a stored pair side by side, the sites table, a site's dossier (charts and the copy
graph), scans (live progress, results, an NDJSON upload); CSV exports and a printable report.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import refund_article, scan_reader
from api.schemas import ArticleOut, CheckOut, ScanOut, SiteOut, SiteSummaryOut, scan_item
from api.web import charts, pdf
from api.web.views import (
    combined_segments,
    marker_spans,
    match_views,
    matches_csv,
    segments,
    to_csv,
)
from dedup.core.markers import find_markers
from dedup.errors import DedupError, Forbidden, InvalidArticle, Unauthorized
from dedup.runtime import Runtime
from dedup.services.access import Grant
from dedup.services.detector import COMPARED_ID
from dedup.services.input import ArticleIn, describe

COOKIE = "dedup_session"  # a page session's random token (the key stays on the server side)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


def is_page(request: Request) -> bool:
    """Whether the request was routed to a page (its errors are pages too, not JSON; an
    unknown path is the API's JSON 404)."""
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return getattr(endpoint, "__module__", None) == __name__


class NeedsLogin(Exception):
    """No key in the cookie, or one the deployment does not know: to the login form."""


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def grant(request: Request, scope: str, articles: int = 0) -> Grant:
    """The cookie's key, authorized for `scope` and charged as the API charges it."""
    runtime = runtime_of(request)
    token = request.cookies.get(COOKIE)
    if runtime.access.enabled and not token:
        raise NeedsLogin()
    if request.method == "POST":
        _same_origin(request)
    try:
        granted = runtime.access.authorize_session(token, scope, articles)
    except Unauthorized as exc:
        raise NeedsLogin() from exc
    request.state.grant = granted
    return granted


def _same_origin(request: Request) -> None:
    """A form posted from another site is refused (the cookie's SameSite=Strict already
    keeps the key off such a request; this says so plainly)."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden(f"a form from {origin} may not post to this service")


# Pages are never framed (clickjacking), run only this service's scripts, post forms only
# here; charts are inline SVG whose matplotlib styles are attributes, hence inline styles.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    answer = templates.TemplateResponse(
        request, name, {"key_name": _key_name(request), **context}, status_code=status
    )
    answer.headers.update(PAGE_HEADERS)
    return answer


def _key_name(request: Request) -> str | None:
    found = request.scope.get("state", {}).get("grant")
    return found.name if isinstance(found, Grant) else None


def error_page(request: Request, status: int, kind: str, detail: str) -> HTMLResponse:
    """An error as a page, in the API's words (never a stack trace)."""
    return page(request, "error.html", status, kind=kind, detail=detail)


def csv_response(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def off_loop(work: Callable[[], Any]) -> Any:
    """The detector's work in the thread pool: a page may hold HTML or a long text."""
    return await run_in_threadpool(work)


# -- login ----------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", next=_local(next), problem=None)


@router.post("/login")
def login(
    request: Request, key: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/"
) -> Response:
    _same_origin(request)
    access = runtime_of(request).access
    try:
        token = access.open_session(key)
    except DedupError as exc:
        return page(request, "login.html", exc.status, next=_local(next), problem=str(exc))
    answer = RedirectResponse(_local(next), status_code=303)
    answer.set_cookie(
        COOKIE,
        token,
        max_age=int(access.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/logout")
def logout(request: Request) -> Response:
    _same_origin(request)
    runtime_of(request).access.close_session(request.cookies.get(COOKIE))
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE)
    return answer


def _local(target: str) -> str:
    """Only a path of this service (no open redirect to another site)."""
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else "/"


# -- check and compare ----------------------------------------------------------------------


async def _article_from_form(
    prefix: str,
    url: str,
    text: str,
    file: UploadFile | None,
    site: str,
    published_at: str,
) -> ArticleIn:
    """The form's article, validated by the API's own model (so its errors read the same).
    A .html/.htm upload is HTML, any other upload plain text; an upload wins over the box."""
    fields: dict[str, Any] = {"url": url.strip() or f"https://{prefix}.unknown/"}
    if file is not None and file.filename:
        raw = await file.read()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArticle(f"{file.filename} is not UTF-8 text: {exc}") from exc
        kind = "html" if file.filename.lower().endswith((".html", ".htm")) else "text"
        fields[kind] = body
    elif text.strip():
        kind = "html" if text.lstrip().startswith("<") else "text"
        fields[kind] = text
    else:
        raise InvalidArticle(f"{prefix}: paste a text (or HTML), or upload a .txt or .html file")
    if site.strip():
        fields["site"] = site
    if published_at.strip():
        fields["published_at"] = published_at
    try:
        return ArticleIn(**fields)
    except ValidationError as exc:
        raise InvalidArticle(describe(exc.errors())) from exc


Text = Annotated[str, Form()]


@router.get("/")
def check_form(request: Request) -> HTMLResponse:
    grant(request, "check")
    return page(request, "check.html", form={}, answer=None)


@router.post("/check")
async def check(
    request: Request,
    url: Text = "",
    text: Text = "",
    site: Text = "",
    published_at: Text = "",
    store: Annotated[bool, Form()] = False,
    file: UploadFile | None = None,
    format: Text = "html",
) -> Response:
    """Check (or store, if asked) a pasted or uploaded article and show the evidence."""
    grant(request, "ingest" if store else "check", articles=1)
    runtime = runtime_of(request)
    detector = runtime.detector
    try:
        article = await _article_from_form("article", url, text, file, site, published_at)
        if store:
            result = await off_loop(partial(detector.ingest, article.to_input(), related=True))
            runtime.sites.finish_ingest(result, deferred=True)
        else:
            result = await off_loop(partial(detector.check, article.to_input(), related=True))
    except DedupError as exc:  # shown above the form, the pasted text kept
        if isinstance(exc, InvalidArticle):
            refund_article(request)
        form = {"url": url, "text": text, "site": site, "published_at": published_at}
        return page(request, "check.html", exc.status, form=form, answer=None, problem=str(exc))
    answer = CheckOut.of(result)
    if format == "csv":
        return csv_response(matches_csv(answer), "matches.csv")
    form = {"url": url, "text": text, "site": site, "published_at": published_at}
    return page(
        request,
        "check.html",
        form=form,
        answer=answer,
        matches=match_views(result, answer),
        stored=store,
    )


@router.get("/compare")
def compare_form(request: Request) -> HTMLResponse:
    grant(request, "check")
    return page(request, "compare.html", form={}, answer=None)


@router.post("/compare")
async def compare(
    request: Request,
    first_text: Text = "",
    second_text: Text = "",
    first_url: Text = "",
    second_url: Text = "",
    first_file: UploadFile | None = None,
    second_file: UploadFile | None = None,
) -> Response:
    """Two texts side by side, no index involved."""
    grant(request, "check", articles=2)
    first = await _article_from_form("first", first_url, first_text, first_file, "", "")
    second = await _article_from_form("second", second_url, second_text, second_file, "", "")
    detector = runtime_of(request).detector
    result = await off_loop(partial(detector.compare, first.to_input(), second.to_input()))
    answer = CheckOut.of(result)
    form = {"first_text": first_text, "second_text": second_text}
    form |= {"first_url": first_url, "second_url": second_url}
    return page(
        request,
        "compare.html",
        form=form,
        answer=answer,
        matches=match_views(result, answer),
        second_id=str(COMPARED_ID),
    )


# -- stored articles ------------------------------------------------------------------------


def timeline_points(answer: CheckOut) -> list[tuple[str, datetime, str]]:
    """The article and its copy matches as (site, when, role) for the timeline."""

    def when(published: datetime | None, seen: datetime) -> datetime:
        return published or seen

    points = [(answer.site, when(answer.published_at, answer.first_seen_at), "this")]
    for m in answer.matches:
        if m.relation != "related":
            role = "original" if m.id == answer.original.id else "copy"
            points.append((m.site, when(m.published_at, m.first_seen_at), role))
    return points


@router.get("/articles/{article_id}")
async def article(request: Request, article_id: str) -> HTMLResponse:
    grant(request, "check")
    detector = runtime_of(request).detector
    stored = detector.get(article_id)
    result = await off_loop(partial(detector.matches, article_id, related=True))
    answer = CheckOut.of(result)
    drawn = await off_loop(partial(charts.timeline, timeline_points(answer)))
    return page(
        request,
        "article.html",
        timeline=drawn,
        article=ArticleOut.of(stored, find_markers(stored.text)),
        answer=answer,
        own=segments(stored.text, [], marker_spans(answer.markers)),
        combined=combined_segments(stored.text, answer),
        matches=match_views(result, answer),
    )


@router.get("/articles/{article_id}/copies")
async def copies(request: Request, article_id: str) -> HTMLResponse:
    """The publisher's view: where a stored article has been copied, newest first."""
    grant(request, "check")
    runtime = runtime_of(request)
    stored = runtime.detector.get(article_id)
    found = await off_loop(partial(runtime.sites.copies_of, article_id))
    return page(request, "copies.html", article=stored, copies=found)


async def _report_parts(request: Request, article_id: str) -> dict[str, Any]:
    """What an article's report shows (the page, a saved copy, the PDF): the article, its
    answer against the index now, its matches cut for display, and when it was made."""
    detector = runtime_of(request).detector
    stored = detector.get(article_id)
    result = await off_loop(partial(detector.matches, article_id, related=True))
    answer = CheckOut.of(result)
    return {
        "article": ArticleOut.of(stored, find_markers(stored.text)),
        "answer": answer,
        "matches": match_views(result, answer),
        "made_at": datetime.now().astimezone().isoformat(timespec="minutes"),
    }


@router.get("/articles/{article_id}/report")
async def report(request: Request, article_id: str) -> HTMLResponse:
    """One article's evidence, laid out to print (the browser's print to PDF)."""
    grant(request, "check")
    return page(request, "report.html", **await _report_parts(request, article_id))


@router.post("/articles/{article_id}/report")
async def save_report(request: Request, article_id: str) -> Response:
    """Keep the report as it is now under a stable link (/reports/<token>)."""
    _same_origin(request)
    grant(request, "check")
    runtime = runtime_of(request)
    parts = await _report_parts(request, article_id)
    token = runtime.reports.new_token()
    html = bytes(page(request, "report.html", **parts, saved=token).body).decode()
    await off_loop(partial(runtime.reports.save, token, article_id, parts["made_at"], html))
    return RedirectResponse(f"/reports/{token}", status_code=303)


@router.get("/reports/{token}")
async def saved_report(request: Request, token: str) -> HTMLResponse:
    """A saved report, exactly as it was when saved."""
    grant(request, "check")
    found = await off_loop(partial(runtime_of(request).reports.get, token))
    return HTMLResponse(found.html, headers=PAGE_HEADERS)


@router.get("/articles/{article_id}/report.pdf")
async def report_pdf(request: Request, article_id: str) -> Response:
    """The same report as a PDF to send (drawn by ReportLab: api/web/pdf.py says why)."""
    grant(request, "check")
    parts = await _report_parts(request, article_id)
    drawn = await off_loop(partial(pdf.report_pdf, **parts))
    name = f"article-{parts['article'].id}-report.pdf"
    return Response(
        drawn,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/articles/{article_id}/matches.csv")
async def article_csv(request: Request, article_id: str) -> Response:
    grant(request, "check")
    detector = runtime_of(request).detector
    result = await off_loop(partial(detector.matches, article_id, related=True))
    return csv_response(matches_csv(CheckOut.of(result)), f"article-{article_id}-matches.csv")


@router.get("/pair/{copy_id}/{original_id}")
async def pair(request: Request, copy_id: str, original_id: str) -> HTMLResponse:
    """Two stored articles side by side (a dossier's example copy and its original): the
    pair as the copy's own verdict has it (the article page, its report and the API say the
    same); only when the index no longer pairs them, the two texts compared alone, saying so."""
    grant(request, "check")
    detector = runtime_of(request).detector
    copy, original = detector.get(copy_id), detector.get(original_id)
    result = await off_loop(partial(detector.matches, copy_id, related=True))
    pair = [m for m in result.matches if str(m.article.id) == original_id]
    alone = not pair
    if alone:

        def as_input(a: Any) -> Any:
            return ArticleIn(
                url=a.url, text=a.text, site=a.site, published_at=a.published_at
            ).to_input()

        result = await off_loop(partial(detector.compare, as_input(copy), as_input(original)))
    else:
        result = replace(result, matches=tuple(pair))
    answer = CheckOut.of(result)
    return page(
        request,
        "pair.html",
        answer=answer,
        matches=match_views(result, answer),
        copy_id=copy_id,
        original_id=original_id,
        second_id=str(COMPARED_ID) if alone else original_id,
        alone=alone,
    )


# -- sites ----------------------------------------------------------------------------------


def _site_rows(request: Request, min_articles: int) -> list[SiteSummaryOut]:
    page_rows, _ = runtime_of(request).sites.ranked(min_articles, 0, 500)
    return [SiteSummaryOut.of(figures, score) for figures, score in page_rows]


@router.get("/sites")
def sites(request: Request, min_articles: int = 1) -> HTMLResponse:
    grant(request, "check")
    rows = _site_rows(request, max(1, min_articles))
    return page(request, "sites.html", sites=rows, min_articles=max(1, min_articles))


@router.get("/sites.csv")
def sites_csv(request: Request, min_articles: int = 1) -> Response:
    grant(request, "check")
    rows = [s.model_dump(mode="json") for s in _site_rows(request, max(1, min_articles))]
    columns = list(SiteSummaryOut.model_fields)
    return csv_response(to_csv(columns, rows), "sites.csv")


@router.get("/sites/{site}")
async def site(request: Request, site: str) -> HTMLResponse:
    grant(request, "check")
    runtime = runtime_of(request)
    name = site.lower()
    found = runtime.sites.dossier(name)  # SiteNotFound if never counted
    lags, hours = runtime.sites.series(name)
    sources = runtime.sites.edges(name, "sources")
    copiers = runtime.sites.edges(name, "copiers")

    def draw() -> dict[str, str]:
        return {
            "graph": charts.copy_graph(name, sources, copiers),
            "lags": charts.lag_chart(lags),
            "copier_lags": charts.copier_lag_chart(copiers),
            "mix": charts.mix_chart(found.figures.copy_types),
            "cadence": charts.cadence_chart(hours),
        }

    pictures = await off_loop(draw)
    return page(
        request,
        "site.html",
        site=SiteOut.of(found),
        pictures=pictures,
        sources=sources,
        copiers=copiers,
        quote=quote,
    )


# -- scans ----------------------------------------------------------------------------------


@router.get("/scans")
def scans(request: Request) -> HTMLResponse:
    reader = scan_reader(grant(request, "check"))
    recent = [ScanOut.of(s) for s in runtime_of(request).scans.recent(20, reader)]
    return page(request, "scans.html", scans=recent)


@router.post("/scans")
async def upload_scan(request: Request, file: UploadFile) -> Response:
    """An NDJSON file as one scan (up to DEDUP_MAX_BODY_BYTES through this form; larger files
    go to POST /v1/scans, which streams)."""
    granted = grant(request, "ingest")
    runtime = runtime_of(request)
    raw = await file.read()
    lines = raw.splitlines()
    granted = runtime.access.charge(granted, sum(1 for line in lines if line.strip()))
    state = await off_loop(
        partial(runtime.scans.submit, iter(enumerate(lines, 1)), None, granted.digest)
    )
    return RedirectResponse(f"/scans/{state.id}", status_code=303)


@router.get("/scans/{scan_id}")
def scan(request: Request, scan_id: str) -> HTMLResponse:
    reader = scan_reader(grant(request, "check"))
    runtime = runtime_of(request)
    state = ScanOut.of(runtime.scans.state(scan_id, reader))
    found, _ = runtime.scans.results(scan_id, 0, 1000)
    items = [scan_item(i) for i in found]
    return page(request, "scan.html", scan=state, items=items)


@router.get("/scans/{scan_id}/progress")
def scan_progress(request: Request, scan_id: str) -> JSONResponse:
    """The scan's counters, polled by its page while it runs."""
    reader = scan_reader(grant(request, "check"))
    state = ScanOut.of(runtime_of(request).scans.state(scan_id, reader))
    return JSONResponse(json.loads(state.model_dump_json()))


SCAN_MATCH = ("id", "url", "site", "relation", "copy_type", "reuse", "coverage")


@router.get("/scans/{scan_id}/results.csv")
def scan_csv(request: Request, scan_id: str) -> Response:
    reader = scan_reader(grant(request, "check"))
    runtime = runtime_of(request)
    runtime.scans.state(scan_id, reader)
    rows: list[dict[str, Any]] = []
    for item in map(scan_item, runtime.scans.every_result(scan_id)):
        original = item.get("original") or {}
        base = {
            "line": item.get("line"),
            "error": item.get("error") or "",
            "article_id": item.get("id") or "",
            "article_url": item.get("url") or "",
            "original_id": original.get("id") or "",
        }
        for match in item.get("matches") or [{}]:
            rows.append({**base, **{f"match_{k}": match.get(k, "") for k in SCAN_MATCH}})
    columns = ["line", "error", "article_id", "article_url", "original_id"]
    columns += [f"match_{k}" for k in SCAN_MATCH]
    return csv_response(to_csv(columns, rows), f"scan-{scan_id}.csv")
