"""The error contract: every error leaves the API as RFC 9457 ``application/problem+json``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from postguard.errors import FieldError, InvalidInput, PostguardError, RateLimited
from postguard.logging import get_logger

PROBLEM = "application/problem+json"
log = get_logger("postguard.api")


def problem_response(err: PostguardError, request: Request) -> JSONResponse:
    headers = {}
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    if err.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(err.problem(instance=request.url.path), status_code=err.status, media_type=PROBLEM,
                        headers=headers)


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI, *, html_errors=None) -> None:
    """``html_errors(request, err)`` may answer a browser's page request with a page instead (or None)."""

    @app.exception_handler(PostguardError)
    async def _postguard(request: Request, err: PostguardError):
        if err.status >= 500:
            log.error("request failed", path=request.url.path, error=err.slug)
        if html_errors is not None and (page := html_errors(request, err)) is not None:
            return page
        return problem_response(err, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError):
        errors = [
            FieldError(_field_path(tuple(e.get("loc", ()))), e.get("msg", "invalid"), None, e.get("type", "invalid"))
            for e in err.errors()
        ]
        return problem_response(InvalidInput("The request is not valid.", errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException):
        if isinstance(err.__cause__, RecursionError):  # FastAPI's "error parsing the body": JSON too deep
            from postguard.api.limits import too_deep

            return problem_response(too_deep(), request)
        body = {"type": "about:blank", "title": str(err.detail), "status": err.status_code, "detail": str(err.detail),
                "instance": request.url.path}
        return JSONResponse(body, status_code=err.status_code, media_type=PROBLEM, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception):
        log.error("unexpected error", path=request.url.path, error=type(err).__name__)
        return problem_response(PostguardError(detail="An unexpected error occurred."), request)
