"""The error contract: every error leaves the API as RFC 9457 ``application/problem+json``; a browser
asking for a page gets one instead (``pages``, the web shell's ``html_errors``), with the same status
and headers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from postguard.errors import FieldError, InvalidInput, PostguardError
from postguard.http.answers import error_headers
from postguard.logging import get_logger

PROBLEM = "application/problem+json"
UNEXPECTED = "An unexpected error occurred."
log = get_logger("postguard.api")

Pages = Callable[..., Response | None]
"""``pages(request, err, *, status=None, headers=None, reference=None)``: a page for a browser, or None."""


def problem_response(err: PostguardError, request: Request) -> JSONResponse:
    return JSONResponse(err.problem(instance=request.url.path), status_code=err.status, media_type=PROBLEM,
                        headers=error_headers(err))


def reference() -> str:
    """A short reference for an error of the server, logged with it and shown on the page (never in
    problem+json, whose shape is pinned), so that a person's report finds the log line."""
    return secrets.token_hex(4).upper()


def answer(request: Request, err: PostguardError, pages: Pages | None, *, reference: str | None = None) -> Response:
    """The answer to ``err``: a page when ``pages`` gives one for this request, else problem+json."""
    if pages is not None and (page := pages(request, err, reference=reference)) is not None:
        return page
    return problem_response(err, request)


def respond(request: Request, err: Exception, pages: Pages | None) -> Response:
    """The answer to any error. An error of the server is logged with a reference; one nobody raised
    on purpose is answered 500 with nothing of it (no message, no traceback)."""
    if not isinstance(err, PostguardError):
        ref = reference()
        log.error("unexpected error", path=request.url.path, error=type(err).__name__, reference=ref)
        return answer(request, PostguardError(detail=UNEXPECTED), pages, reference=ref)
    if err.status < 500:
        return answer(request, err, pages)
    ref = reference()
    log.error("request failed", path=request.url.path, error=err.slug, reference=ref)
    return answer(request, err, pages, reference=ref)


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


class _CatchUnexpected:
    """Pure ASGI middleware: an exception that no handler answered becomes the 500 answer here, inside
    the security headers and the metrics (Starlette's own last-resort handler sits outside every
    middleware, so its answer had neither). Once a response has started there is nothing to answer:
    the exception goes on."""

    def __init__(self, app, *, pages: Pages | None) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as err:
            if started:
                raise
            await respond(Request(scope), err, self.pages)(scope, receive, send)


def install(app: FastAPI, *, html_errors: Pages | None = None) -> None:
    """The error handlers. ``html_errors(request, err, …)`` may answer a browser's request with a page
    instead of problem+json (or None)."""

    @app.exception_handler(PostguardError)
    async def _postguard(request: Request, err: PostguardError):
        return respond(request, err, html_errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError):
        errors = [
            FieldError(_field_path(tuple(e.get("loc", ()))), e.get("msg", "invalid"), None, e.get("type", "invalid"))
            for e in err.errors()
        ]
        return answer(request, InvalidInput("The request is not valid.", errors), html_errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException):
        if isinstance(err.__cause__, RecursionError):  # FastAPI's "error parsing the body": JSON too deep
            from postguard.api.limits import too_deep

            return answer(request, too_deep(), html_errors)
        headers: Mapping[str, str] | None = getattr(err, "headers", None)
        if html_errors is not None:
            page = html_errors(request, PostguardError(detail=str(err.detail)), status=err.status_code, headers=headers)
            if page is not None:
                return page
        body = {"type": "about:blank", "title": str(err.detail), "status": err.status_code, "detail": str(err.detail),
                "instance": request.url.path}
        return JSONResponse(body, status_code=err.status_code, media_type=PROBLEM, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception):
        return respond(request, err, html_errors)

    app.add_middleware(_CatchUnexpected, pages=html_errors)
