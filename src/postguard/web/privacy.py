"""Pages for transparency: the person's "who accessed my data" (``/du-lieu-cua-toi``) and the
data-protection officer's requests and incidents (``/staff/dpo/...``).

The person's pages work without JavaScript: phone → one-time code → the proof cookie (HttpOnly,
SameSite=Strict) → their shipments and who accessed them. The code form carries the code's challenge
handle in a hidden field (it proves nothing without the code). Forms carry a double-submit CSRF token.
DPO pages: the ``dpo`` role acts; administrators may read the lists (see docs/security.md).
"""

from __future__ import annotations

import secrets
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from postguard.errors import InvalidInput, PostguardError, RateLimited, Unauthenticated
from postguard.http.address import client_ip
from postguard.http.auth import StaffContext, check_csrf, staff_page
from postguard.http.proof import PROOF_COOKIE, PROOF_PURPOSE, PROOF_TTL, proof_token, set_proof_cookie
from postguard.i18n import N_
from postguard.otp import CHALLENGE_MAX
from postguard.web.errors import field_words, said
from postguard.web.routes import page_texts, render
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)
ME = "/du-lieu-cua-toi"
ME_CSRF = "pg_me_csrf"

MENU.append(MenuItem("/staff/dpo/requests", N_("menu_dsr"), ("dpo", "admin")))
MENU.append(MenuItem("/staff/dpo/incidents", N_("menu_incidents"), ("dpo", "admin")))


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- the person's pages -----------------------------------------------------------------------------
def _me_page(request: Request, *, status: int = 200, **ctx):
    token = request.cookies.get(ME_CSRF) or secrets.token_urlsafe(24)
    resp = render(request, "my_data.html", status=status, csrf=token, **ctx)
    resp.set_cookie(ME_CSRF, token, max_age=3600, httponly=True, samesite="strict",
                    secure=bool(request.app.state.settings.cookie_secure), path=ME)
    return _no_store(resp)


def _check_me_csrf(request: Request, given: str) -> None:
    check_csrf(request, request.cookies.get(ME_CSRF), given)


def _error_text(request: Request, err: PostguardError) -> str:
    _ = page_texts(request)
    if isinstance(err, RateLimited):
        return _("me_rate_limited")
    if isinstance(err, Unauthenticated):
        return _("me_code_wrong")
    if isinstance(err, InvalidInput) and any(e.field == "phone" for e in err.errors):
        return _("me_phone_invalid")
    return said(_, err)


@router.get(ME)
def my_data(request: Request, filed: str | None = None):
    p = request.app.state.platform
    try:
        phone = p.otp.open_proof(proof_token(request), purpose=PROOF_PURPOSE)
    except Unauthenticated:
        return _me_page(request, step="phone")
    p.limiter.hit("60/minute", "me", client_ip(request), message="Too many requests from here; wait a minute.")
    data = p.privacy.my_data(phone)
    return _me_page(request, step="data", data=data, requests=p.privacy.my_requests(phone),
                    orgs=p.orgs.list(), filed=filed, found_orgs={s["organisation"]["code"] for s in data["shipments"]})


@router.post(ME + "/ma")
def send_code(request: Request, phone: str = Form(..., max_length=40), csrf: str = Form("")):
    _check_me_csrf(request, csrf)
    p = request.app.state.platform
    try:
        p.limiter.hit("60/minute", "me", client_ip(request), message="Too many requests from here; wait a minute.")
        sent = p.otp.send(purpose=PROOF_PURPOSE, phone=phone, client=client_ip(request))
    except (InvalidInput, RateLimited) as e:
        return _me_page(request, step="phone", status=e.status, error=_error_text(request, e), phone=phone)
    return _me_page(request, step="code", phone=phone, challenge=sent.challenge)


@router.post(ME + "/xac-minh")
def verify_code(request: Request, phone: str = Form(..., max_length=40), code: str = Form(..., max_length=12),
                challenge: str = Form("", max_length=CHALLENGE_MAX), csrf: str = Form("")):
    _check_me_csrf(request, csrf)
    p = request.app.state.platform
    try:
        p.limiter.hit("20/10 minutes", "me-verify", client_ip(request), message="Too many codes tried from here.")
        e164 = p.otp.verify(purpose=PROOF_PURPOSE, phone=phone, code=code, challenge=challenge)
    except (InvalidInput, RateLimited, Unauthenticated) as e:
        return _me_page(request, step="code", status=e.status, error=_error_text(request, e), phone=phone,
                        challenge=challenge)
    resp = RedirectResponse(ME, status_code=303)
    set_proof_cookie(request, resp, p.otp.issue_proof(purpose=PROOF_PURPOSE, phone=e164, ttl=PROOF_TTL))
    return resp


