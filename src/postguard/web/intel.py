"""Citizen pages: "Kiểm tra" (check anything) and "Báo cáo lừa đảo" (report a scam).

Values are posted, never put in a URL; forms carry a double-submit token (cookie + hidden field,
SameSite=Strict) so another site cannot post reports in a visitor's name. ``unknown`` is never shown
as safe.

A message may come with its sender, and the person may prove their number with a one-time code
(the proof of the own-data page: the ``pg_me`` cookie, HttpOnly, SameSite=Strict): the operator whose
template the message is then says whether it sent it to that number. The message travels in the
proof forms' hidden fields and is never stored; the check page is never cached."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from postguard.alerts.service import CATEGORIES as WARNING_CATEGORIES
from postguard.errors import InvalidInput, PayloadTooLarge, RateLimited, Unauthenticated
from postguard.http.address import client_ip
from postguard.http.proof import PROOF_COOKIE, PROOF_PURPOSE, PROOF_TTL, set_proof_cookie
from postguard.intel.service import CATEGORIES, Upload
from postguard.messages.text import MAX_BYTES, is_message
from postguard.messages.vietqr import MAX_IMAGE_BYTES, looks_like_payload
from postguard.otp import CHALLENGE_MAX
from postguard.senders.service import MAX_SENDER, ProvenPhone
from postguard.i18n import N_, other, texts
from postguard.vault.masking import mask_phone
from postguard.web.errors import field_words, said
from postguard.web.routes import page_texts, render

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
    if template == "check.html":  # answers about the person's own number, and their message in hidden fields
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _form_ok(request: Request, form) -> bool:
    cookie, given = request.cookies.get(COOKIE), form.get("form_token")
    return bool(cookie and isinstance(given, str) and hmac.compare_digest(cookie, given))


def _field(form, name: str) -> str:
    v = form.get(name)
    return v if isinstance(v, str) else ""


def _proven(request: Request) -> tuple[ProvenPhone | None, bool]:
    """The number the person proved (the own-data page's proof cookie), and whether a proof was there
    but is no longer live."""
    token = request.cookies.get(PROOF_COOKIE)
    if not token:
        return None, False
    try:
        return request.app.state.platform.senders.proven(token), False
    except Unauthenticated:
        return None, True


def _answer(request: Request, value: str, sender: str, image: bytes | None, phone: ProvenPhone | None) -> dict:
    """One indicator, or a message (with its sender and the proven number) or a QR code."""
    p = request.app.state.platform
    client = client_ip(request)
    if image:
        return p.messages.check(value.strip() or None, qr_image=image, sender=sender or None, phone=phone,
                                client=client)
    qr = looks_like_payload(value)
    if sender:  # a message's sender: the value is a message
        return p.messages.check(None if qr else value, qr=value if qr else None, sender=sender, phone=phone,
                                client=client)
    try:
        return p.intel.check(value, client=client)
    except InvalidInput:
        if not (is_message(value) or qr):
            raise
    return p.messages.check(None if qr else value, qr=value if qr else None, phone=phone,  # already counted once
                            client=client, limit=False)


async def _checked(request: Request, value: str, sender: str, image: bytes | None, phone: ProvenPhone | None,
                   **ctx):
    """The check page with the answer (or why there is none)."""
    carried = {"value": value if len(value.encode()) <= MAX_BYTES else "", "sender": sender[:MAX_SENDER]}
    shown = mask_phone(phone.e164) if phone is not None else None
    try:
        result = await run_in_threadpool(_answer, request, value, sender, image, phone)
    except InvalidInput as e:
        msgs = [field_words(page_texts(request), fe)[1] for fe in e.errors] or [said(page_texts(request), e)]
        return _page(request, "check.html", status=422, errors=msgs, form=carried, proven=shown, **ctx)
    except RateLimited:
        return _page(request, "check.html", status=429, error_key=N_("rate_limited"), form=carried, proven=shown, **ctx)
    from postguard.web.feedback import feedback_form  # it imports this module (the form cookie)

    feedback = feedback_form(request.app.state.platform.settings, value, result.get("label")) \
        if result.get("type") == "message" and not image else None
    return _page(request, "check.html", result=result, form=carried, proven=shown, feedback=feedback, **ctx)


@router.get("/kiem-tra")
def check_form(request: Request):
    return _page(request, "check.html", form={})


@router.post("/kiem-tra")
async def check_submit(request: Request):
    """One indicator, a whole message or a QR payload (``value``), or a QR image (``qr_image``,
    multipart, at most ``MAX_IMAGE_BYTES``), with a message's ``sender``. Nothing of it is stored or
    logged."""
    form = await request.form(max_files=1, max_fields=6, max_part_size=MAX_IMAGE_BYTES + 1)
    if not _form_ok(request, form):
        return _page(request, "check.html", status=403, error_key=N_("form_expired"), form={})
    value, sender = _field(form, "value"), _field(form, "sender").strip()
    upload = form.get("qr_image")
    image = await upload.read(MAX_IMAGE_BYTES + 1) if upload is not None and not isinstance(upload, str) \
        and upload.filename else None
    phone, expired = await run_in_threadpool(_proven, request)
    return await _checked(request, value, sender, image, phone, proof_expired=expired)


@router.post("/kiem-tra/ma")
async def check_send_code(request: Request):
    """Send a one-time code to the person's number (the own-data page's proof, purpose ``recipient``);
    the message and its sender travel on in the code form."""
    form = await request.form(max_files=0, max_fields=6, max_part_size=MAX_BYTES * 4)
    if not _form_ok(request, form):
        return _page(request, "check.html", status=403, error_key=N_("form_expired"), form={})
    carried = {"value": _field(form, "value"), "sender": _field(form, "sender")[:MAX_SENDER]}
    phone = _field(form, "phone")[:40]
    p = request.app.state.platform

    def send():
        p.limiter.hit("60/minute", "me", client_ip(request), message="Too many requests from here; wait a minute.")
        return p.otp.send(purpose=PROOF_PURPOSE, phone=phone, client=client_ip(request))

    try:
        sent = await run_in_threadpool(send)
    except (InvalidInput, RateLimited) as e:
        key = N_("me_rate_limited") if isinstance(e, RateLimited) else N_("me_phone_invalid")
        return _page(request, "check.html", status=e.status, error_key=key, form=carried,
                     prove={"step": "phone", "phone": phone})
    return _page(request, "check.html", form=carried, prove={"step": "code", "phone": phone,
                                                             "challenge": sent.challenge})


@router.post("/kiem-tra/xac-minh")
async def check_verify_code(request: Request):
    """Check the code; on success the proof cookie is set (for the own-data page too) and the message
    is checked again with the proven number."""
    form = await request.form(max_files=0, max_fields=8, max_part_size=MAX_BYTES * 4)
    if not _form_ok(request, form):
        return _page(request, "check.html", status=403, error_key=N_("form_expired"), form={})
    value, sender = _field(form, "value"), _field(form, "sender").strip()
    phone, code, challenge = _field(form, "phone")[:40], _field(form, "code")[:12], _field(form, "challenge")
    p = request.app.state.platform

    def verify() -> str:
        p.limiter.hit("20/10 minutes", "me-verify", client_ip(request), message="Too many codes tried from here.")
        return p.otp.verify(purpose=PROOF_PURPOSE, phone=phone, code=code, challenge=challenge[:CHALLENGE_MAX])

    try:
        e164 = await run_in_threadpool(verify)
    except (InvalidInput, RateLimited, Unauthenticated) as e:
        key = "me_rate_limited" if isinstance(e, RateLimited) else "me_code_wrong" \
            if isinstance(e, Unauthenticated) else "me_phone_invalid"
        return _page(request, "check.html", status=e.status, error_key=key,
                     form={"value": value, "sender": sender[:MAX_SENDER]},
                     prove={"step": "code", "phone": phone, "challenge": challenge[:CHALLENGE_MAX]})
    token = await run_in_threadpool(lambda: p.otp.issue_proof(purpose=PROOF_PURPOSE, phone=e164, ttl=PROOF_TTL))
    if value.strip():
        resp = await _checked(request, value, sender, None, ProvenPhone(e164))
    else:
        resp = _page(request, "check.html", form={"sender": sender}, proven=mask_phone(e164))
    set_proof_cookie(request, resp, token)
    return resp


@router.get("/bao-cao")
def report_form(request: Request):
    return _page(request, "report.html", form={})


REPORT_FIELDS = ("values", "category", "description", "amount_lost_vnd", "contact")
# Each refused field's name, and a refused amount's reason by its code.
FIELD_NAMES = {"amount_lost_vnd": N_("report_field_amount_lost_vnd"), "category": N_("report_field_category"),
    "contact": N_("report_field_contact"), "description": N_("report_field_description"),
    "evidence": N_("report_field_evidence"), "evidence_item": N_("report_field_evidence_item"),
    "values": N_("report_field_values"), "values_item": N_("report_field_values_item")}
AMOUNT_REASONS = {"ambiguous": N_("amount_err_ambiguous"), "fraction": N_("amount_err_fraction"),
    "negative": N_("amount_err_negative"), "out_of_range": N_("amount_err_out_of_range"),
    "too_large": N_("amount_err_too_large"), "too_small": N_("amount_err_too_small"),
    "unreadable": N_("amount_err_unreadable")}
# The service's names for the form's fields (``indicators[2]`` is the third value given).
_REPORT_FIELD_OF = {"indicators": "values", "category": "category", "description": "description",
                    "amount_lost_vnd": "amount_lost_vnd", "contact": "contact", "evidence": "evidence"}


def _report_errors(request: Request, err: InvalidInput | PayloadTooLarge,
                   typed: dict[str, str]) -> list[dict[str, str | None]]:
    """Each refused field of the report form, named in the page's language with the other beside it
    (``Số tiền bị mất (Amount lost)``), and why; an amount's reason in the page's language."""
    _ = page_texts(request)
    alt_ = texts(other(_.lang))
    lines = [n for n, line in enumerate(typed.get("values", "").splitlines(), 1) if line.strip()]
    out: list[dict[str, str | None]] = []
    for fe in err.errors:
        base, _sep, index = fe.field.partition("[")
        field = _REPORT_FIELD_OF.get(base)
        # the other language's name beside it, marked as such (``lang``) for readers and screen readers
        name = Markup('{} (<span lang="{}">{}</span>)').format(_(FIELD_NAMES[field]), alt_.lang,
                                                              alt_(FIELD_NAMES[field])) if field else fe.field
        if field and f"{field}_item" in FIELD_NAMES and index.rstrip("]").isdigit():
            i = int(index.rstrip("]"))
            where = lines[i] if field == "values" and i < len(lines) else i + 1
            name += Markup(" — ") + _(FIELD_NAMES[field + "_item"]).format(n=where)
        message = _(AMOUNT_REASONS[fe.code]) if field == "amount_lost_vnd" and fe.code in AMOUNT_REASONS \
            else field_words(_, fe)[1]
        out.append({"field": field or fe.field, "name": name, "message": message})
    if not out:
        out.append({"field": None, "name": None, "message": said(_, err)})
    return out


@router.post("/bao-cao")
async def report_submit(request: Request):
    """A scam report. Whatever is refused, the form comes back with everything typed in it and each
    refused field named (the files must be chosen again: a browser never refills a file input)."""
    p = request.app.state.platform
    s = p.settings
    form = await request.form(max_files=s.intel_evidence_max_files + 1, max_fields=12,
                              max_part_size=s.intel_evidence_max_bytes + 1)
    typed = {k: _field(form, k) for k in REPORT_FIELDS}
    if not _form_ok(request, form):  # an hour went by: nothing is stored, what was typed comes back to send again
        return _page(request, "report.html", status=403, error_key=N_("form_expired"), form=typed)
    uploads = []
    for f in form.getlist("evidence"):
        if isinstance(f, str) or not f.filename:
            continue
        uploads.append(Upload(await f.read(s.intel_evidence_max_bytes + 1), f.content_type))
    try:
        result = await run_in_threadpool(lambda: p.intel.report(
            indicators=[line.strip() for line in typed["values"].splitlines() if line.strip()],
            category=typed["category"], description=typed["description"] or None,
            amount_lost_vnd=typed["amount_lost_vnd"] or None, contact=typed["contact"] or None,
            evidence=uploads, client=client_ip(request)))
    except (InvalidInput, PayloadTooLarge) as e:
        errors = _report_errors(request, e, typed)
        return _page(request, "report.html", status=e.status, errors=errors, form=typed,
                     invalid={x["field"] for x in errors}, files_again=bool(uploads))
    except RateLimited:
        return _page(request, "report.html", status=429, error_key=N_("rate_limited"), form=typed)
    return _page(request, "report.html", status=201, result=result)
