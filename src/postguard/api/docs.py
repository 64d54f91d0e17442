"""Interactive API documentation at ``/docs``: Swagger UI over ``/openapi.json``, every file served by
the app itself from the ``swagger-ui-bundle-v2`` package (no CDN at run time, and the pages' CSP,
``script-src 'self'``, holds: the page has no inline script). ``/redoc`` leads there."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from swagger_ui_bundle import swagger_ui_path

from postguard import __version__
from postguard.errors import NotFound

router = APIRouter(include_in_schema=False)

ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
          "favicon-32x32.png": "image/png", "favicon-16x16.png": "image/png"}
"""The files of the bundle the page uses, and their media types (nothing else of it is served)."""

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>postguard API {__version__}</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="/docs/assets/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

# validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io for a badge.
INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""
CACHED = {"Cache-Control": "public, max-age=86400"}


@cache
def _asset(name: str) -> bytes:
    return (swagger_ui_path / name).read_bytes()


@router.get("/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(PAGE)


@router.get("/docs/init.js")
def init() -> Response:
    return Response(INIT, media_type="text/javascript", headers=CACHED)


@router.get("/docs/assets/{name}")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound("No such file.")
    return Response(_asset(name), media_type=ASSETS[name], headers=CACHED)


@router.get("/redoc")
def redoc() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=308)
