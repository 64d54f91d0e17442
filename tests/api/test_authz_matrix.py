"""The authorisation matrix: every route under ``/v1/`` and ``/staff/`` has a row below, and every
route that touches personal data is tried by each of the six roles with a session and by API keys with
and without the scope. Allowed requests succeed; denied ones are answered 403 problem+json and leave
an ``access_denied`` or ``reveal_denied`` entry in the access log.

Adding a route means adding one row to ``TABLE`` (the first test fails until it is there):
``("GET", "/v1/thing"): staff("dpo")`` for a staff page or API, ``system("scope")`` for an API-key
route, ``people("courier")`` for a staff-session API that refuses API keys, ``either("scope", "hub")``
for both, or ``NOT_PERSONAL("why")`` for a route that touches no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postguard.access.models import ROLES
from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.orgs.service import SCOPES
from postguard.platform import Platform
from postguard.synthetic import Faker
from postguard.web.auth import SESSION_COOKIE
from tests.api.test_api import assert_problem
from tests.conftest import csv_bytes
from tests.world import ORG, PASSWORD, USERNAMES, World, build_world

DENIALS = ("access_denied", "reveal_denied")
UNCLASSIFIED_OK = {("GET", "/staff/login"), ("POST", "/staff/login"), ("POST", "/staff/logout"), ("GET", "/staff")}


@dataclass(frozen=True)
class Case:
    """Who may use a route: ``roles`` with a staff session (None: sessions are not accepted, 401), and
    ``key``: an API-key scope that allows it, ``"refused"`` (any key: 403, logged) or ``"ignored"``
    (pages: a key alone is no session, 401). A request body may depend on the world."""

    roles: frozenset[str] | None
    key: str
    ok: int = 200
    json: Any = None
    form: Any = None
    csv: Any = None
    note: str = ""

    def body(self, w: World) -> dict:
        out = {}
        for name in ("json", "form"):
            value = getattr(self, name)
            if value is not None:
                out["data" if name == "form" else name] = value(w) if callable(value) else value
        if self.csv is not None:
            out["content"] = self.csv(w)
            out["headers"] = {"Content-Type": "text/csv"}
        return out


@dataclass(frozen=True)
class NOT_PERSONAL:
    why: str


def staff(*roles, ok=200, **body) -> Case:
    return Case(frozenset(roles), "ignored", ok, **body)


def people(*roles, ok=200, **body) -> Case:
    return Case(frozenset(roles), "refused", ok, **body)


def system(scope, ok=200, **body) -> Case:
    return Case(None, scope, ok, **body)


def either(scope, *roles, ok=200, **body) -> Case:
    return Case(frozenset(roles), scope, ok, **body)


def _window(w: World, **extra) -> dict:
    now = utcnow()
    return {"waybill": w.other["waybill"], "courier": "an", "window_start": (now - timedelta(minutes=1)).isoformat(),
            "window_end": (now + timedelta(hours=2)).isoformat(), **extra}


def _new_row(w: World) -> dict:
    return next(iter(Faker(7).rows(1, prefix="NW")))


TABLE: dict[tuple[str, str], Case | tuple[Case, ...] | NOT_PERSONAL] = {
    # -- shipments (operator systems) --
    ("POST", "/v1/shipments"): system("shipments:write", ok=201, json=_new_row),
    ("POST", "/v1/shipments/import"): system("shipments:write", csv=lambda w: csv_bytes([_new_row(w)])),
    ("GET", "/v1/shipments"): system("shipments:read"),
    ("POST", "/v1/shipments/search"): system("shipments:search", json=lambda w: {"phone": w.assigned["recipient_phone"]}),
    ("GET", "/v1/shipments/{waybill}"): system("shipments:read"),
    ("POST", "/v1/shipments/{waybill}/status"): system("shipments:write", json={"status": "delivered"}),
    ("POST", "/v1/shipments/{waybill}/shred"): system("shipments:write", ok=204),
    ("GET", "/v1/shipments/{waybill}/label.pdf"): system("labels:print"),
    ("POST", "/v1/labels"): system("labels:print", json=lambda w: {"waybills": [w.assigned["waybill"]]}),
    ("GET", "/v1/stats"): NOT_PERSONAL("anonymous counts, kept after shredding"),
    ("POST", "/v1/lookup/bucket"): NOT_PERSONAL("OPRF outputs, worthless without the server key; rate limited"),
    ("POST", "/v1/lookup/evaluate"): NOT_PERSONAL("one blinded group element; rate limited"),
    ("GET", "/v1/lookup/snapshot"): NOT_PERSONAL("OPRF outputs, worthless without the server key; rate limited"),
    ("POST", "/v1/check"): NOT_PERSONAL("a verdict on a value the caller already has; masked display only"),
    # -- access log --
    ("GET", "/v1/audit/checkpoint"): NOT_PERSONAL("a tree size and root hash"),
    ("GET", "/v1/audit/verifier-key"): NOT_PERSONAL("a public key"),
    ("GET", "/v1/audit/inclusion"): NOT_PERSONAL("log entries name actors and waybills, never personal data"),
    ("GET", "/v1/audit/consistency"): NOT_PERSONAL("hashes only"),
    # -- just-in-time access (API) --
    ("POST", "/v1/assignments"): either("assignments:write", "hub", "admin", ok=201, json=_window),
    ("GET", "/v1/deliveries"): people("courier"),
    ("POST", "/v1/shipments/{waybill}/reveal"): (
        people("courier", json={"purpose": "delivery"}, note="delivery"),
        people("cs", json={"purpose": "customer_service", "ticket": "CS-1", "reason": "caller asks"}, note="cs"),
        people("admin", json={"purpose": "break_glass", "justification": "court order 2026/11 for this parcel"},
               note="break_glass"),
    ),
    # -- just-in-time access (pages) --
    ("GET", "/staff/deliveries"): staff("courier"),
    ("GET", "/staff/deliveries/{waybill}"): staff("courier"),
    ("POST", "/staff/deliveries/{waybill}/reveal"): staff("courier"),
    ("GET", "/staff/cs"): staff("cs"),
    ("POST", "/staff/cs"): staff("cs", form=lambda w: {"waybill": w.assigned["waybill"], "ticket": "CS-9",
                                                       "reason": "recipient moved"}),
    ("GET", "/staff/break-glass"): staff("admin"),
    ("POST", "/staff/break-glass"): staff("admin", form=lambda w: {
        "waybill": w.assigned["waybill"], "justification": "fraud investigation 2026/5 on this parcel"}),
    ("GET", "/staff/assign"): staff("hub", "admin"),
    ("POST", "/staff/assign"): staff("hub", "admin", form=lambda w: {
        "waybill": w.other["waybill"], "courier": "an", "window_start": "2026-01-01T08:00",
        "window_end": "2026-01-01T12:00"}),
}


def _app_routes(app) -> set[tuple[str, str]]:
    try:
        from fastapi.routing import iter_route_contexts

        contexts = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: routes are flat
        contexts = [(r.path, getattr(r, "methods", None)) for r in app.routes]
    return {(m, path) for path, methods in contexts for m in (methods or ()) if m != "HEAD"}


def _cases() -> list:
    out = []
    for (method, path), row in TABLE.items():
        if isinstance(row, NOT_PERSONAL):
            continue
        for case in row if isinstance(row, tuple) else (row,):
            out.append(pytest.param(method, path, case, id=f"{method} {path}" + (f" {case.note}" if case.note else "")))
    return out


def test_every_route_is_classified(tmp_path):
    from postguard.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "d"))
    routes = {r for r in _app_routes(app) if r[1].startswith(("/v1/", "/staff")) and r not in UNCLASSIFIED_OK}
    missing = sorted(routes - TABLE.keys())
    assert not missing, f"add a row to TABLE for each of: {missing}"
    stale = sorted(TABLE.keys() - routes)
    assert not stale, f"TABLE rows for routes that no longer exist: {stale}"
    app.state.platform.close()


@pytest.fixture
def env(make_settings):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024)
    p = Platform(settings)
    w = build_world(p, Faker(42), keys=False)
    yield TestClient(create_app(settings, platform=p)), w
    p.close()


def _denials(p: Platform, actor: str) -> int:
    with p.db.read_session() as s:
        return s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.actor == actor, AuditEntry.action.in_(DENIALS))).scalar_one()


def _key(p: Platform, scopes: list[str]) -> tuple[str, str]:
    issued = p.orgs.create_api_key(org_code=ORG, scopes=scopes, label="matrix")
    return issued.token, f"apikey:{issued.prefix}"


def _expect_denied(resp, p: Platform, actor: str, before: int, who: str) -> None:
    assert resp.status_code == 403, f"{who}: expected 403, got {resp.status_code} {resp.text[:200]}"
    assert_problem(resp, 403, "forbidden")
    assert _denials(p, actor) == before + 1, f"{who}: the refusal was not logged"


@pytest.mark.parametrize(("method", "path", "case"), _cases())
def test_matrix(env, method, path, case: Case):
    client, w = env
    p = w.platform
    url = path.format(waybill=w.assigned["waybill"])

    def send(headers=None):
        kw = case.body(w)
        kw["headers"] = {**kw.get("headers", {}), **(headers or {})}
        return client.request(method, url, **kw)

    for role in ROLES:
        signed = p.staff.sign_in(org_code=ORG, username=USERNAMES[role], password=PASSWORD)
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, signed.token)
        actor, before = signed.principal.actor, _denials(p, signed.principal.actor)
        resp = send({"X-CSRF-Token": signed.csrf})
        if case.roles is None:
            assert_problem(resp, 401)  # an API-key route: a session is not a key
        elif role in case.roles:
            assert resp.status_code == case.ok, f"{role}: {resp.status_code} {resp.text[:300]}"
        else:
            _expect_denied(resp, p, actor, before, role)
    client.cookies.clear()

    every = sorted(SCOPES)
    if case.key == "ignored":
        token, _ = _key(p, every)
        assert_problem(send({"Authorization": f"Bearer {token}"}), 401)
    elif case.key == "refused":
        token, actor = _key(p, every)
        before = _denials(p, actor)
        _expect_denied(send({"Authorization": f"Bearer {token}"}), p, actor, before, "key")
    else:
        token, actor = _key(p, [s for s in every if s != case.key])
        before = _denials(p, actor)
        _expect_denied(send({"Authorization": f"Bearer {token}"}), p, actor, before, f"key without {case.key}")
        token, _ = _key(p, [case.key])
        resp = send({"Authorization": f"Bearer {token}"})
        assert resp.status_code == case.ok, f"key with {case.key}: {resp.status_code} {resp.text[:300]}"
    assert p.audit.verify().ok
