"""Caller identification pages: the citizen's "Kiểm tra cuộc gọi shipper" (check, one-time-code proof of
their number, scam report) and the courier's call view (today's spoken codes, "Gọi" creating the call
intent and masked-call session, their registered numbers).

Public forms carry a double-submit CSRF token (cookie + hidden field); the code form carries the
code's challenge handle in a hidden field; the proof of the citizen's number lives in an HttpOnly,
SameSite=Strict cookie for 30 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool

from postguard.errors import (
    Forbidden,
    InvalidInput,
    PostguardError,
    RateLimited,
    Unauthenticated,
)
from postguard.http.address import client_ip
from postguard.http.auth import StaffContext, check_csrf, new_login_csrf, staff_page
from postguard.i18n import N_
from postguard.otp import CHALLENGE_MAX
from postguard.web.errors import said
from postguard.web.routes import page_texts, render
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)
PAGE = "/kiem-tra-cuoc-goi"
CSRF_COOKIE = "pg_cc_csrf"
PROOF_COOKIE = "pg_parcel_proof"
ASKED = ("transfer", "fee", "otp", "app", "link")
CLAIMS = ("courier", "bank")
# The form takes more than the check does, so that a transcript over its limit in bytes is answered
# on the page (the check names the field) rather than as the API's problem.
TRANSCRIPT_FORM_CHARS = 16384

FIELD_NAMES = {"amount_vnd": N_("cc_field_amount_vnd"), "asked": N_("cc_field_asked"),
    "caller": N_("cc_field_caller"), "claims": N_("cc_field_claims"), "code": N_("cc_field_code"),
    "note": N_("cc_field_note"), "number": N_("cc_field_number"), "operator": N_("cc_field_operator"),
    "payee": N_("cc_field_payee"), "phone": N_("cc_field_phone"), "transcript": N_("cc_field_transcript"),
    "waybill": N_("cc_field_waybill")}

MENU.append(MenuItem("/staff/calls", N_("calls_menu"), ("courier",)))


def _error(request: Request, err: PostguardError) -> dict:
    _ = page_texts(request)
    if isinstance(err, RateLimited):
        return {"message": _("cc_err_limited"), "fields": []}
    if isinstance(err, Unauthenticated):
        return {"message": _("cc_err_proof"), "fields": []}
    if isinstance(err, InvalidInput):
        return {"message": _("cc_err_invalid"),
                "fields": [_(FIELD_NAMES[e.field]) if e.field in FIELD_NAMES else e.field for e in err.errors]}
    return {"message": said(_, err), "fields": []}


def _page(request: Request, *, status: int = 200, **ctx):
    token = request.cookies.get(CSRF_COOKIE) or new_login_csrf()
    form = ctx.pop("form", {})
    proven = ctx.pop("proven", None) or bool(request.cookies.get(PROOF_COOKIE))
    # The language switch leads to the page itself (the forms post to sub-paths that only take POST).
    resp = render(request, "callcheck.html", status=status, csrf=token, asked_kinds=ASKED, claim_kinds=CLAIMS,
                  form=form, proven=proven, lang_path=PAGE, **ctx)
    resp.set_cookie(CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                    secure=bool(request.app.state.settings.cookie_secure), path=PAGE)
    return resp


def _check_csrf(request: Request, given: str) -> None:
    check_csrf(request, request.cookies.get(CSRF_COOKIE), given)


def _form(caller="", phone="", waybill="", amount="", asked=(), claims="", payee="", transcript="") -> dict:
    return {"caller": caller, "phone": phone, "waybill": waybill, "amount": amount, "asked": list(asked),
            "claims": claims, "payee": payee, "transcript": transcript}


@router.get(PAGE)
def call_check_page(request: Request):
    return _page(request)


async def _run_check(request: Request, form: dict, proof: str | None, *, proven: bool = False):
    p = request.app.state.platform
    try:
        result = await run_in_threadpool(
            lambda: p.callcheck.check(caller=form["caller"], phone=form["phone"] or None, proof=proof,
                                      waybill=form["waybill"] or None, amount_vnd=form["amount"] or None,
                                      asked=form["asked"], claims=form["claims"] or None, payee=form["payee"] or None,
                                      transcript=form["transcript"] or None, client=client_ip(request)))
    except PostguardError as err:
        return _page(request, status=err.status, form=form, error=_error(request, err), proven=proven)
    return _page(request, form=form, result=result, proven=proven)


@router.post(PAGE)
async def call_check_submit(request: Request, caller: str = Form("", max_length=40),
                            phone: str = Form("", max_length=40), waybill: str = Form("", max_length=60),
                            amount: str = Form("", max_length=20), asked: list[str] = Form([]),
                            claims: str = Form("", max_length=16), payee: str = Form("", max_length=100),
                            transcript: str = Form("", max_length=TRANSCRIPT_FORM_CHARS), csrf: str = Form("")):
    _check_csrf(request, csrf)
    form = _form(caller, phone, waybill, amount, asked, claims, payee, transcript)
    return await _run_check(request, form, request.cookies.get(PROOF_COOKIE))


@router.post(PAGE + "/otp")
async def call_check_send_code(request: Request, caller: str = Form("", max_length=40),
                               phone: str = Form("", max_length=40), waybill: str = Form("", max_length=60),
                               amount: str = Form("", max_length=20), asked: list[str] = Form([]),
                               claims: str = Form("", max_length=16), payee: str = Form("", max_length=100),
                               transcript: str = Form("", max_length=TRANSCRIPT_FORM_CHARS), csrf: str = Form("")):
    _check_csrf(request, csrf)
    form = _form(caller, phone, waybill, amount, asked, claims, payee, transcript)
    p = request.app.state.platform
    try:
        sent = await run_in_threadpool(lambda: p.callcheck.send_code(phone=phone, client=client_ip(request)))
    except PostguardError as err:
        return _page(request, status=err.status, form=form, error=_error(request, err))
    return _page(request, form=form, code_sent=True, challenge=sent["challenge"])


@router.post(PAGE + "/otp/verify")
async def call_check_confirm(request: Request, caller: str = Form("", max_length=40),
                             phone: str = Form("", max_length=40), waybill: str = Form("", max_length=60),
                             amount: str = Form("", max_length=20), asked: list[str] = Form([]),
                             claims: str = Form("", max_length=16), payee: str = Form("", max_length=100),
                             transcript: str = Form("", max_length=TRANSCRIPT_FORM_CHARS),
                             code: str = Form("", max_length=12), challenge: str = Form("", max_length=CHALLENGE_MAX),
                             csrf: str = Form("")):
    _check_csrf(request, csrf)
    form = _form(caller, phone, waybill, amount, asked, claims, payee, transcript)
    p = request.app.state.platform
    try:
        proof = await run_in_threadpool(lambda: p.callcheck.confirm_code(phone=phone, code=code, challenge=challenge,
                                                                        client=client_ip(request)))
    except PostguardError as err:
        return _page(request, status=err.status, form=form, code_sent=True, challenge=challenge,
                     error=_error(request, err))
    resp = await _run_check(request, form, proof, proven=True)
    resp.set_cookie(PROOF_COOKIE, proof, max_age=1800, httponly=True, samesite="strict",
                    secure=bool(request.app.state.settings.cookie_secure), path=PAGE)
    return resp


@router.post(PAGE + "/ma-xac-minh")
async def call_check_spoken_code(request: Request, waybill: str = Form("", max_length=60),
                                 code: str = Form("", max_length=12), csrf: str = Form("")):
    """The recipient (proof cookie) checks the code a caller said against their parcel's code of today."""
    _check_csrf(request, csrf)
    p = request.app.state.platform
    form = {**_form(), "waybill": waybill}
    try:
        got = await run_in_threadpool(lambda: p.callcheck.check_spoken_code(
            waybill=waybill, code=code, proof=request.cookies.get(PROOF_COOKIE), client=client_ip(request)))
    except PostguardError as err:
        return _page(request, status=err.status, form=form, error=_error(request, err))
    return _page(request, form=form, spoken_valid=got["valid"])


