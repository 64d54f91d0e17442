"""The analyst console: the review queue, indicator decisions, appeals, official channels, warnings
and a chart of reports per day by category.

Only staff of the platform organisation (``PG-INTEL``) use it: analysts moderate, administrators
verify official channels. Anyone else signed in is refused, and the refusal is logged. Every decision
and every reveal goes through the intel service, which writes it to the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from postguard.alerts.service import CATEGORIES as WARNING_CATEGORIES
from postguard.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from postguard.http.auth import StaffContext, deny, staff_page
from postguard.http.params import INT64_MAX, RowId
from postguard.intel.normalize import PERSONAL_TYPES
from postguard.intel.service import CATEGORIES as REPORT_CATEGORIES
from postguard.intel.service import DECISIONS, KEY_ORG
from postguard.orgs.service import Principal
from postguard.i18n import N_, lang_of
from postguard.web.errors import field_lines, said
from postguard.web.routes import page_texts
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)
ANALYST = ("analyst",)
ADMIN = ("admin",)
STATS_ROLES = ("analyst", "admin")
NOTE_MAX = 2000

MENU.extend([  # the console is the platform organisation's alone
    MenuItem("/staff/intel/queue", N_("menu_intel_queue"), ANALYST, KEY_ORG),
    MenuItem("/staff/intel/appeals", N_("menu_intel_appeals"), ANALYST, KEY_ORG),
    MenuItem("/staff/intel/official", N_("menu_intel_official"), ADMIN, KEY_ORG),
    MenuItem("/staff/intel/warnings", N_("menu_intel_warnings"), ANALYST, KEY_ORG),
    MenuItem("/staff/intel/stats", N_("menu_intel_stats"), STATS_ROLES, KEY_ORG),
])


@dataclass(frozen=True)
class Console:
    staff: StaffContext
    principal: Principal  # what the intel service sees: scopes from the role


def console(*roles: str):
    """Signed-in staff with one of ``roles`` at the platform organisation (refusals are logged)."""
    page = staff_page(*roles)

    async def dependency(request: Request, staff: StaffContext = Depends(page)) -> Console:
        try:
            principal = request.app.state.platform.intel.staff_principal(staff.principal)
        except Forbidden:
            deny(request, staff.principal, f"only staff of {KEY_ORG} use the analyst console")
        return Console(staff, principal)

    return dependency


def _intel(request: Request):
    return request.app.state.platform.intel


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise InvalidInput("A reason is required.", [FieldError("note", "required: say why", code="required")])
    return note


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- queue and indicators -----------------------------------------------------------------------
@router.get("/staff/intel/queue")
def queue_page(request: Request, c: Console = Depends(console(*ANALYST))):
    items = _intel(request).queue(c.principal, limit=100, reported=True)
    hits = _intel(request).scanner.hits(c.principal, status="new", limit=50)
    return render_staff(request, "intel_queue.html", c.staff, items=items, hits=hits)


def _indicator_page(request: Request, c: Console, indicator_id: int, *, status: int = 200, reveal: bool = False,
                    error: str | None = None, errors: list[str] | None = None, done: str | None = None):
    intel = _intel(request)
    value = intel.reveal_value(c.principal, indicator_id) if reveal else None
    data = intel.indicator(c.principal, indicator_id, reveal=reveal)
    return render_staff(request, "intel_indicator.html", c.staff, status=status, ind=data, value=value,
                        revealed=reveal, personal=data["type"] in PERSONAL_TYPES, decisions=DECISIONS,
                        error=error, errors=errors or [], done=done)


@router.get("/staff/intel/indicators/{indicator_id}")
def indicator_page(request: Request, indicator_id: RowId, done: str | None = None,
                   c: Console = Depends(console(*ANALYST))):
    return _indicator_page(request, c, indicator_id, done=done if done in (*DECISIONS, "accept", "reject") else None)


@router.post("/staff/intel/indicators/{indicator_id}/reveal")
def indicator_reveal(request: Request, indicator_id: RowId, c: Console = Depends(console(*ANALYST))):
    """Reveal the value (for a phone, account or wallet) and the report texts and contacts: logged first."""
    return _indicator_page(request, c, indicator_id, reveal=True)


@router.post("/staff/intel/indicators/{indicator_id}/decision")
def indicator_decide(request: Request, indicator_id: RowId, action: str = Form("", max_length=16),
                     note: str = Form("", max_length=NOTE_MAX), c: Console = Depends(console(*ANALYST))):
    try:
        _intel(request).decide(c.principal, indicator_id, action=action, note=_note(note))
    except (InvalidInput, Conflict) as e:
        return _indicator_page(request, c, indicator_id, status=e.status,
                               error=said(page_texts(request), e, fields=False),
                               errors=field_lines(page_texts(request), e))
    return _back(f"/staff/intel/indicators/{indicator_id}?done={action}")


@router.post("/staff/intel/reports/{report_id}/review")
def report_review(request: Request, report_id: str, action: str = Form("", max_length=16),
                  note: str = Form("", max_length=NOTE_MAX), indicator: int = Form(..., ge=1, le=INT64_MAX),
                  c: Console = Depends(console(*ANALYST))):
    """Accept a held report or reject an abusive one (back to the indicator it was opened from)."""
    try:
        _intel(request).review_report(c.principal, report_id, action=action, note=_note(note))
    except (InvalidInput, Conflict) as e:
        return _indicator_page(request, c, indicator, status=e.status,
                               error=said(page_texts(request), e, fields=False),
                               errors=field_lines(page_texts(request), e))
    return _back(f"/staff/intel/indicators/{indicator}?done={action}")


# -- appeals ------------------------------------------------------------------------------------
def _appeals_page(request: Request, c: Console, *, status: int = 200, revealed: dict | None = None,
                  error: str | None = None, done: str | None = None):
    intel = _intel(request)
    return render_staff(request, "intel_appeals.html", c.staff, status=status,
                        appeals=intel.appeals(c.principal, status="open"),
                        decided=intel.appeals(c.principal, status="upheld", limit=20)
                        + intel.appeals(c.principal, status="rejected", limit=20),
                        revealed=revealed or {}, error=error, done=done)


@router.get("/staff/intel/appeals")
def appeals_page(request: Request, done: str | None = None, c: Console = Depends(console(*ANALYST))):
    return _appeals_page(request, c, done=done if done in ("upheld", "rejected") else None)


@router.post("/staff/intel/appeals/{appeal_id}/reveal")
def appeal_reveal(request: Request, appeal_id: str, c: Console = Depends(console(*ANALYST))):
    """Read an appeal's statement and contact (logged before they are decrypted)."""
    shown = _intel(request).appeal_reveal(c.principal, appeal_id)
    return _appeals_page(request, c, revealed={appeal_id: shown})


