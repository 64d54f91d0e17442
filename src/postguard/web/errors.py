"""Error pages: what a browser is shown instead of problem+json (``html_errors``, which the app hands
to its error handlers).

Only a request whose ``Accept`` ranks HTML above JSON gets a page (``postguard.http.answers``);
programs keep problem+json. A page keeps the answer's status and headers (``Retry-After``,
``WWW-Authenticate``, ``Allow``) and says what happened in the page's language first (Vietnamese
unless ``?lang=en``), then in the other: the fields of a refused request by name, when to try again
after a 429, a sign-in link where a session is missing, a reference for an error of the server.
Nothing else of the error is shown (its detail is English and may be internal; never a traceback)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from postguard.errors import FieldError, PostguardError, RateLimited
from postguard.http.answers import error_headers
from postguard.http.auth import SAFE_METHODS, LoginRequired, login_redirect, wants_html
from postguard.web.i18n import TEXTS, lang_of
from postguard.web.routes import render

VN_TIME = timezone(timedelta(hours=7))
STATUSES = (400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 429, 500, 502, 503)
"""The statuses with texts of their own (``error_<status>_title``, ``error_<status>_body``); any other
is told as 400 or 500."""
MAX_FIELDS = 20  # a page names at most this many refused fields
PERSONAL_PREFIXES = ("/du-lieu-cua-toi", "/v1/me")


def _texts_of(status: int) -> int:
    return status if status in STATUSES else 500 if status >= 500 else 400


def _field(t: dict[str, str], e: FieldError) -> tuple[str, str]:
    """A refused field named in the page's language (its last named part: ``items.0.phone`` is a
    phone number), with the reason by its code."""
    parts = [p for p in e.field.split(".") if not p.isdigit()]
    name = t.get(f"error_field_{parts[-1]}", parts[-1]) if parts else e.field
    return name, t.get(f"error_code_{e.code}", t["error_code_invalid"])


def _links(t: dict[str, str], request: Request, status: int, staff: bool) -> list[tuple[str, str]]:
    path = request.url.path
    if status == 401:
        if staff:
            target = "/staff/login"
            if request.method in SAFE_METHODS:
                target += "?next=" + quote(path + (f"?{request.url.query}" if request.url.query else ""), safe="")
            return [(target, t["sign_in"])]
        if path.startswith(PERSONAL_PREFIXES):
            return [("/du-lieu-cua-toi", t["error_prove"])]
        return [("/docs", t["error_docs"]), ("/", t["error_home"])]
    if staff:
        return [("/staff", t["staff_home"])]
    return [("/", t["error_home"])]


def _version(lang: str, request: Request, err: PostguardError, status: int, *, staff: bool,
             until: datetime | None, reference: str | None) -> dict:
    """What the page says in one language."""
    t = TEXTS[lang]
    kind = _texts_of(status)
    wait = None
    if isinstance(err, RateLimited) and until is not None:
        seconds = max(1, int(err.retry_after))
        amount = t["error_wait_seconds"].format(n=seconds) if seconds < 60 else \
            t["error_wait_minutes"].format(n=math.ceil(seconds / 60))
        wait = t["error_retry"].format(wait=amount, at=until.astimezone(VN_TIME).strftime("%H:%M:%S"))
    body = t[f"error_{kind}_body"].format(method=request.method[:16])
    api = status == 401 and not staff and request.url.path.startswith(("/v1/", "/taxii2/", "/metrics")) \
        and not request.url.path.startswith(PERSONAL_PREFIXES)
    return {
        "lang": lang,
        "title": t[f"error_{kind}_title"],
        "body": body,
        "api": t["error_401_api"] if api else None,
        "fields_title": t["error_fields"],
        "fields": [_field(t, e) for e in err.errors[:MAX_FIELDS]],
        "retry": wait,
        "logged": t["refusal_logged"] if status == 403 else None,
        "reference": (t["error_reference"], reference) if reference else None,
        "links": _links(t, request, status, staff),
    }


def html_errors(request: Request, err: PostguardError, *, status: int | None = None,
                headers: Mapping[str, str] | None = None, reference: str | None = None) -> Response | None:
    """A page for a browser's request (None for a program's): a missing staff session sends a
    browser's GET to the sign-in page, anything else is the error page of ``status`` (``err.status``
    unless given)."""
    if not wants_html(request):
        return None
    staff = isinstance(err, LoginRequired) or request.url.path.startswith("/staff")
    if isinstance(err, LoginRequired) and request.method in SAFE_METHODS:
        return login_redirect(request)
    status = status or err.status
    lang = lang_of(request.query_params.get("lang"), request.cookies.get("lang"))
    other = "en" if lang == "vi" else "vi"
    until = None
    if isinstance(err, RateLimited):
        until = datetime.now(timezone.utc) + timedelta(seconds=int(err.retry_after))
    versions = [_version(code, request, err, status, staff=staff, until=until, reference=reference)
                for code in (lang, other)]
    page = render(request, "error.html", status=status, versions=versions)
    page.headers.update({**error_headers(err), **(headers or {}), "Cache-Control": "no-store"})
    return page
