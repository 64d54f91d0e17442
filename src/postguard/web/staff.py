"""Staff pages: sign-in, sign-out and the home page with each role's menu.

Each staff page module adds its entries to ``MENU``: a ``MenuItem`` (link, text key, the roles that
may open it and, for pages of one organisation alone, that organisation). A member of staff sees only
the entries they may open."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from postguard.errors import Unauthenticated
from postguard.http.address import client_ip
from postguard.http.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    StaffContext,
    check_csrf,
    new_login_csrf,
    set_session_cookie,
    staff_page,
)
from postguard.principals import StaffPrincipal
from postguard.web.routes import page_texts, render

router = APIRouter(include_in_schema=False)



@dataclass(frozen=True)
class MenuItem:
    href: str
    key: str  # its text's key (declared with N_)
    roles: tuple[str, ...]
    org: str | None = None  # the one organisation whose staff may open it (None: any)

    def opens_for(self, principal: StaffPrincipal) -> bool:
        return principal.role in self.roles and (self.org is None or principal.org_code == self.org)


MENU: list[MenuItem] = []


def menu_for(principal: StaffPrincipal) -> list[tuple[str, str]]:
    """The (link, text key) of every entry ``principal`` may open."""
    return [(item.href, item.key) for item in MENU if item.opens_for(principal)]


def render_staff(request: Request, template: str, staff: StaffContext, status: int = 200, **ctx):
    return render(request, template, status=status, staff=staff, menu=menu_for(staff.principal), **ctx)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, host or protocol-relative ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/staff"
    parts = urlsplit(target)
    return "/staff" if parts.scheme or parts.netloc else target


def _login_page(request: Request, *, status: int = 200, error: str | None = None, org: str = "",
                username: str = "", next_: str = "/staff"):
    token = new_login_csrf()
    resp = render(request, "staff_login.html", status=status, login_csrf=token, error=error, org=org,
                  username=username, next=_safe_next(next_))
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                    secure=bool(request.app.state.settings.cookie_secure), path="/staff/login")
    return resp


@router.get("/staff/login")
def login_form(request: Request, next: str = "/staff"):
    return _login_page(request, next_=next)


@router.post("/staff/login")
def login(request: Request, org: str = Form(..., max_length=32), username: str = Form(..., max_length=64),
          password: str = Form(..., max_length=256), csrf: str = Form(""), next: str = Form("/staff")):
    platform = request.app.state.platform
    check_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE), csrf)
    platform.limiter.hit("20/minute", "staff-login", client_ip(request),
                         message="Too many sign-in attempts from here; wait a minute.")
    try:
        signed = platform.staff.sign_in(org_code=org, username=username, password=password)
    except Unauthenticated:
        _ = page_texts(request)
        return _login_page(request, status=401, error=_("sign_in_failed"), org=org, username=username, next_=next)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, resp, signed.token)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
    return resp


@router.post("/staff/logout")
def logout(request: Request, staff: StaffContext = Depends(staff_page())):
    request.app.state.platform.staff.sign_out(request.cookies[SESSION_COOKIE])
    resp = RedirectResponse("/staff/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/staff")
def staff_home(request: Request, staff: StaffContext = Depends(staff_page())):
    return render_staff(request, "staff_home.html", staff)