@router.post("/staff/intel/appeals/{appeal_id}/decision")
def appeal_decide(request: Request, appeal_id: str, decision: str = Form("", max_length=16),
                  note: str = Form("", max_length=NOTE_MAX), c: Console = Depends(console(*ANALYST))):
    try:
        if decision not in ("uphold", "reject"):
            raise InvalidInput("Choose a decision.", [FieldError("decision", "uphold or reject")])
        out = _intel(request).decide_appeal(c.principal, appeal_id, uphold=decision == "uphold", note=_note(note))
    except (InvalidInput, Conflict) as e:
        return _appeals_page(request, c, status=e.status, error=said(page_texts(request), e))
    return _back(f"/staff/intel/appeals?done={out['status']}")


# -- official channels (platform administrators) --------------------------------------------------
def _official_page(request: Request, c: Console, *, status: int = 200, error: str | None = None,
                   done: str | None = None):
    intel = _intel(request)
    return render_staff(request, "intel_official.html", c.staff, status=status,
                        pending=intel.official_list(status="pending"), verified=intel.official_list(status="verified"),
                        error=error, done=done)


@router.get("/staff/intel/official")
def official_page(request: Request, done: str | None = None, c: Console = Depends(console(*ADMIN))):
    return _official_page(request, c, done=done if done in ("verified", "revoked") else None)


def _set_channel(request: Request, c: Console, channel_id: int, status: str, note: str):
    try:
        _intel(request).official_set_status(c.principal, channel_id, status=status, note=_note(note))
    except (InvalidInput, Conflict, NotFound) as e:
        return _official_page(request, c, status=e.status, error=said(page_texts(request), e))
    return _back(f"/staff/intel/official?done={status}")


@router.post("/staff/intel/official/{channel_id}/verify")
def official_verify(request: Request, channel_id: RowId, note: str = Form("", max_length=NOTE_MAX),
                    c: Console = Depends(console(*ADMIN))):
    return _set_channel(request, c, channel_id, "verified", note)


