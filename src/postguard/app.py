"""The application factory: ``create_app(settings)`` builds one app around one ``Platform``."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Scope

from postguard import __version__, jobs
from postguard.api import openapi, problems
from postguard.api.access import router as access_router
from postguard.api.audit import router as audit_router
from postguard.api.blocklist import router as blocklist_router
from postguard.api.callerid import CALLCHECK_BODY_BYTES, call_check_body
from postguard.api.callerid import router as callerid_router
from postguard.api.docs import router as docs_router
from postguard.api.feedback import router as feedback_router
from postguard.api.intel import check_body
from postguard.messages.vietqr import MAX_IMAGE_BYTES
from postguard.api.intel import router as intel_router
from postguard.api.leaks import router as leaks_router
from postguard.api.limits import BodyLimit, declared_length, respond_with, too_large
from postguard.api.lookalikes import router as lookalikes_router
from postguard.api.lookups import router as lookups_router
from postguard.api.privacy import router as me_router
from postguard.api.sharing import router as sharing_router
from postguard.api.senders import router as senders_router
from postguard.api.shipments import router as shipments_router
from postguard.api.subscribers import router as subscribers_router
from postguard.api.system import HttpMetrics, install_metrics
from postguard.api.system import router as system_router
from postguard.api.takedowns import router as takedowns_router
from postguard.api.taxii import router as taxii_router
from postguard.audit.witnessing import WitnessMetrics
from postguard.logging import configure_logging, get_logger
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.web.analyst import router as analyst_router
from postguard.web.auditor import router as auditor_router
from postguard.web.callcheck import router as callcheck_router
from postguard.web.courier import router as courier_router
from postguard.web.feedback import router as web_feedback_router
from postguard.web.subscribers import router as web_subscribers_router
from postguard.web.intel import router as web_intel_router
from postguard.web.privacy import router as privacy_pages
from postguard.web.errors import html_errors
from postguard.web.routes import router as web_router
from postguard.web.staff import router as staff_router
from postguard.web.warnings import router as warnings_router

log = get_logger("postguard.app")

# Pages (HTML) and everything else a browser may render.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# API responses (JSON, files): what the OWASP REST Security Cheat Sheet lists for every API response.
# Referrer-Policy and Permissions-Policy govern what a rendered document does, which an API answer
# is not; its CSP allows nothing at all. (HSTS is the TLS-terminating proxy's to send.)
API_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())


_RAW_HEADERS = _raw(SECURITY_HEADERS)
_RAW_NO_STORE = (*_RAW_HEADERS, (b"cache-control", b"no-store"))
_RAW_API = _raw(API_SECURITY_HEADERS)
_HOT_HEADERS = ((b"content-type", b"application/json"), *_RAW_API)

API_PREFIXES = ("/v1/", "/taxii2/")
QR_IMAGE_BODY_BYTES = MAX_IMAGE_BYTES + 64 * 1024  # a QR image and the form's fields
NO_STORE_PREFIXES = ("/staff", "/du-lieu-cua-toi", "/kiem-tra-cuoc-goi")


class _SecurityHeaders:
    """Adds the security headers to every response: the API set under ``API_PREFIXES`` (but the page
    set, with ``no-store``, on a browser's error page there), else the page set (with ``no-store`` on
    staff and personal pages); pure ASGI middleware, so a request costs no extra task or body stream."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        api = path.startswith(API_PREFIXES)
        extra = _RAW_API if api else _RAW_NO_STORE if path.startswith(NO_STORE_PREFIXES) else _RAW_HEADERS

        async def send_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                page = api and (b"content-type", b"text/html; charset=utf-8") in headers  # a browser's error page
                headers.extend(kv for kv in (_RAW_NO_STORE if page else extra) if kv[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_headers)


HotHandler = Callable[[Platform, bytes, Scope], Awaitable[bytes]]
"""A hot path's handler: the platform, the request body and the ASGI scope in, the JSON answer out."""


class PostguardApp(FastAPI):
    """FastAPI, plus the hottest public endpoints served ahead of the middleware stack and the router.

    ``hot`` maps (method, path) to ``(async handler(platform, body, scope) -> bytes, max body bytes)``:
    the handler gets the request body and answers JSON, or raises a
    ``PostguardError``; every such path is under ``API_PREFIXES``. What the middleware would add is
    added here: the API security headers, the problem+json error form, and the request count and
    latency metrics. Each such
    path also has an ordinary route, which documents it in the OpenAPI schema."""

    hot: dict[tuple[str, str], tuple[HotHandler, int]] = {}
    platform: Platform  # app.state.platform and app.state.http_metrics, read without State's __getattr__
    http_metrics: HttpMetrics
    pages: problems.Pages | None = None  # a browser's error page (the web shell's html_errors)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            hot = self.hot.get((scope["method"], scope["path"]))
            if hot is not None:
                scope["app"] = self
                handler, max_body = hot
                return await self._serve_hot(handler, max_body, scope, receive, send)
        return await super().__call__(scope, receive, send)

    async def _serve_hot(self, handler: HotHandler, max_body: int, scope, receive, send) -> None:
        start = time.perf_counter()
        declared = declared_length(scope)
        if declared is not None and declared > max_body:  # refused before a byte is read
            body, message = None, {"type": "http.request"}
        else:
            message = await receive()
            body = message.get("body", b"")
            if message.get("more_body", False):  # a body in several parts: gather it, up to the limit
                chunks, size = [body], len(body)
                while size <= max_body and message.get("more_body", False):
                    message = await receive()
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    chunks.append(chunk)
                body = b"".join(chunks) if size <= max_body else None
        if message["type"] == "http.disconnect":
            return
        try:
            if body is None or len(body) > max_body:
                raise too_large(max_body)
            body = await handler(self.platform, body, scope)
            status, headers = 200, [*_HOT_HEADERS, (b"content-length", b"%d" % len(body))]
        except Exception as exc:  # answered as the app's handlers answer (a page for a browser)
            response = problems.respond(Request(scope), exc, self.pages)
            status, body = response.status_code, bytes(response.body)
            page = response.media_type == "text/html"
            headers = [*(kv for kv in response.raw_headers if kv[0] != b"content-length"),
                       *(_RAW_NO_STORE if page else _RAW_API), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.http_metrics.observe(scope["method"], scope["path"], status, time.perf_counter() - start)


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> PostguardApp:
    settings = settings or Settings()
    configure_logging(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks = jobs.start(app.state.platform)  # every periodic job: postguard.jobs.JOBS
        # What start-up built (modules, routes, models, keys) lives as long as the worker: out of the
        # collector's way, so that its full collections walk only what requests leave behind.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            for task in tasks:
                task.cancel()

    app = PostguardApp(
        lifespan=lifespan,
        title="postguard",
        version=__version__,
        description="Protects postal customers' personal data and stops the scams that feed on it.\n\n"
                    "Operator systems authenticate with an organisation's API key (`Authorization: Bearer pgk_…`, "
                    "scoped); staff with their session cookie and its CSRF token; a person with the proof of their "
                    "phone number that a one-time code earns. Every error is RFC 9457 `application/problem+json` "
                    "(a browser asking for a page gets one, in Vietnamese first). See docs/api.md.",
        docs_url=None,  # FastAPI's Swagger UI loads scripts from a CDN: /docs is api.docs, served from a package
        redoc_url=None,
    )
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    app.state.platform = platform or Platform(settings)
    app.state.settings = settings
    # Innermost of the middleware, so that a 413 is measured and gets the security headers.
    # Larger bodies only where files come: a CSV import, and reports with evidence (multipart only: a
    # JSON report carries no file, so it keeps the common limit).
    evidence = max(settings.report_body_bytes, settings.max_body_bytes)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       allowances={"/v1/shipments/import": max(settings.max_upload_bytes, settings.max_body_bytes),
                                   "/v1/lookalikes": max(settings.lookalike_body_bytes, settings.max_body_bytes)},
                       multipart_allowances={"/v1/reports": evidence, "/bao-cao": evidence,
                                             "/kiem-tra": max(QR_IMAGE_BODY_BYTES, settings.max_body_bytes)},
                       respond=respond_with(html_errors))
    problems.install(app, html_errors=html_errors)
    install_metrics(app, app.state.platform.meter, database=app.state.platform.db.dialect)
    app.state.registry.register(WitnessMetrics(app.state.platform.witnessing))

    app.add_middleware(_SecurityHeaders)

    app.include_router(system_router)
    app.include_router(docs_router)
    app.include_router(shipments_router)
    app.include_router(subscribers_router)
    app.include_router(audit_router)
    app.include_router(intel_router)
    app.include_router(feedback_router)
    app.include_router(lookups_router)
    app.include_router(lookalikes_router)
    app.include_router(blocklist_router)
    app.include_router(sharing_router)
    app.include_router(senders_router)
    app.include_router(taxii_router)
    app.include_router(takedowns_router)
    app.include_router(web_router)
    app.include_router(staff_router)
    app.include_router(warnings_router)
    app.include_router(leaks_router)
    app.include_router(auditor_router)
    app.include_router(analyst_router)
    app.include_router(web_intel_router)
    app.include_router(web_feedback_router)
    app.include_router(web_subscribers_router)
    app.include_router(access_router)
    app.include_router(courier_router)
    app.include_router(me_router)
    app.include_router(privacy_pages)
    app.include_router(callerid_router)
    app.include_router(callcheck_router)
    # Served ahead of the middleware: their own (smaller) limits, never above the one of every route.
    app.hot = {("POST", "/v1/check"): (check_body, min(16 * 1024, settings.max_body_bytes)),
               ("POST", "/v1/callcheck"): (call_check_body, min(CALLCHECK_BODY_BYTES, settings.max_body_bytes))}
    app.platform, app.http_metrics = app.state.platform, app.state.http_metrics
    app.pages = html_errors
    return app
