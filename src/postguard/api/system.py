"""Health and metrics."""

from __future__ import annotations

import hmac
import time
from bisect import bisect_left

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import text

from postguard import __version__
from postguard.api.deps import platform
from postguard.errors import NotFound, Unauthenticated
from postguard.logging import get_logger
from postguard.metrics import Meter
from postguard.platform import Platform

router = APIRouter(tags=["system"])


@router.get("/healthz", responses={503: {"description": "The database does not answer", "content": {
    "application/json": {"schema": {"type": "object", "properties": {"status": {"const": "unavailable"},
                                                                     "database": {"type": "string"}}}}}}})
def healthz(p: Platform = Depends(platform)):
    """Liveness: answers 200 when the database answers a query, else 503 (JSON, not a problem)."""
    try:
        with p.db.engine.connect() as c:
            c.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": p.db.dialect}
    except Exception:
        return JSONResponse({"status": "unavailable", "database": p.db.dialect}, status_code=503)


@router.get("/metrics", response_class=Response, openapi_extra={"security": [{"metricsToken": []}]},
            responses={404: {"description": "No metrics token is configured: metrics are not served"}})
def metrics(request: Request) -> Response:
    """Prometheus metrics, for a scraper holding ``POSTGUARD_METRICS_TOKEN`` (not served without one):
    route names, counts and latencies say what the platform is doing and for whom."""
    token = request.app.state.platform.settings.metrics_token
    if not token:
        raise NotFound("Metrics are not served here (set POSTGUARD_METRICS_TOKEN to serve them).")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthenticated("Send the metrics token as `Authorization: Bearer <token>`.")
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """Request counts and latencies by method, route template and status, as
    ``postguard_http_requests_total`` and the ``postguard_http_request_seconds`` histogram.

    Kept as plain numbers, updated only on the event loop (one dictionary read, a bisect and two
    additions per request; prometheus_client's locked counters cost several times that), and turned
    into metric families when scraped."""

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._latency: dict[tuple[str, str], list] = {}  # (method, route) -> [count per bucket..., +Inf, sum]
        registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        series = self._latency.get(key[:2])
        if series is None:
            series = self._latency[key[:2]] = [0] * (len(self.BUCKETS) + 1) + [0.0]
        series[bisect_left(self.BUCKETS, seconds)] += 1
        series[-1] += seconds

    def collect(self):
        requests = CounterMetricFamily("postguard_http_requests", "HTTP requests", labels=["method", "route", "status"])
        for (method, route, status), n in list(self._counts.items()):
            requests.add_metric([method, route, str(status)], n)
        latency = HistogramMetricFamily("postguard_http_request_seconds", "HTTP request latency",
                                        labels=["method", "route"])
        for (method, route), series in list(self._latency.items()):
            series = list(series)
            cumulative, total = [], 0
            for bound, n in zip((*map(str, self.BUCKETS), "+Inf"), series[:-1], strict=True):
                total += n
                cumulative.append((bound, total))
            latency.add_metric([method, route], cumulative, series[-1])
        return [requests, latency]


class MeterMetrics:
    """The platform's ``Meter`` (``postguard.metrics``: what the services count, the gauges the
    wiring reads from the database) as metric families, and ``postguard_build_info``. Each worker
    process serves its own numbers: scrape every worker (docs/operations.md, "Metrics"). A gauge whose
    query fails is left out of that scrape (and logged), the rest is served."""

    def __init__(self, meter: Meter, *, database: str) -> None:
        self.meter, self.database = meter, database

    def collect(self):
        info = GaugeMetricFamily("postguard_build_info", "This worker's version and database (always 1)",
                                 labels=["version", "database"])
        info.add_metric([__version__, self.database], 1)
        yield info
        for counter in list(self.meter.counters.values()):
            family = CounterMetricFamily(counter.name, counter.documentation, labels=list(counter.labels))
            counts = counter.values()
            if not counts and not counter.labels:
                counts = {(): 0}  # a count that has not moved yet is 0, so that rate() and alerts see it
            for values, n in sorted(counts.items()):
                family.add_metric(list(values), n)
            yield family
        for gauge in list(self.meter.gauges.values()):
            try:
                samples = gauge.values()
            except Exception:
                _log.exception("metrics gauge failed", gauge=gauge.name)
                continue
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
            for values, v in samples:
                family.add_metric(list(values), v)
            yield family


_log = get_logger("postguard.metrics")


class _Measure:
    """Pure ASGI middleware (no per-request task group or body streaming, unlike ``@app.middleware``)."""

    def __init__(self, app, *, metrics: HttpMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - start)


def install_metrics(app: FastAPI, meter: Meter | None = None, *, database: str = "") -> None:
    """Per-app registry (several apps may live in one test process); label by route template, never
    by raw path, so no waybill or phone reaches the metrics. ``meter``: the platform's counters and
    gauges; with the process's own (``process_*``, ``python_*``: memory, CPU, open files, collections)."""
    registry = CollectorRegistry()
    app.state.registry = registry
    app.state.http_metrics = HttpMetrics(registry)
    if meter is not None:
        registry.register(MeterMetrics(meter, database=database))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app.add_middleware(_Measure, metrics=app.state.http_metrics)
