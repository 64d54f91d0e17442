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
from postguard.i18n import N_, Texts, lang_of, other, texts
from postguard.web.routes import render

VN_TIME = timezone(timedelta(hours=7))
# The statuses with texts of their own (a title and a sentence); any other is told as 400 or 500.
TITLES = {400: N_("error_400_title"), 401: N_("error_401_title"), 403: N_("error_403_title"),
    404: N_("error_404_title"), 405: N_("error_405_title"), 406: N_("error_406_title"), 409: N_("error_409_title"),
    410: N_("error_410_title"), 413: N_("error_413_title"), 415: N_("error_415_title"), 422: N_("error_422_title"),
    429: N_("error_429_title"), 500: N_("error_500_title"), 502: N_("error_502_title"), 503: N_("error_503_title")}
BODIES = {400: N_("error_400_body"), 401: N_("error_401_body"), 403: N_("error_403_body"),
    404: N_("error_404_body"), 405: N_("error_405_body"), 406: N_("error_406_body"), 409: N_("error_409_body"),
    410: N_("error_410_body"), 413: N_("error_413_body"), 415: N_("error_415_body"), 422: N_("error_422_body"),
    429: N_("error_429_body"), 500: N_("error_500_body"), 502: N_("error_502_body"), 503: N_("error_503_body")}
STATUSES = tuple(TITLES)
# Refused fields by their last named part, and why by the error's code (anything else: error_code_invalid).
FIELD_NAMES = {"action": N_("error_field_action"), "affected_estimate": N_("error_field_affected_estimate"),
    "amount": N_("error_field_amount"), "amount_vnd": N_("error_field_amount_vnd"), "asked": N_("error_field_asked"),
    "body": N_("error_field_body"), "body_en": N_("error_field_body_en"), "body_vi": N_("error_field_body_vi"),
    "caller": N_("error_field_caller"), "category": N_("error_field_category"),
    "challenge": N_("error_field_challenge"), "claims": N_("error_field_claims"), "code": N_("error_field_code"),
    "comment": N_("error_field_comment"), "consent": N_("error_field_consent"), "contact": N_("error_field_contact"),
    "courier": N_("error_field_courier"), "csrf": N_("error_field_csrf"), "decision": N_("error_field_decision"),
    "description": N_("error_field_description"), "detected_at": N_("error_field_detected_at"),
    "display_name": N_("error_field_display_name"), "domain": N_("error_field_domain"),
    "evidence": N_("error_field_evidence"), "expected": N_("error_field_expected"),
    "indicator": N_("error_field_indicator"), "justification": N_("error_field_justification"),
    "kind": N_("error_field_kind"), "label": N_("error_field_label"), "next": N_("error_field_next"),
    "note": N_("error_field_note"), "number": N_("error_field_number"), "occurred_on": N_("error_field_occurred_on"),
    "operator": N_("error_field_operator"), "org": N_("error_field_org"), "password": N_("error_field_password"),
    "payee": N_("error_field_payee"), "phone": N_("error_field_phone"), "qr": N_("error_field_qr"),
    "qr_image": N_("error_field_qr_image"), "reason": N_("error_field_reason"), "role": N_("error_field_role"),
    "sender": N_("error_field_sender"), "statement": N_("error_field_statement"), "text": N_("error_field_text"),
    "ticket": N_("error_field_ticket"), "title_en": N_("error_field_title_en"),
    "title_vi": N_("error_field_title_vi"), "transcript": N_("error_field_transcript"), "url": N_("error_field_url"),
    "username": N_("error_field_username"), "value": N_("error_field_value"), "waybill": N_("error_field_waybill"),
    "window_end": N_("error_field_window_end"), "window_start": N_("error_field_window_start")}
CODE_REASONS = {"ambiguous": N_("error_code_ambiguous"), "bad_crc": N_("error_code_bad_crc"),
    "bool_parsing": N_("error_code_bool_parsing"), "consent_required": N_("error_code_consent_required"),
    "datetime_from_date_parsing": N_("error_code_datetime_from_date_parsing"),
    "datetime_parsing": N_("error_code_datetime_parsing"), "empty": N_("error_code_empty"),
    "enum": N_("error_code_enum"), "extra_forbidden": N_("error_code_extra_forbidden"),
    "float_parsing": N_("error_code_float_parsing"), "greater_than": N_("error_code_greater_than"),
    "greater_than_equal": N_("error_code_greater_than_equal"), "in_future": N_("error_code_in_future"),
    "int_parsing": N_("error_code_int_parsing"), "int_type": N_("error_code_int_type"),
    "invalid": N_("error_code_invalid"), "invalid_account": N_("error_code_invalid_account"),
    "invalid_app": N_("error_code_invalid_app"), "invalid_domain": N_("error_code_invalid_domain"),
    "invalid_encoding": N_("error_code_invalid_encoding"), "invalid_phone": N_("error_code_invalid_phone"),
    "invalid_qr": N_("error_code_invalid_qr"), "invalid_url": N_("error_code_invalid_url"),
    "invalid_wallet": N_("error_code_invalid_wallet"), "json_invalid": N_("error_code_json_invalid"),
    "json_too_deep": N_("error_code_json_too_deep"), "less_than": N_("error_code_less_than"),
    "less_than_equal": N_("error_code_less_than_equal"), "literal_error": N_("error_code_literal_error"),
    "missing": N_("error_code_missing"), "no_crc": N_("error_code_no_crc"), "no_qr": N_("error_code_no_qr"),
    "not_a_message": N_("error_code_not_a_message"), "not_after_start": N_("error_code_not_after_start"),
    "required": N_("error_code_required"), "same_label": N_("error_code_same_label"),
    "string_too_long": N_("error_code_string_too_long"), "string_too_short": N_("error_code_string_too_short"),
    "string_type": N_("error_code_string_type"), "too_large": N_("error_code_too_large"),
    "too_long": N_("error_code_too_long"), "too_many": N_("error_code_too_many"),
    "too_short": N_("error_code_too_short"), "unknown_bank": N_("error_code_unknown_bank"),
    "unknown_wallet": N_("error_code_unknown_wallet"), "unreadable_image": N_("error_code_unreadable_image"),
    "unrecognised": N_("error_code_unrecognised"), "unsupported_image": N_("error_code_unsupported_image")}
