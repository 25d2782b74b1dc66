"""Prometheus metrics at GET /metrics (admin scope), in the text format of prometheus-client.

Per API process, in memory: requests by method, route template and status, and their
latency; candidates and verifications per check; Redis errors. Read from Redis at each
scrape, so the same for every process and surviving restarts: articles counted (ingested)
and copies found by type, webhook deliveries, failed attempts and given-up deliveries,
deliveries pending, and the worker queue's depth. With `dedup serve --workers N` the
processes share their figures through prometheus-client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, set by `dedup serve`), so any process answers for all of them.
"""

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.deps import ADMIN
from api.guard import ASGIApp, Message, Receive, Scope, Send
from dedup.adapters.jobs import RqJobs
from dedup.core.result import Result
from dedup.logs import request_id
from dedup.runtime import Runtime

access = logging.getLogger("dedup.services.access")  # a line per answer (uvicorn's own is off)
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series beside each counter: noise for a scraper
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COUNT_BUCKETS = (0, 1, 2, 4, 8, 16, 32, 64, 128)


class Metrics:
    """One app's metrics (a registry of its own, so that apps in one process never mix)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "dedup_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "dedup_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.candidates = Histogram(
            "dedup_check_candidates",
            "Candidates the index found per check or ingest (verified or not).",
            buckets=COUNT_BUCKETS,
            registry=self.registry,
        )
        self.verified = Histogram(
            "dedup_check_verifications",
            "Candidates verified per check or ingest (at most DEDUP_MAX_VERIFIED, plus "
            "translations).",
            buckets=COUNT_BUCKETS,
            registry=self.registry,
        )
        self.redis_errors = Counter(
            "dedup_redis_errors",
            "Requests that failed because Redis did not answer (503).",
            registry=self.registry,
        )

    def observe(self, result: Result) -> None:
        self.candidates.observe(result.verified + result.unverified)
        self.verified.observe(result.verified)

    def exposition(self, runtime: Runtime) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = self.registry
        text = generate_latest(registry)
        shared = CollectorRegistry()
        shared.register(StoreCollector(runtime))
        return text + generate_latest(shared)


class StoreCollector(Collector):
    """The figures kept in Redis, read at each scrape (three round trips)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        totals = runtime.sites.totals()
        articles = CounterMetricFamily(
            "dedup_articles_ingested", "Articles stored and counted into their site's figures."
        )
        articles.add_metric([], totals.get("articles", 0))
        yield articles
        copies = CounterMetricFamily(
            "dedup_copies_found",
            "Stored articles whose likely original is another site's article, by copy type.",
            labels=["copy_type"],
        )
        for field, count in sorted(totals.items()):
            if field.startswith("copies:"):
                copies.add_metric([field.removeprefix("copies:")], count)
        yield copies
        hooks = runtime.hooks
        stats = hooks.stats()
        deliveries = CounterMetricFamily(
            "dedup_webhook_deliveries",
            "Webhook delivery attempts by outcome (failed attempts are retried until given up).",
            labels=["outcome"],
        )
        for outcome in ("delivered", "failed", "given_up"):
            deliveries.add_metric([outcome], stats.get(outcome, 0))
        yield deliveries
        pending = GaugeMetricFamily(
            "dedup_webhook_deliveries_pending", "Deliveries not yet made or due for a retry."
        )
        pending.add_metric([], hooks.pending())
        yield pending
        if isinstance(runtime.jobs, RqJobs):
            depth = GaugeMetricFamily("dedup_queue_depth", "Jobs waiting on the worker queue.")
            depth.add_metric([], runtime.jobs.depth())
            yield depth


class MeasureRequests:
    """ASGI middleware counting every answer by its route template (not its path: ids would
    make a series each) and timing it to the end of its body."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            seconds = time.perf_counter() - started
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(seconds)
            state = scope.get("state", {})
            grant = state.get("grant")
            token = request_id.set(state.get("request_id"))  # the guard's, for this line
            try:
                access.info(
                    "%s %s %d %.1f ms",
                    method,
                    scope["path"],
                    status,
                    seconds * 1000,
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": template,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "key": grant.name if grant is not None else None,
                    },
                )
            finally:
                request_id.reset(token)


def observe(request: Request, result: Result) -> None:
    """Count a check's or an ingest's candidates and verifications."""
    app_metrics: Metrics = request.app.state.metrics
    app_metrics.observe(result)


router = APIRouter(tags=["admin"])


@router.get(
    "/metrics",
    dependencies=[ADMIN],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
def metrics(request: Request) -> Response:
    """Counters, histograms and gauges in the Prometheus text format (see docs/operations.md)."""
    app_metrics: Metrics = request.app.state.metrics
    runtime: Runtime = request.app.state.runtime
    return Response(app_metrics.exposition(runtime), media_type=CONTENT_TYPE_LATEST)
