"""The OpenAPI document (``/openapi.json``, read by ``/docs``): what FastAPI draws from the routes, plus
what it cannot see there.

- **Security.** The ways requests authenticate are its security schemes (``SCHEMES``): an
  organisation's API key (``Authorization: Bearer pgk_…``), a staff session (the ``pg_session`` cookie,
  with the session's CSRF token in ``X-CSRF-Token`` on unsafe methods), a data subject's proof (sent
  as a bearer token or in the ``pg_me`` cookie) and the metrics token. Each operation's ``security``
  comes from its route's ``openapi_extra`` or from the marks on its dependencies
  (``postguard.http.security``): API-key requirements list the scopes (OpenAPI 3.1 lets any scheme
  name roles), staff requirements the roles, and ``{}`` says the operation is open without a credential.
- **Errors.** Every error is ``application/problem+json`` with the shared ``Problem`` schema. Each
  operation lists the errors it can answer: 401, 403 and 429 where a credential is taken (failed
  authentications are rate limited), 404 where the path names something, 413 and 422 where a body or
  parameters are read, and the statuses a route declares itself (``responses=``: 409, 410, 415, …; one
  declared with a ``content`` of its own keeps it, as ``/healthz``'s JSON 503).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from postguard.api.problems import PROBLEM
from postguard.http.auth import SESSION_COOKIE
from postguard.http.proof import PROOF_COOKIE
from postguard.http.security import REQUIREMENTS, Requirement

SCHEMES: dict[str, dict[str, Any]] = {
    "apiKey": {
        "type": "http", "scheme": "bearer", "bearerFormat": "pgk_<prefix>_<secret>",
        "description": "An organisation's API key (`postguard keys api create`), sent as `Authorization: Bearer "
                       "pgk_…`. A requirement lists the scopes the key must hold; a key without them is refused "
                       "with 403 and the refusal is written to the access log. Failed authentications are "
                       "limited per client address (429)."},
    "staffSession": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "A signed-in member of staff (sign in at `/staff/login`; the cookie is HttpOnly and "
                       "SameSite=Strict). A requirement lists the roles that may use the operation (any role when "
                       "empty); API keys are refused where only staff may act."},
    "csrfToken": {
        "type": "apiKey", "in": "header", "name": "X-CSRF-Token",
        "description": "The staff session's CSRF token, required with the session cookie on unsafe methods (POST)."},
    "subjectProof": {
        "type": "http", "scheme": "bearer",
        "description": "A data subject's proof of their phone number: the `token` that `POST /v1/me/verify` "
                       "returns after a one-time code, valid 30 minutes."},
    "subjectProofCookie": {
        "type": "apiKey", "in": "cookie", "name": PROOF_COOKIE,
        "description": "The same proof in the cookie `POST /v1/me/verify` sets (HttpOnly, SameSite=Strict)."},
    "metricsToken": {
        "type": "http", "scheme": "bearer",
        "description": "The Prometheus scraper's token (`POSTGUARD_METRICS_TOKEN`), for `/metrics` only."},
}

PROBLEM_REF = "#/components/schemas/Problem"
SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem", "type": "object", "required": ["type", "title", "status", "detail"],
        "description": "RFC 9457 problem details: every error of the API.",
        "properties": {
            "type": {"type": "string", "description": "The problem type: `https://postguard.example/problems/<slug>` "
                     "(invalid-input, payload-too-large, unsupported-media-type, unauthenticated, forbidden, "
                     "not-found, conflict, rate-limited, shredded, decryption-failed, internal-error, …), or "
                     "`about:blank` for an unknown path or method"},
            "title": {"type": "string", "description": "The type's short summary"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status"},
            "detail": {"type": "string", "description": "What went wrong for this request (never personal data)"},
            "instance": {"type": "string", "description": "The request's path"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"},
                       "description": "For invalid input: each field refused and why"},
        },
    },
    "FieldError": {
        "title": "FieldError", "type": "object", "required": ["field", "code", "message"],
        "properties": {
            "field": {"type": "string", "description": "The field (`items.0.phone` for a nested one)"},
            "code": {"type": "string", "description": "Why, as a stable code (`missing`, `invalid_phone`, …)"},
            "message": {"type": "string", "description": "Why, in English"},
            "row": {"type": "integer", "description": "The line of a CSV import"},
        },
    },
}
HEADERS: dict[str, dict[str, Any]] = {
    "Retry-After": {"description": "Seconds until the limit lets a request through again",
                    "schema": {"type": "integer", "minimum": 1}},
    "WWW-Authenticate": {"description": "The authentication scheme: `Bearer`", "schema": {"type": "string"}},
}
ERRORS: dict[int, str] = {
    400: "Malformed request",
    401: "Authentication required: no credential, or one that is not valid (expired, revoked, forged)",
    403: "Forbidden: the credential does not allow this (the refusal is written to the access log)",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable: the `Accept` header excludes every media type this operation answers with",
    409: "Conflict with the current state",
    410: "The personal data was crypto-shredded and can never be read again",
    413: "Request body too large",
    415: "Unsupported media type: send the body as JSON (`Content-Type: application/json`)",
    422: "Invalid input: `errors` names each field and why",
    429: "Too many requests: wait `Retry-After` seconds",
    500: "Internal error",
    502: "An outside service failed",
    503: "Unavailable: the access log could not record the action, so it did not happen",
}
HEADERS_OF = {401: "WWW-Authenticate", 429: "Retry-After"}


def _marked(dependant: Dependant) -> list[Requirement] | None:
    """The requirements of the first marked dependency of a route (depth first, in declaration order)."""
    for dep in dependant.dependencies:
        if dep.call in REQUIREMENTS:
            return REQUIREMENTS[dep.call]
        found = _marked(dep)
        if found is not None:
            return found
    return None


def _problem(status: int, description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description or ERRORS.get(status, "Error"),
                           "content": {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}}}
    if status in HEADERS_OF:
        out["headers"] = {HEADERS_OF[status]: {"$ref": f"#/components/headers/{HEADERS_OF[status]}"}}
    return out


def _errors(operation: dict[str, Any], security: list[Requirement]) -> set[int]:
    """The errors every operation of its kind can answer."""
    statuses = set()
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        statuses |= {413, 422}
    if parameters:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if any(security):  # some credential is read: a wrong one is 401
        statuses.add(401)
    open_ = {} in security
    if any("staffSession" in r or r.get("apiKey") or ("apiKey" in r and not open_) for r in security):
        statuses.add(403)  # a role, a scope or the CSRF token refused (an optional key of any scope: never)
    if any("apiKey" in r for r in security):
        statuses.add(429)
    return statuses


def _operation(operation: dict[str, Any], route: RouteContext, method: str) -> None:
    security = operation.get("security")
    if security is None:
        security = _marked(route.dependant)
    if security is not None:
        if method in ("get", "head", "options"):  # the CSRF token goes with unsafe methods only
            security = [{k: v for k, v in r.items() if k != "csrfToken"} for r in security]
        operation["security"] = security
    responses = operation.setdefault("responses", {})
    declared = {int(code): r.get("description") for code, r in responses.items() if code.isdigit() and int(code) >= 400
                and not r.get("content")}  # a response the route describes with its own content is its own
    for status in sorted(_errors(operation, security or []) | declared.keys()):
        given = declared.get(status)
        responses[str(status)] = _problem(status, None if given in (None, "Validation Error") else given)
    operation["responses"] = dict(sorted(responses.items()))


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` (built once, then kept in ``app.openapi_schema``)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                      description=app.description, routes=app.routes, tags=app.openapi_tags)
    routes = {(r.path_format, m.lower()): r for r in iter_route_contexts(app.routes)
              if isinstance(r.original_route, APIRoute) for m in r.methods or ()}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            _operation(operation, routes[(path, method)], method)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422, replaced by Problem
        schemas.pop(unused, None)
    schemas.update(SCHEMAS)
    components["securitySchemes"] = SCHEMES
    components["headers"] = HEADERS
    app.openapi_schema = doc
    return doc