# What happened, by the error's code (``PostguardError.code``), said with its parameters.
SAID = {"no_shipment": N_("err_no_shipment"), "no_shipment_assigned": N_("err_no_shipment_assigned")}
MAX_FIELDS = 20  # a page names at most this many refused fields
PERSONAL_PREFIXES = ("/du-lieu-cua-toi", "/v1/me")


def _texts_of(status: int) -> int:
    return status if status in STATUSES else 500 if status >= 500 else 400


def field_words(_: Texts, e: FieldError) -> tuple[str, str]:
    """A refused field named in the page's language (its last named part: ``items.0.phone`` is a
    phone number), with the reason by its code."""
    parts = [p for p in e.field.split(".") if not p.isdigit()]
    name = (_(FIELD_NAMES[parts[-1]]) if parts[-1] in FIELD_NAMES else parts[-1]) if parts else e.field
    return name, _(CODE_REASONS.get(e.code, CODE_REASONS["invalid"]))


def field_lines(_: Texts, err: PostguardError) -> list[str]:
    """Each refused field of ``err`` as ``name: reason`` in a page's language."""
    return [": ".join(field_words(_, e)) for e in err.errors[:MAX_FIELDS]]


def said(_: Texts, err: PostguardError, *, fields: bool = True) -> str:
    """A refusal in a page's language: what happened by the error's code, else (unless the page names
    them itself, ``fields=False``) each refused field by name and reason, else the sentence of its
    status. Never the error's detail (English, for programs)."""
    if err.code in SAID:
        return _(SAID[err.code]).format(**err.params)
    if err.errors and fields:
        return "; ".join(field_lines(_, err))
    return _(BODIES[_texts_of(err.status)]).format(method="")


def _links(_: Texts, request: Request, status: int, staff: bool) -> list[tuple[str, str]]:
    path = request.url.path
    if status == 401:
        if staff:
            target = "/staff/login"
            if request.method in SAFE_METHODS:
                target += "?next=" + quote(path + (f"?{request.url.query}" if request.url.query else ""), safe="")
            return [(target, _("sign_in"))]
        if path.startswith(PERSONAL_PREFIXES):
            return [("/du-lieu-cua-toi", _("error_prove"))]
        return [("/docs", _("error_docs")), ("/", _("error_home"))]
    if staff:
        return [("/staff", _("staff_home"))]
    return [("/", _("error_home"))]


def _version(lang: str, request: Request, err: PostguardError, status: int, *, staff: bool,
             until: datetime | None, reference: str | None) -> dict:
    """What the page says in one language."""
    _ = texts(lang)
    kind = _texts_of(status)
    wait = None
    if isinstance(err, RateLimited) and until is not None:
        seconds = max(1, int(err.retry_after))
        amount = _("error_wait_seconds").format(n=seconds) if seconds < 60 else \
            _("error_wait_minutes").format(n=math.ceil(seconds / 60))
        wait = _("error_retry").format(wait=amount, at=until.astimezone(VN_TIME).strftime("%H:%M:%S"))
    body = _(BODIES[kind]).format(method=request.method[:16])
    api = status == 401 and not staff and request.url.path.startswith(("/v1/", "/taxii2/", "/metrics")) \
        and not request.url.path.startswith(PERSONAL_PREFIXES)
    return {
        "lang": lang,
        "title": _(TITLES[kind]),
        "body": body,
        "api": _("error_401_api") if api else None,
        "fields_title": _("error_fields"),
        "fields": [field_words(_, e) for e in err.errors[:MAX_FIELDS]],
        "retry": wait,
        "logged": _("refusal_logged") if status == 403 else None,
        "reference": (_("error_reference"), reference) if reference else None,
        "links": _links(_, request, status, staff),
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
    until = None
    if isinstance(err, RateLimited):
        until = datetime.now(timezone.utc) + timedelta(seconds=int(err.retry_after))
    versions = [_version(code, request, err, status, staff=staff, until=until, reference=reference)
                for code in (lang, other(lang))]
    page = render(request, "error.html", status=status, versions=versions)
    page.headers.update({**error_headers(err), **(headers or {}), "Cache-Control": "no-store"})
    return page