@router.post(ME + "/yeu-cau")
def file_request(request: Request, kind: str = Form(..., max_length=16), org: str = Form(..., max_length=32),
                 csrf: str = Form("")):
    _check_me_csrf(request, csrf)
    p = request.app.state.platform
    phone = p.otp.open_proof(proof_token(request), purpose=PROOF_PURPOSE)
    view = p.privacy.file_request(phone, org_code=org, kind=kind)
    return RedirectResponse(f"{ME}?filed={view['ref']}", status_code=303)


@router.post(ME + "/thoat")
def sign_out(request: Request, csrf: str = Form("")):
    _check_me_csrf(request, csrf)
    resp = RedirectResponse(ME, status_code=303)
    resp.delete_cookie(PROOF_COOKIE, path="/")
    return resp


# -- the DPO's pages ----------------------------------------------------------------------------------
def _requests_page(request: Request, staff: StaffContext, *, status: int = 200, **ctx):
    items = request.app.state.platform.privacy.list_requests(staff.principal)
    return render_staff(request, "dpo_requests.html", staff, status=status, items=items,
                        can_act=staff.principal.role == "dpo", **ctx)


def _done(path: str, state: str, ref: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?state={state}&ref={ref}", status_code=303)


def _message(state: str | None, ref: str | None) -> tuple[str, str] | None:
    return (state, ref) if state in STATES and ref and ref.replace("-", "").isalnum() else None


STATES = ("acknowledged", "completed", "waiting", "recorded", "notified")


@router.get("/staff/dpo/requests")
def dpo_requests(request: Request, state: str | None = None, ref: str | None = None,
                 staff: StaffContext = Depends(staff_page("dpo", "admin"))):
    return _requests_page(request, staff, message=_message(state, ref))


@router.post("/staff/dpo/requests/{ref}/acknowledge")
def dpo_acknowledge(request: Request, ref: str, staff: StaffContext = Depends(staff_page("dpo"))):
    view = request.app.state.platform.privacy.acknowledge(staff.principal, ref)
    return _done("/staff/dpo/requests", "acknowledged", view["ref"])


@router.post("/staff/dpo/requests/{ref}/complete")
def dpo_complete(request: Request, ref: str, confirm: str = Form("", max_length=8),
                 staff: StaffContext = Depends(staff_page("dpo"))):
    """Complete a request. A deletion destroys data for good, so its first submission only shows what
    will happen and asks again (a second form, no script needed); ``confirm=yes`` shreds."""
    privacy = request.app.state.platform.privacy
    if confirm != "yes":
        asked = privacy.get_request(staff.principal, ref)
        if asked["kind"] == "deletion" and asked["status"] != "completed":
            return render_staff(request, "dpo_confirm.html", staff, item=asked)
    view = privacy.complete(staff.principal, ref)
    return _done("/staff/dpo/requests", "completed" if view["status"] == "completed" else "waiting", view["ref"])


@router.get("/staff/dpo/requests/{ref}/export")
def dpo_export(request: Request, ref: str, staff: StaffContext = Depends(staff_page("dpo"))):
    data = request.app.state.platform.privacy.export(staff.principal, ref)
    return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="{data["request"]}.json"'})


def _incidents_page(request: Request, staff: StaffContext, *, status: int = 200, **ctx):
    items = request.app.state.platform.privacy.list_incidents(staff.principal)
    return render_staff(request, "dpo_incidents.html", staff, status=status, items=items,
                        can_act=staff.principal.role == "dpo", **ctx)


@router.get("/staff/dpo/incidents")
def dpo_incidents(request: Request, state: str | None = None, ref: str | None = None,
                  staff: StaffContext = Depends(staff_page("dpo", "admin"))):
    return _incidents_page(request, staff, message=_message(state, ref))


@router.post("/staff/dpo/incidents")
def dpo_incident_create(request: Request, detected_at: str = Form("", max_length=40),
                        description: str = Form("", max_length=4000), affected_estimate: str = Form("0", max_length=12),
                        staff: StaffContext = Depends(staff_page("dpo"))):
    try:
        view = request.app.state.platform.privacy.create_incident(
            staff.principal, detected_at=detected_at, description=description, affected_estimate=affected_estimate)
    except InvalidInput as e:
        _ = page_texts(request)
        return _incidents_page(request, staff, status=422,
                               errors=[{"field": name, "message": why} for name, why in
                                       (field_words(_, fe) for fe in e.errors)],
                               form={"detected_at": detected_at, "description": description,
                                     "affected_estimate": affected_estimate})
    return _done("/staff/dpo/incidents", "recorded", view["ref"])


@router.post("/staff/dpo/incidents/{ref}/notify")
def dpo_incident_notify(request: Request, ref: str, staff: StaffContext = Depends(staff_page("dpo"))):
    view = request.app.state.platform.privacy.notify_incident(staff.principal, ref)
    return _done("/staff/dpo/incidents", "notified", view["ref"])
