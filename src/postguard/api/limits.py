"""Input limits: one body limit for every route, enforced while the body arrives; JSON depth."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Scope

from postguard.errors import FieldError, InvalidInput, PayloadTooLarge

SPOOL_IN_MEMORY = 8 * 1024 * 1024  # an upload's first bytes are kept in memory, the rest on disk
MAX_DIGITS = 19  # a Content-Length of more digits is over any limit (and is not parsed)


def declared_length(scope) -> int | None:
    """The request's Content-Length (None when absent; -1 when it is not a number)."""
    for k, v in scope["headers"]:
        if k == b"content-length":
            if not v.isdigit():
                return -1
            return int(v) if len(v) < MAX_DIGITS else 10 ** MAX_DIGITS
    return None


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.")


class BodyLimit:
    """Pure ASGI middleware: a request body larger than ``limit`` bytes (or the larger allowance of
    its path in ``allowances``, or in ``multipart_allowances`` for a ``multipart/form-data`` body)
    is answered 413. A too-large Content-Length is refused before a byte
    is read; otherwise ``receive`` counts the bytes as they arrive, chunked or not, and raises
    ``PayloadTooLarge`` (which the app's error handlers answer, problem+json or a page) as soon as
    the running total passes the limit. Whatever the route made of that error, the answer is the 413.

    ``respond(scope, error)`` builds the answer for a request refused before reaching the app."""

    def __init__(self, app, *, limit: int, allowances: Mapping[str, int],
                 multipart_allowances: Mapping[str, int] | None = None,
                 respond: Callable[[Scope, PayloadTooLarge], ASGIApp]) -> None:
        self.app, self.limit, self.respond = app, limit, respond
        self.allowances, self.multipart_allowances = dict(allowances), dict(multipart_allowances or {})

    def limit_of(self, scope) -> int:
        path = scope["path"]
        if path in self.multipart_allowances and any(
                k == b"content-type" and v[:19].lower() == b"multipart/form-data" for k, v in scope["headers"]):
            return self.multipart_allowances[path]
        return self.allowances.get(path, self.limit)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_of(scope)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            return await self.respond(scope, too_large(limit))(scope, receive, send)
        received, over, started, replaced = 0, False, False, False

        async def counted():
            nonlocal received, over
            if over:
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise too_large(limit)
            return message

        async def answer(message):
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
                if over and message["status"] != 413:  # the route turned the error into something else
                    replaced = True
                    return await self.respond(scope, too_large(limit))(scope, receive, send)
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not over or started:
                raise
            await self.respond(scope, too_large(limit))(scope, receive, send)


def respond_with(html_errors) -> Callable[[Scope, PayloadTooLarge], ASGIApp]:
    """The answer to a body refused before the app saw it: what the app's error handler would send."""
    from postguard.api.problems import problem_response

    def respond(scope, err: PayloadTooLarge):
        request = Request(scope)
        if html_errors is not None and (page := html_errors(request, err)) is not None:
            return page
        return problem_response(err, request)

    return respond


def too_deep(field: str = "body") -> InvalidInput:
    """The refusal of JSON nested deeper than its parser goes (orjson: 1024 levels; Python's json
    module: until ``RecursionError``)."""
    return InvalidInput("The request is not valid.", [FieldError(field, "JSON nested too deeply", code="json_too_deep")])


def loads_json(raw: str | bytes, field: str = "body"):
    """Parse JSON with a bounded depth (orjson's 1024 levels): a deeper document, or one that is not
    JSON, is ``InvalidInput`` naming ``field``, never a ``RecursionError``."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        if "depth" in str(e) or "recursion" in str(e).lower():
            raise too_deep(field) from None
        raise InvalidInput("The request is not valid.", [FieldError(field, "not valid JSON", code="json_invalid")]) \
            from None


async def import_upload(request: Request, limit: int, run: Callable[[Any], Any]) -> Any:
    """``run(stream)`` in the thread pool over the request body (an uploaded CSV), spooled as it arrives
    (in memory up to ``SPOOL_IN_MEMORY``, then on disk); 413 past ``limit`` bytes."""
    from starlette.concurrency import run_in_threadpool

    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The upload is larger than {limit} bytes.")
            spool.write(chunk)
        spool.seek(0)
        return await run_in_threadpool(run, spool)
    finally:
        spool.close()
