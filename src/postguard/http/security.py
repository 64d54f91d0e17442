"""Which credentials each request dependency takes, as the OpenAPI document states them.

A dependency that authenticates is marked with ``declares(requirement, …)``: each requirement is one
way in (an OpenAPI Security Requirement Object: scheme name → scopes or roles), ``{}`` meaning "no
credential at all". ``postguard.api.openapi`` reads the marks of each route's dependencies; the
schemes themselves are defined there. Marking changes nothing at run time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Requirement = dict[str, list[str]]
Responses = dict[int | str, dict[str, Any]]
"""A route's ``responses=``: the errors it declares besides those of its kind (the document adds their
problem+json content)."""
F = TypeVar("F", bound=Callable)

REQUIREMENTS: dict[Callable, list[Requirement]] = {}


def declares(*requirements: Requirement) -> Callable[[F], F]:
    """Mark a dependency with the ways it lets a request in."""

    def mark(dependency: F) -> F:
        REQUIREMENTS[dependency] = [dict(r) for r in requirements]
        return dependency

    return mark


def api_key(*scopes: str) -> Requirement:
    """An organisation's API key holding ``scopes`` (all of them; none: any key)."""
    return {"apiKey": list(scopes)}


def staff_session(*roles: str) -> Requirement:
    """A signed-in member of staff of one of ``roles`` (any role when none), with the session's CSRF
    token on unsafe methods (left out of GET operations)."""
    return {"staffSession": list(roles), "csrfToken": []}


ANONYMOUS: Requirement = {}


def openapi_security(*requirements: Requirement) -> dict:
    """``openapi_extra`` for a route whose credentials its dependencies do not show (a route that reads
    them itself, or whose scope its service checks)."""
    return {"security": [dict(r) for r in requirements]}
