"""Staff sign-in on the web: cookie session, CSRF on every unsafe request, role refusals logged and
answered 403 (problem+json for programs, a page for browsers), sign-in redirects for browsers."""

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.http.auth import SESSION_COOKIE, StaffContext, staff_page
from postguard.platform import Platform
from tests.api.test_api import assert_problem

PASSWORD = "mật khẩu đủ dài 123"
HTML = {"Accept": "text/html"}


def staff_app(make_settings, **settings):
    """An app whose organisation VNP has a courier and an auditor (password ``PASSWORD``), and its platform."""
    settings = make_settings(password_time_cost=1, password_memory_kib=1024, **settings)
    p = Platform(settings)
    p.orgs.create(code="VNP", name="Bưu điện mẫu")
    for role in ("courier", "auditor"):
        p.staff.create(org_code="VNP", username=role, display_name=f"Nhân viên {role}", role=role, password=PASSWORD)
    return create_app(settings, platform=p), p


@pytest.fixture
def web(make_settings):
    app, p = staff_app(make_settings)

    @app.get("/staff/test-audit-only")
    def audit_only(staff: StaffContext = Depends(staff_page("auditor"))):  # noqa: B008  FastAPI's API
        return {"ok": staff.principal.username}

    yield TestClient(app), p
    p.close()


def sign_in(client, username, password=PASSWORD):
    page = client.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/staff/login", data={"org": "vnp", "username": username, "password": password, "csrf": csrf,
                                             "next": "/staff"}, follow_redirects=False)


def test_sign_in_sets_a_strict_cookie_and_shows_the_home_page(web):
    client, _ = web
    resp = sign_in(client, "courier")
    assert resp.status_code == 303 and resp.headers["location"] == "/staff"
    cookie = resp.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    home = client.get("/staff")
    assert home.status_code == 200 and "courier" in home.text and home.headers["cache-control"] == "no-store"


def test_wrong_password_and_forged_login_form_are_refused(web):
    client, _ = web
    resp = sign_in(client, "courier", "sai mật khẩu rồi nhé")
    assert resp.status_code == 401 and "Sai mã đơn vị" in resp.text
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")
    forged = client.post("/staff/login", data={"org": "VNP", "username": "courier", "password": PASSWORD,
                                                "csrf": "made-up"})
    assert_problem(forged, 403, "forbidden")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(web, target):
    client, _ = web
    page = client.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = client.post("/staff/login", data={"org": "VNP", "username": "courier", "password": PASSWORD,
                                              "csrf": csrf, "next": target}, follow_redirects=False)
    assert resp.headers["location"] == "/staff"


def test_pages_need_a_session_browsers_are_sent_to_sign_in(web):
    client, _ = web
    assert_problem(client.get("/staff"), 401, "unauthenticated")
    resp = client.get("/staff/test-audit-only", headers=HTML, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/staff/login?next=%2Fstaff%2Ftest-audit-only"


def test_role_refusals_are_logged_and_answered_403(web):
    client, p = web
    sign_in(client, "courier")
    assert_problem(client.get("/staff/test-audit-only"), 403, "forbidden")
    page = client.get("/staff/test-audit-only", headers=HTML)
    assert page.status_code == 403 and "text/html" in page.headers["content-type"] and "Không được phép" in page.text
    with p.db.read_session() as s:
        denied = s.execute(select(AuditEntry).where(AuditEntry.action == "access_denied")).scalars().all()
    assert len(denied) == 2 and {d.subject for d in denied} == {"/staff/test-audit-only"}
    assert p.audit.verify().ok
    client.cookies.clear()
    sign_in(client, "auditor")
    assert client.get("/staff/test-audit-only").json() == {"ok": "auditor"}


def test_unsafe_requests_need_the_session_csrf_token(web):
    client, p = web
    sign_in(client, "courier")
    assert_problem(client.post("/staff/logout", data={"csrf": "wrong"}), 403)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff").text).group(1)
    resp = client.post("/staff/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    client.cookies.set(SESSION_COOKIE, "stale")
    assert_problem(client.get("/staff"), 401)


@pytest.mark.both_databases
def test_concurrent_wrong_sign_ins_over_http_lock_the_account(web):
    """15 wrong passwords posted at once (under the per-client limit of 20 a minute), then the right one: refused."""
    client, p = web
    barrier = threading.Barrier(15)

    def guess(_):
        browser = TestClient(client.app)  # one browser each: every refusal renews the form's CSRF cookie
        page = browser.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        barrier.wait()
        return browser.post("/staff/login", data={"org": "VNP", "username": "courier", "csrf": csrf,
                                                  "password": "sai mật khẩu rồi nhé"}, follow_redirects=False)

    with ThreadPoolExecutor(15) as pool:
        assert [r.status_code for r in pool.map(guess, range(15))] == [401] * 15
    resp = sign_in(client, "courier")
    assert resp.status_code == 401 and SESSION_COOKIE not in resp.headers.get("set-cookie", "")
    with p.db.read_session() as s:
        outcomes = [json.loads(e)["details"]["outcome"] for e in s.execute(
            select(AuditEntry.entry).where(AuditEntry.action == "login_failed")).scalars()]
    assert outcomes.count("locked_now") == 1 and outcomes.count("wrong_password") == 4
    assert outcomes.count("locked") == 11  # the right password too
