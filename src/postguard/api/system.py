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

    class Measure:
        """Plain ASGI (no per-request task or body copy, unlike ``BaseHTTPMiddleware``)."""

        def __init__(self, inner) -> None:
            self.inner = inner

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                return await self.inner(scope, receive, send)
            start = time.perf_counter()
            status = 500

            async def send_status(message):
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.inner(scope, receive, send_status)
            finally:
                name = getattr(scope.get("route"), "path", "unmatched")
                requests.labels(scope["method"], name, str(status)).inc()
                latency.labels(scope["method"], name).observe(time.perf_counter() - start)

    app.add_middleware(Measure)