@router.post(PAGE + "/report")
async def call_check_report(request: Request, number: str = Form("", max_length=40),
                            asked: list[str] = Form([]), amount: str = Form("", max_length=20),
                            operator: str = Form("", max_length=32), note: str = Form("", max_length=500),
                            csrf: str = Form("")):
    _check_csrf(request, csrf)
    p = request.app.state.platform
    try:
        await run_in_threadpool(lambda: p.callcheck.report(
            number=number, asked=asked, amount_vnd=amount or None, operator=operator or None, note=note or None,
            client=client_ip(request)))
    except PostguardError as err:
        return _page(request, status=err.status, form=_form(number), error=_error(request, err))
    return _page(request, reported=True)


# -- the courier's view -------------------------------------------------------------------------------
# The code sent to a number the courier is registering: its challenge handle (it proves nothing without
# the code), when it expires and which number it went to, kept in the courier's browser so that the
# page shows the code form again after they went elsewhere, until the number is verified or the code
# expires. HttpOnly, SameSite=Strict, only under /staff/calls.
PENDING_COOKIE = "pg_courier_code"
PENDING_PATH = "/staff/calls"


def _pending_code(request: Request, staff: StaffContext) -> dict | None:
    """The code this browser was sent for one of ``staff``'s numbers: ``staff_id:last3:expiry:challenge``."""
    parts = (request.cookies.get(PENDING_COOKIE) or "").split(":", 3)
    if len(parts) != 4 or parts[0] != str(staff.principal.staff_id) or not (
            parts[2].isascii() and parts[2].isdigit() and len(parts[2]) <= 10):  # seconds since 1970, until 2286
        return None
    return {"last3": parts[1], "expires": datetime.fromtimestamp(int(parts[2]), UTC),
            "challenge": parts[3][:CHALLENGE_MAX]}


