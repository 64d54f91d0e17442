"""The application factory: ``create_app(settings)`` builds one app around one ``Platform``."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from postguard import __version__
from postguard.api import problems
from postguard.api.access import router as access_router
from postguard.api.audit import router as audit_router
from postguard.api.callerid import LeanCallCheck
from postguard.api.callerid import router as callerid_router
from postguard.api.intel import lean_check
from postguard.api.intel import router as intel_router
from postguard.api.leaks import router as leaks_router
from postguard.api.lookups import router as lookups_router
from postguard.api.privacy import router as me_router
from postguard.api.sharing import router as sharing_router
from postguard.api.shipments import router as shipments_router
from postguard.api.system import install_metrics
from postguard.api.system import router as system_router
from postguard.api.taxii import router as taxii_router
from postguard.logging import configure_logging, get_logger
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.web.analyst import router as analyst_router
from postguard.web.auditor import router as auditor_router
from postguard.web.callcheck import router as callcheck_router
from postguard.web.courier import router as courier_router
from postguard.web.intel import router as web_intel_router
from postguard.web.privacy import router as privacy_pages
from postguard.web.routes import html_errors
from postguard.web.routes import router as web_router
from postguard.web.staff import router as staff_router
from postguard.web.warnings import router as warnings_router

log = get_logger("postguard.app")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


_RAW_HEADERS = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items())
_RAW_NO_STORE = (*_RAW_HEADERS, (b"cache-control", b"no-store"))


NO_STORE_PREFIXES = ("/v1/", "/staff", "/taxii2/", "/du-lieu-cua-toi", "/kiem-tra-cuoc-goi")


class _SecurityHeaders:
    """Adds the security headers (and ``no-store`` on API and staff pages) to every response; pure
    ASGI middleware, so a request costs no extra task or body stream."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = _RAW_NO_STORE if scope["path"].startswith(NO_STORE_PREFIXES) else _RAW_HEADERS

        async def send_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers.extend(kv for kv in extra if kv[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_headers)


async def _checkpoints(platform: Platform) -> None:
    """Sign a checkpoint of the access log every second while entries arrive."""
    while True:
        await asyncio.sleep(1.0)
        with contextlib.suppress(Exception):
            await run_in_threadpool(platform.audit.checkpoint)
        if "intel" in platform.__dict__:  # lookup counts added up in memory
            with contextlib.suppress(Exception):
                await run_in_threadpool(platform.intel.flush_lookups)


async def _known_refresh(platform: Platform) -> None:
    """Keep this worker's index of known indicators fresh off the request path."""
    known = platform.intel.known
    await run_in_threadpool(known.refresh)
    known.managed = True
    try:
        while True:
            await asyncio.sleep(max(0.2, platform.settings.intel_index_refresh_seconds))
            try:
                await run_in_threadpool(known.refresh)
            except Exception:  # the database is away: keep answering from what is known, retry
                log.exception("known-indicator refresh failed")
    finally:
        known.managed = False


async def _anomaly_scans(platform: Platform, every: int) -> None:
    """Scan every organisation's access log for anomalies every ``every`` seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(platform.leaks.scan_all)
        except Exception:  # a failed scan is retried on the next tick; the log keeps what was seen
            log.exception("anomaly scan failed")


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks = [asyncio.create_task(_checkpoints(app.state.platform)),
                 asyncio.create_task(_known_refresh(app.state.platform))]
        if settings.anomaly_scan_interval_seconds:
            tasks.append(asyncio.create_task(_anomaly_scans(app.state.platform,
                                                            settings.anomaly_scan_interval_seconds)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()

    app = FastAPI(
        lifespan=lifespan,
        title="postguard",
        version=__version__,
        description="Protects postal customers' personal data and stops the scams that feed on it.",
        docs_url=None,  # Swagger UI loads scripts from a CDN; the schema stays at /openapi.json
        redoc_url=None,
    )
    app.state.platform = platform or Platform(settings)
    app.state.settings = settings
    problems.install(app, html_errors=html_errors)
    app.add_middleware(LeanCallCheck)  # innermost: inside the metrics and the security headers
    install_metrics(app)

    app.add_middleware(_SecurityHeaders)

    app.include_router(system_router)
    app.include_router(shipments_router)
    app.include_router(audit_router)
    app.include_router(intel_router)
    app.include_router(lookups_router)
    app.include_router(sharing_router)
    app.include_router(taxii_router)
    app.include_router(web_router)
    app.include_router(staff_router)
    app.include_router(warnings_router)
    app.include_router(leaks_router)
    app.include_router(auditor_router)
    app.include_router(analyst_router)
    app.include_router(web_intel_router)
    app.include_router(access_router)
    app.include_router(courier_router)
    app.include_router(me_router)
    app.include_router(privacy_pages)
    app.include_router(callerid_router)
    app.include_router(callcheck_router)
    # The lookup hot path first, as a plain Starlette route (the FastAPI declaration documents it).
    app.router.routes.insert(0, Route("/v1/check", lean_check, methods=["POST"], include_in_schema=False))
    return app
