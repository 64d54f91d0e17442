"""The client's address, as the rate limits and the access log see it (behind a trusted proxy,
uvicorn has already put the forwarded address in the scope)."""

from __future__ import annotations

from starlette.requests import Request


def scope_ip(scope) -> str:
    """The client address of an ASGI request scope."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def client_ip(request: Request) -> str:
    return scope_ip(request.scope)
