"""Public pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from postguard.i18n import LANGUAGES, N_, Texts, lang_of, other, texts
from postguard.vault.masking import neutralise_bidi
from postguard.web import present

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent


def _finalize(value):
    """Every ``{{ ... }}`` of every page: bidirectional controls (U+202E and the like) in names,
    addresses or any other stored text are shown as U+FFFD, so that they cannot reorder the page."""
    if isinstance(value, str) and not value.isascii():
        # Markup in, Markup out: only bidi controls are replaced, nothing is unescaped.
        return Markup(neutralise_bidi(str(value))) if isinstance(value, Markup) else neutralise_bidi(value)  # noqa: S704
    return value


_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                   finalize=_finalize, extensions=["jinja2.ext.i18n"])
# Texts (postguard.i18n, docs/translations.md): ``_("key")`` in the page's language, ``alt_("key")`` in
# the other one, ``text_or(key, default)`` (and the test ``is known_text``) for a key made of a value that
# may have no text, ``N_("key")`` marks a key a template chooses at run time. Jinja's newstyle gettext,
# given texts already escaped: a text is never read as markup, and whatever ``.format`` fills in is escaped.
_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
    gettext=pass_context(lambda ctx, key: escape(texts(ctx["lang"])(key))),
    ngettext=pass_context(lambda ctx, one, many, n: escape(texts(ctx["lang"])(one if n == 1 else many))),
    newstyle=True)
_env.globals.update(
    alt_=pass_context(lambda ctx, key: escape(texts(ctx["other"])(key))),
    text_or=pass_context(lambda ctx, key, default: texts(ctx["lang"]).get(key, default)),
    N_=N_)
_env.tests["known_text"] = pass_context(lambda ctx, key: key in texts(ctx["lang"]))  # ``key is known_text``
# Every time on every page: Viet Nam time (``{{ at | vn }}``, ``{{ at | vn('date') }}``), its ISO form for
# ``<time datetime>`` (``vn_iso``) and how long ago it is in words (``ago``); grades and actors in words.
_env.filters.update(vn=present.vn_time, vn_iso=present.vn_iso,
                    ago=pass_context(lambda ctx, value: present.relative(value, texts(ctx["lang"]))),
                    days_words=pass_context(lambda ctx, days: present.days_words(int(days), texts(ctx["lang"]))),
                    actor=pass_context(lambda ctx, actor: present.actor_words(actor, texts(ctx["lang"]))))
_env.globals.update(grade_key=present.grade_key, risk_key=present.risk_key)


def page_texts(request: Request) -> Texts:
    """The texts of a request's language."""
    return texts(lang_of(request.query_params.get("lang"), request.cookies.get("lang")))


def render(request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
    lang = lang_of(request.query_params.get("lang"), request.cookies.get("lang"))
    html = _env.get_template(template).render(lang=lang, other=other(lang), **ctx)
    resp = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


@router.get("/")
def home(request: Request):
    return render(request, "home.html")


@router.get("/q/{token}")
def qr_landing(request: Request, token: str):
    """Where a label's QR code leads. Shows nothing about the shipment to anyone but a signed-in
    courier of the parcel's operator, who is sent to the parcel's delivery page (which refuses, and
    logs, when the parcel is not assigned to them; the reveal itself is a further logged step)."""
    from postguard.http.auth import current_staff

    shipment = request.app.state.platform.labels.resolve_token(token)
    staff = current_staff(request) if shipment is not None else None
    if staff is not None and staff.role == "courier" and staff.org_id == shipment.org_id:
        return RedirectResponse(f"/staff/deliveries/{quote(shipment.waybill, safe='')}", status_code=303)
    known = shipment is not None
    return render(request, "qr.html", status=200 if known else 404, known=known)


@router.get("/static/{name}")
def static(name: str):
    path = HERE / "static" / name
    if path.parent != HERE / "static" or not path.is_file():
        return Response(status_code=404)
    media = {"css": "text/css", "js": "text/javascript"}.get(path.suffix.lstrip("."), "application/octet-stream")
    return Response(path.read_bytes(), media_type=media, headers={"Cache-Control": "public, max-age=3600"})
