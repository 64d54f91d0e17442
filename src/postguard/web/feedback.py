""""Kết quả này sai? / Is this verdict wrong?": the form under a message check's answer on
``/kiem-tra`` (``check_feedback.html``) and where it posts (``/kiem-tra/phan-hoi``).

The form shows the message that would be sent (the person may remove their own name or number
first) and asks for explicit consent; the server checks the text again itself
(``postguard.messages.feedback``). Pages that show a message are never cached (``no-store``)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from postguard.errors import Conflict, InvalidInput, PayloadTooLarge, RateLimited
from postguard.http.address import client_ip
from postguard.i18n import N_
from postguard.messages.corpus import LABELS
from postguard.messages.feedback import MAX_COMMENT
from postguard.settings import Settings
from postguard.web.errors import field_lines, said
from postguard.web.intel import COOKIE
from postguard.web.routes import page_texts, render

router = APIRouter(include_in_schema=False)
PAGE = "check_feedback_page.html"


def feedback_form(settings: Settings, text: str | None, label: object) -> dict[str, Any] | None:
    """What the form under a message answer needs (None: no form, e.g. for a QR image, whose text
    the page does not have)."""
    if not text or not text.strip() or not isinstance(label, str) or label not in LABELS:
        return None
    return {"text": text, "label": label, "days": settings.message_feedback_retention_days, "labels": LABELS,
            "max_comment": MAX_COMMENT, "expected": None, "comment": "", "open": False}


def _page(request: Request, status: int = 200, **ctx):
    token = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    resp = render(request, PAGE, status=status, form_token=token, **ctx)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=3600,
                    secure=request.url.scheme == "https")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.post("/kiem-tra/phan-hoi")
async def feedback_submit(request: Request):
    p = request.app.state.platform
    form = await request.form(max_files=0, max_fields=10)

    def text(k: str) -> str:
        v = form.get(k)
        return v if isinstance(v, str) else ""

    label = text("label")
    again = feedback_form(p.settings, text("text"), label)
    if again is not None:
        again.update(expected=text("expected") or None, comment=text("comment"), open=True)
    cookie, given = request.cookies.get(COOKIE), form.get("form_token")
    if not (cookie and isinstance(given, str) and hmac.compare_digest(cookie, given)):
        return _page(request, status=403, error_key=N_("form_expired"), feedback=again)
    try:
        result = await run_in_threadpool(lambda: p.message_feedback.submit(
            text=text("text"), label=label, expected=text("expected") or None, comment=text("comment") or None,
            consent=form.get("consent") == "yes", client=client_ip(request)))
    except (InvalidInput, PayloadTooLarge) as e:
        _ = page_texts(request)
        return _page(request, status=e.status, errors=field_lines(_, e) or [said(_, e)],
                     consent_missing=any(fe.code == "consent_required" for fe in e.errors), feedback=again)
    except Conflict as e:
        return _page(request, status=409, conflict=said(page_texts(request), e))
    except RateLimited:
        return _page(request, status=429, error_key=N_("rate_limited"), feedback=again)
    return _page(request, status=201, done=result)
