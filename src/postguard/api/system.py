"""Health and metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

from postguard import __version__
from postguard.api.deps import platform
from postguard.platform import Platform

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(p: Platform = Depends(platform)):
    try:
        with p.db.engine.connect() as c:
            c.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": p.db.dialect}
    except Exception:
        return JSONResponse({"status": "unavailable", "database": p.db.dialect}, status_code=503)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """Request counts and latencies by method, route template and status; the labelled series are
    looked up once and kept (prometheus' ``labels`` costs more than the increment)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("postguard_http_requests", "HTTP requests", ["method", "route", "status"],
                                registry=registry)
        self.latency = Histogram("postguard_http_request_seconds", "HTTP request latency", ["method", "route"],
                                 registry=registry)
        self._series: dict[tuple, tuple] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        series = self._series.get((method, route, status))
        if series is None:
            series = self._series[(method, route, status)] = (
                self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
        series[0].inc()
        series[1].observe(seconds)


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


def install_metrics(app: FastAPI) -> None:
    """Per-app registry (several apps may live in one test process); label by route template, never
    by raw path, so no waybill or phone reaches the metrics."""
    registry = CollectorRegistry()
    app.state.registry = registry
    app.state.http_metrics = HttpMetrics(registry)
    app.add_middleware(_Measure, metrics=app.state.http_metrics)
