"""Public warnings: the page ``/canh-bao`` (Vietnamese first, ``?lang=en``) and the Atom feed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from postguard.alerts.service import CATEGORIES
from postguard.http.address import client_ip, served_url
from postguard.i18n import lang_of
from postguard.web.routes import render

router = APIRouter(include_in_schema=False)


def _limit(request: Request) -> None:
    request.app.state.platform.limiter.hit("120/minute", "public-warnings", client_ip(request))


@router.get("/canh-bao")
def warnings_page(request: Request):
    _limit(request)
    lang = lang_of(request.query_params.get("lang"), request.cookies.get("lang"))
    items = request.app.state.platform.warnings.list(limit=50)
    return render(request, "warnings.html", warnings=items, categories=CATEGORIES, li=0 if lang == "vi" else 1)


@router.get("/feeds/warnings.atom")
def warnings_atom(request: Request):
    _limit(request)
    lang = "en" if request.query_params.get("lang") == "en" else "vi"
    body = request.app.state.platform.warnings.atom(lang=lang, served=served_url(request))
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})
