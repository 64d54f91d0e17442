"""Staff sign-in over HTTP: session cookie, CSRF, and role checks that log every refusal.

Pages, and the API routes that are for people (reveals, deliveries), declare who may use them with
``Depends(staff_page(*roles))``. A refused request is appended to the access log (``access_denied``)
and answered 403 — as an HTML page when a browser asks for one, otherwise as problem+json like the
API. Unsafe methods need the session's CSRF token, sent as the
``csrf`` form field or the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from postguard.access.staff import SESSION_FOR
from postguard.errors import Forbidden, Unauthenticated
from postguard.http.address import client_ip
from postguard.http.answers import prefers_html
from postguard.http.security import declares, staff_session
from postguard.principals import StaffPrincipal

SESSION_COOKIE = "pg_session"
LOGIN_CSRF_COOKIE = "pg_login_csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class StaffContext:
    principal: StaffPrincipal
    csrf: str


class LoginRequired(Unauthenticated):
    """A page needs a signed-in member of staff; browsers are sent to the sign-in page."""


def wants_html(request: Request) -> bool:
    """A browser asking for a page (``Accept`` ranks HTML above JSON), not a program."""
    return prefers_html(request.headers.get("accept"))


def set_session_cookie(request: Request, response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_FOR.total_seconds()), httponly=True,
                        samesite="strict", secure=bool(request.app.state.settings.cookie_secure), path="/")


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/staff/login?next={quote(target, safe='')}", status_code=303)


async def _form_csrf(request: Request) -> str | None:
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get("csrf")
        return field if isinstance(field, str) else None  # a file sent as "csrf" is no token
    return given


def staff_page(*roles: str):
    """A dependency: the signed-in staff member, who must hold one of ``roles`` (any role when empty)."""

    async def dependency(request: Request) -> StaffContext:
        platform = request.app.state.platform
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise LoginRequired("Please sign in.")
        try:
            # in the thread pool: a database query on the event loop stalls every request in flight
            principal, csrf = await run_in_threadpool(platform.staff.session, token)
        except Unauthenticated:
            raise LoginRequired("Your session has ended; please sign in again.") from None
        if request.method not in SAFE_METHODS:
            check_csrf(request, csrf, await _form_csrf(request), principal=principal)
        if roles and principal.role not in roles:
            deny(request, principal, f"role {principal.role} may not use this page")
        return StaffContext(principal, csrf)

    return declares(staff_session(*roles))(dependency)


ANONYMOUS_REFUSALS = "30/minute"  # refusals of anonymous forms logged per client address, then 429


def check_csrf(request: Request, expected: str | None, given: str | None, *, principal=None) -> None:
    """The one CSRF check of every form (staff sessions and the public's double-submit cookies). A
    forged or stale form is a refusal like any other: logged (``access_denied``), then 403. Anonymous
    refusals are rate limited per client first, so nobody can fill the access log for free."""
    platform = request.app.state.platform
    try:
        platform.staff.check_csrf(expected or "", given)
    except Forbidden as e:
        if principal is None:
            platform.limiter.hit(ANONYMOUS_REFUSALS, "refused-form", client_ip(request),
                                 message="Too many refused forms from here; wait a minute.")
        platform.orgs.refuse(principal, reason="missing or wrong CSRF token", subject=request.url.path,
                             details={"method": request.method}, message=e.detail)


def current_staff(request: Request) -> StaffPrincipal | None:
    """The signed-in staff member, if any, for public pages that adapt to them (no refusal, no log)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        principal, _ = request.app.state.platform.staff.session(token)
    except Unauthenticated:
        return None
    return principal


def deny(request: Request, principal: StaffPrincipal, reason: str) -> None:
    """Log the refusal, then refuse (a refusal that cannot be logged still refuses)."""
    request.app.state.platform.orgs.refuse(principal, reason=reason, subject=request.url.path,
                                           details={"method": request.method},
                                           message="Your role does not allow this.")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
