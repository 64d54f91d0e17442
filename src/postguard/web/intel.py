"""Citizen pages: "Kiểm tra" (check anything) and "Báo cáo lừa đảo" (report a scam).

Values are posted, never put in a URL; forms carry a double-submit token (cookie + hidden field,
SameSite=Strict) so another site cannot post reports in a visitor's name. ``unknown`` is never shown
as safe."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from postguard.alerts.service import CATEGORIES as WARNING_CATEGORIES
from postguard.errors import InvalidInput, PayloadTooLarge, RateLimited
from postguard.http.address import client_ip
from postguard.intel.service import CATEGORIES, Upload
from postguard.messages.text import is_message
from postguard.messages.vietqr import MAX_IMAGE_BYTES, looks_like_payload
from postguard.web.routes import render

router = APIRouter(include_in_schema=False)
COOKIE = "pg_form"
CHECK_WARNINGS = 3


def _token(request: Request) -> str:
    return request.cookies.get(COOKIE) or secrets.token_urlsafe(24)


def _page(request: Request, template: str, status: int = 200, **ctx):
    token = _token(request)
    if template == "check.html":  # the latest warnings about scam methods, beside every check
        ctx["warnings"] = request.app.state.platform.warnings.list(limit=CHECK_WARNINGS)
        ctx["warning_categories"] = WARNING_CATEGORIES
    resp = render(request, template, status=status, form_token=token, categories=list(CATEGORIES), **ctx)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=3600,
                    secure=request.url.scheme == "https")
    return resp


def _form_ok(request: Request, form) -> bool:
    cookie, given = request.cookies.get(COOKIE), form.get("form_token")
    return bool(cookie and isinstance(given, str) and hmac.compare_digest(cookie, given))


@router.get("/kiem-tra")
def check_form(request: Request):
    return _page(request, "check.html")


@router.post("/kiem-tra")
async def check_submit(request: Request):
    """One indicator, a whole message or a QR payload (``value``), or a QR image (``qr_image``,
    multipart, at most ``MAX_IMAGE_BYTES``). Nothing of it is stored or logged."""
    form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_IMAGE_BYTES + 1)
    if not _form_ok(request, form):
        return _page(request, "check.html", status=403, error_key="form_expired")
    raw = form.get("value")
    value = raw if isinstance(raw, str) else ""
    upload = form.get("qr_image")
    image = await upload.read(MAX_IMAGE_BYTES + 1) if upload is not None and not isinstance(upload, str) \
        and upload.filename else None
    p = request.app.state.platform
    client = client_ip(request)
    try:
        if image:
            result = await run_in_threadpool(lambda: p.messages.check(value.strip() or None, qr_image=image,
                                                                      client=client))
        else:
            try:
                result = await run_in_threadpool(p.intel.check, value, client=client)
            except InvalidInput:
                if not (is_message(value) or looks_like_payload(value)):
                    raise
                qr = looks_like_payload(value)
                result = await run_in_threadpool(lambda: p.messages.check(  # already counted once
                    None if qr else value, qr=value if qr else None, client=client, limit=False))
    except InvalidInput as e:
        return _page(request, "check.html", status=422, errors=[fe.message for fe in e.errors])
    except RateLimited:
        return _page(request, "check.html", status=429, error_key="rate_limited")
    return _page(request, "check.html", result=result)


@router.get("/bao-cao")
def report_form(request: Request):
    return _page(request, "report.html")


@router.post("/bao-cao")
async def report_submit(request: Request):
    p = request.app.state.platform
    s = p.settings
    form = await request.form(max_files=s.intel_evidence_max_files + 1, max_fields=12,
                              max_part_size=s.intel_evidence_max_bytes + 1)
    if not _form_ok(request, form):
        return _page(request, "report.html", status=403, error_key="form_expired")

    def text(k: str) -> str:
        v = form.get(k)
        return v if isinstance(v, str) else ""

    uploads = []
    for f in form.getlist("evidence"):
        if isinstance(f, str) or not f.filename:
            continue
        uploads.append(Upload(await f.read(s.intel_evidence_max_bytes + 1), f.content_type))
    amount = text("amount_lost_vnd").replace(".", "").replace(",", "").replace(" ", "")
    try:
        if amount and not amount.isdigit():
            raise InvalidInput("The report was not accepted.", [])
        result = await run_in_threadpool(lambda: p.intel.report(
            indicators=[line.strip() for line in text("values").splitlines() if line.strip()],
            category=text("category"), description=text("description") or None,
            amount_lost_vnd=int(amount) if amount else None, contact=text("contact") or None,
            evidence=uploads, client=client_ip(request)))
    except (InvalidInput, PayloadTooLarge) as e:
        msgs = [f"{fe.field}: {fe.message}" for fe in e.errors] or [e.detail]
        return _page(request, "report.html", status=e.status, errors=msgs)
    except RateLimited:
        return _page(request, "report.html", status=429, error_key="rate_limited")
    return _page(request, "report.html", status=201, result=result)
