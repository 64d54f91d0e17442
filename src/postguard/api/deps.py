"""Request dependencies: the platform and the authenticated principal."""

from __future__ import annotations

from fastapi import Request

from postguard.errors import Unauthenticated
from postguard.http.address import client_ip, scope_ip
from postguard.http.security import ANONYMOUS, api_key, declares
from postguard.orgs.service import Principal
from postguard.platform import Platform


def platform(request: Request) -> Platform:
    return request.app.state.platform


def client_key(scope, who: Principal | None) -> str:
    """Who public limits count against: the organisation of an API key, else the address."""
    return who.actor if who else scope_ip(scope)


@declares(api_key())
def principal(request: Request) -> Principal:
    p: Platform = request.app.state.platform
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    ip = client_ip(request)
    # Failed authentications are limited per client address: guessing keys is not an option.
    if not p.limiter.test("30/minute", "auth-fail", ip):
        p.limiter.hit("30/minute", "auth-fail", ip, message="Too many failed authentications; try again later.")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send an API key as `Authorization: Bearer <key>`.")
    try:
        return p.orgs.authenticate(token.strip())
    except Unauthenticated:
        p.limiter.hit("30/minute", "auth-fail", ip, message="Too many failed authentications; try again later.")
        raise


@declares(ANONYMOUS, api_key())
def optional_principal(request: Request) -> Principal | None:
    """The principal when an API key is sent (and then it must be valid), else None (the public)."""
    if not request.headers.get("authorization"):
        return None
    return principal(request)


def scoped(scope: str):
    """A dependency: the API-key principal, which must hold ``scope``. A refusal is logged
    (``access_denied``) before the 403, through ``OrgService.require`` like every other check."""

    def dependency(request: Request) -> Principal:
        who = principal(request)
        return request.app.state.platform.orgs.require(who, scope, subject=request.url.path)

    dependency.__name__ = f"scoped_{scope.replace(':', '_')}"
    return declares(api_key(scope))(dependency)