def _calls_page(request: Request, staff: StaffContext, *, status: int = 200, code: dict | None = None, **ctx):
    """The courier's parcels and numbers. A number awaiting verification shows its code form while the
    code sent to it is live (``code``, or the one this browser kept), else a button to send a new one."""
    p = request.app.state.platform
    view = p.calls.courier_view(staff.principal)
    phones = p.couriers.own_phones(staff.principal)
    code = code or _pending_code(request, staff)
    now = datetime.now(UTC)
    if code is not None and (len(code["last3"]) != 3 or (code["expires"] is not None and code["expires"] <= now)):
        code = None  # expired, or not a number's last three digits
    pending = [{**ph, "code": code if code is not None and ph["e164"].endswith(code["last3"]) else None}
               for ph in phones if ph["status"] == "pending"]
    return render_staff(request, "staff_calls.html", staff, status=status, parcels=view["parcels"], phones=phones,
                        pending=pending, **ctx)


@router.get("/staff/calls")
def calls_page(request: Request, staff: StaffContext = Depends(staff_page("courier"))):
    return _calls_page(request, staff)


@router.post("/staff/calls/call")
def calls_start(request: Request, waybill: str = Form(..., max_length=40),
                staff: StaffContext = Depends(staff_page("courier"))):
    p = request.app.state.platform
    try:
        started = p.calls.start_call(staff.principal, waybill=waybill)
    except Forbidden:
        raise
    except PostguardError as err:
        return _calls_page(request, staff, status=err.status, error=said(page_texts(request), err))
    return _calls_page(request, staff, started={**started, "waybill": waybill})


@router.post("/staff/calls/phones")
def calls_phone_add(request: Request, phone: str = Form(..., max_length=40),
                    staff: StaffContext = Depends(staff_page("courier"))):
    p = request.app.state.platform
    try:
        added = p.couriers.add_phone(org_code=staff.principal.org_code, username=staff.principal.username,
                                     phone=phone, client=client_ip(request))
    except PostguardError as err:
        return _calls_page(request, staff, status=err.status, error=said(page_texts(request), err))
    if added["challenge"] is None:  # already verified
        return _calls_page(request, staff)
    expires = datetime.fromisoformat(added["expires_at"])
    code = {"last3": added["phone"][-3:], "expires": expires, "challenge": added["challenge"]}
    resp = _calls_page(request, staff, code=code)
    resp.set_cookie(PENDING_COOKIE, f"{staff.principal.staff_id}:{code['last3']}:{int(expires.timestamp())}:"
                    f"{code['challenge']}", max_age=int((expires - datetime.now(UTC)).total_seconds()) + 1,
                    httponly=True, samesite="strict", secure=bool(request.app.state.settings.cookie_secure),
                    path=PENDING_PATH)
    return resp


@router.post("/staff/calls/phones/verify")
def calls_phone_verify(request: Request, phone: str = Form(..., max_length=40), code: str = Form(..., max_length=12),
                       challenge: str = Form("", max_length=CHALLENGE_MAX),
                       staff: StaffContext = Depends(staff_page("courier"))):
    p = request.app.state.platform
    try:
        p.couriers.verify_phone(org_code=staff.principal.org_code, username=staff.principal.username, phone=phone,
                                code=code, challenge=challenge, actor=staff.principal.actor)
    except PostguardError as err:
        kept = _pending_code(request, staff) or {"last3": phone.strip()[-3:], "expires": None, "challenge": challenge}
        return _calls_page(request, staff, status=err.status, error=said(page_texts(request), err), code=kept)
    resp = _calls_page(request, staff)
    resp.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    return resp