@router.post("/staff/intel/official/{channel_id}/revoke")
def official_revoke(request: Request, channel_id: RowId, note: str = Form("", max_length=NOTE_MAX),
                    c: Console = Depends(console(*ADMIN))):
    return _set_channel(request, c, channel_id, "revoked", note)


# -- warnings -----------------------------------------------------------------------------------
def _warnings_page(request: Request, c: Console, *, status: int = 200, errors: list[str] | None = None,
                   form: dict | None = None, done: str | None = None):
    lang = lang_of(request.query_params.get("lang"), request.cookies.get("lang"))
    return render_staff(request, "intel_warnings.html", c.staff, status=status,
                        warnings=request.app.state.platform.warnings.list(limit=20), categories=WARNING_CATEGORIES,
                        li=0 if lang == "vi" else 1, errors=errors or [], form=form or {}, done=done)


@router.get("/staff/intel/warnings")
def warnings_page(request: Request, done: str | None = None, c: Console = Depends(console(*ANALYST))):
    return _warnings_page(request, c, done=done if done and len(done) <= 36 else None)


@router.post("/staff/intel/warnings")
def warnings_publish(request: Request, category: str = Form("", max_length=64),
                     title_vi: str = Form("", max_length=400), title_en: str = Form("", max_length=400),
                     body_vi: str = Form("", max_length=20_000), body_en: str = Form("", max_length=20_000),
                     c: Console = Depends(console(*ANALYST))):
    form = {"category": category, "title_vi": title_vi, "title_en": title_en, "body_vi": body_vi, "body_en": body_en}
    try:
        w = request.app.state.platform.warnings.publish(author=f"{c.principal.org_code}/{c.principal.actor}", **form)
    except InvalidInput as e:
        return _warnings_page(request, c, status=422, errors=field_lines(page_texts(request), e),
                              form=form)
    return _back(f"/staff/intel/warnings?done={w.id}")


# -- statistics ---------------------------------------------------------------------------------
PALETTE = ("#b3261e", "#1d6b35", "#1f5fa8", "#c77700", "#6a3d9a", "#00838f", "#8c564b", "#d6336c",
           "#4e7d0e", "#37474f", "#a0522d", "#5c6bc0", "#e65100", "#9e9e9e")
COLOURS = dict(zip(REPORT_CATEGORIES, PALETTE, strict=True))


def chart(stats: dict, *, width: int = 360, height: int = 200, pad_left: int = 28, pad_bottom: int = 24) -> dict:
    """Geometry of a stacked bar chart of reports per day by category (pure): one bar per day, one
    segment per category, a y axis with whole-number ticks."""
    days = stats["days"]
    top = max(stats["totals"], default=0)
    scale_max = max(1, top)
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - 8
    slot = plot_w / max(1, len(days))
    bar_w = max(1.0, slot * 0.75)
    bars = []
    for i, day in enumerate(days):
        x = pad_left + i * slot + (slot - bar_w) / 2
        y = 8 + plot_h
        for s in stats["series"]:
            n = s["counts"][i]
            if not n:
                continue
            h = plot_h * n / scale_max
            y -= h
            bars.append({"x": round(x, 2), "y": round(y, 2), "w": round(bar_w, 2), "h": round(h, 2),
                         "colour": COLOURS.get(s["category"], "#5b6470"), "category": s["category"], "day": day,
                         "count": n})
    step = max(1, -(-scale_max // 4))
    ticks = [{"value": v, "y": round(8 + plot_h - plot_h * v / scale_max, 2)} for v in range(0, scale_max + 1, step)]
    last = len(days) - 1
    labels = [{"x": width - 4 if i == last else round(pad_left + i * slot + slot / 2, 2),
               "anchor": "end" if i == last else "middle", "text": date.fromisoformat(d).strftime("%d/%m")}
              for i, d in enumerate(days) if (i % 5 == 0 and last - i >= 3) or i == last]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "labels": labels,
            "axis_x": pad_left, "axis_y": 8 + plot_h, "plot_right": width - 4}


@router.get("/staff/intel/stats")
def stats_page(request: Request, c: Console = Depends(console(*STATS_ROLES))):
    stats = _intel(request).stats(c.principal, days=30)
    return render_staff(request, "intel_stats.html", c.staff, stats=stats, chart=chart(stats), colours=COLOURS)
