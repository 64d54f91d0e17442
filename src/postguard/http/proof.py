"""The data subject's proof: what a person earns by entering the one-time code sent to their phone
number, sent back as ``Authorization: Bearer <proof>`` or in the ``pg_me`` cookie (HttpOnly,
SameSite=Strict) by the API (``/v1/me``) and the pages (``/du-lieu-cua-toi``) alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

PROOF_COOKIE = "pg_me"
PROOF_PURPOSE = "recipient"
PROOF_TTL = 1800


def proof_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(PROOF_COOKIE)


def set_proof_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(PROOF_COOKIE, token, max_age=PROOF_TTL, httponly=True, samesite="strict",
                        secure=bool(request.app.state.settings.cookie_secure), path="/")
