"""What the HTTP shells accept before they read anything: bounded integer parameters (a path or query number
the database cannot hold, a 64-bit signed integer, is refused with 422 before any query runs; SQLite
raises ``OverflowError`` binding more) and JSON bodies on the routes served ahead of the router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from postguard.errors import UnsupportedMediaType

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=INT64_MAX, description="A row id")]
"""A path parameter naming a row by its id."""


def _is_json(content_type: bytes) -> bool:
    """``application/json`` or ``application/<anything>+json``, with or without parameters."""
    if content_type == b"application/json":
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def require_json(scope, what: str) -> None:
    """Refuse (415) a body that is not JSON on a route that reads its body itself. A body a page on
    another site can make a visitor's browser send without a CORS preflight (``text/plain``, a form,
    none at all) is never read, as FastAPI refuses it on every other JSON route."""
    for k, v in scope["headers"]:
        if k == b"content-type" and _is_json(v):
            return
    raise UnsupportedMediaType(f"Send the {what} as JSON (`Content-Type: application/json`).")
