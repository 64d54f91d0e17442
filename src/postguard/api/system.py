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


def install_metrics(app: FastAPI) -> None:
    """Per-app registry (several apps may live in one test process); label by route template, never
    by raw path, so no waybill or phone reaches the metrics."""
    registry = CollectorRegistry()
    app.state.registry = registry
    requests = Counter("postguard_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry)
    latency = Histogram("postguard_http_request_seconds", "HTTP request latency", ["method", "route"],
                        registry=registry)

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        requests.labels(request.method, name, str(response.status_code)).inc()
        latency.labels(request.method, name).observe(time.perf_counter() - start)
        return response
