"""Errors for people and for programs: a browser (``Accept`` ranking HTML first) gets a page in
Vietnamese first, then English, with the answer's status and headers; a program (``application/json``,
``application/problem+json``, ``*/*`` or no ``Accept``) gets the same problem+json as before. No page
shows the error's English detail, an exception's text or a traceback."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.audit.models import AuditEntry
from postguard.i18n import other, texts
from postguard.web.errors import BODIES, TITLES
from tests.api.test_api import assert_problem
from tests.api.test_staff_web import PASSWORD, sign_in, staff_app

# What Chromium sends when it navigates to a page.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}
PROGRAMS = [{"Accept": "application/json"}, {"Accept": "application/problem+json"}, {"Accept": "*/*"}, None]
SECRET = "the database password is hunter2"  # what the failing route's exception says


@pytest.fixture
def web(make_settings):
    app, p = staff_app(make_settings, max_body_bytes=4096)

    @app.get("/test/hong")
    def broken():
        raise RuntimeError(SECRET)

    yield TestClient(app), p  # raise_server_exceptions left on: the app must answer, not raise
    p.close()


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text).group(1)


def call(client, method, path, accept, **kw):
    headers = dict(kw.pop("headers", {}))
    if accept is None:
        client.headers.pop("accept", None)  # no Accept header at all
    else:
        headers.update(accept)
    try:
        return client.request(method, path, headers=headers, follow_redirects=False, **kw)
    finally:
        client.headers["accept"] = "*/*"


def sections(page) -> list[tuple[str, str]]:
    """The page's error sections: (language, text without tags), in order."""
    found = re.findall(r'<section lang="(\w+)"[^>]*>(.*?)</section>', page.text, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)) for _, html in found]
    return [(lang, re.sub(r" ([:.,)])", r"\1", t)) for (lang, _), t in zip(found, text, strict=True)]


def assert_page(resp, status, *, program_detail=None):
    """A page of ``status``: its texts in Vietnamese first, then in English, nothing else of the error."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    shown = sections(resp)
    assert [lang for lang, _ in shown] == ["vi", "en"]
    kind = status if status in TITLES else 500 if status >= 500 else 400
    for lang, text in shown:
        t, alt = texts(lang), texts(other(lang))
        assert t(TITLES[kind]) in text and t(BODIES[kind]).split("{")[0] in text, (lang, text)
        assert alt(TITLES[kind]) not in text and alt(BODIES[kind]).split("{")[0] not in text
    for leak in ("Traceback", 'File "', "RuntimeError", SECRET):
        assert leak not in resp.text
    if program_detail:  # the problem's detail is English and may be internal: never on the page
        assert program_detail not in resp.text
    return dict(shown)


def assert_programs_get_problems(client, method, path, status, slug=None, **kw):
    """Every kind of program gets problem+json of ``status``; its detail, to compare with the page."""
    details = set()
    for accept in PROGRAMS:
        body = assert_problem(call(client, method, path, accept, **kw), status, slug)
        details.add(body["detail"])
    assert len(details) == 1
    return details.pop()


def test_an_unknown_address(web):
    client, _ = web
    detail = assert_programs_get_problems(client, "GET", "/khong-co-trang-nay", 404)
    shown = assert_page(call(client, "GET", "/khong-co-trang-nay", BROWSER), 404, program_detail=detail)
    assert "Về trang chủ" in shown["vi"] and "Home" in shown["en"]
    assert_page(call(client, "GET", "/v1/khong-co", BROWSER), 404)  # under the API too: a person typed it
    english = call(client, "GET", "/khong-co-trang-nay?lang=en", BROWSER)
    assert [lang for lang, _ in sections(english)] == ["en", "vi"]  # the chosen language first


def test_a_forbidden_staff_page_is_refused_logged_and_explained(web):
    client, p = web
    assert sign_in(client, "courier").status_code == 303
    detail = assert_programs_get_problems(client, "GET", "/staff/audit/alerts", 403, "forbidden")
    shown = assert_page(call(client, "GET", "/staff/audit/alerts", BROWSER), 403, program_detail=detail)
    assert texts("vi")("refusal_logged") in shown["vi"] and texts("en")("refusal_logged") in shown["en"]
    assert 'href="/staff"' in call(client, "GET", "/staff/audit/alerts", BROWSER).text
    with p.db.read_session() as s:
        denied = s.execute(select(AuditEntry).where(AuditEntry.action == "access_denied")).scalars().all()
    assert len(denied) == len(PROGRAMS) + 2 and {d.subject for d in denied} == {"/staff/audit/alerts"}


def test_too_many_sign_ins_say_when_to_try_again(web):
    client, p = web
    for _ in range(20):
        p.limiter.hit("20/minute", "staff-login", "testclient")
    form = {"org": "VNP", "username": "courier", "password": PASSWORD, "csrf": _csrf(client)}
    detail = assert_programs_get_problems(client, "POST", "/staff/login", 429, "rate-limited", data=form)
    resp = call(client, "POST", "/staff/login", BROWSER, data=form)
    shown = assert_page(resp, 429, program_detail=detail)
    wait = int(resp.headers["retry-after"])
    assert 1 <= wait <= 61
    unit = "giây" if wait < 60 else "phút"
    assert re.search(rf"Hãy thử lại sau \d+ {unit} \(lúc \d\d:\d\d:\d\d, giờ Việt Nam\)", shown["vi"])
    assert re.search(r"Try again in \d+ (seconds|minutes) \(at \d\d:\d\d:\d\d, Viet Nam time\)", shown["en"])


def test_an_unexpected_error_shows_a_reference_and_nothing_of_the_error(web, capsys):
    client, _ = web
    detail = assert_programs_get_problems(client, "GET", "/test/hong", 500, "internal-error")
    assert SECRET not in detail
    capsys.readouterr()
    resp = call(client, "GET", "/test/hong", BROWSER)
    shown = assert_page(resp, 500, program_detail=detail)
    ref = re.search(r"<code>([0-9A-F]{8})</code>", resp.text).group(1)
    assert ref in shown["vi"] and ref in shown["en"]
    logged = capsys.readouterr().err  # the log line a person's report leads to
    assert ref in logged and "unexpected error" in logged and SECRET not in logged
    assert resp.headers["x-frame-options"] == "DENY"  # answered inside the security headers


def test_a_session_missing_on_a_form_leads_to_sign_in(web):
    client, _ = web
    detail = assert_programs_get_problems(client, "POST", "/staff/logout", 401, "unauthenticated")
    resp = call(client, "POST", "/staff/logout", BROWSER)
    assert_page(resp, 401, program_detail=detail)
    assert 'href="/staff/login"' in resp.text and resp.headers["www-authenticate"] == "Bearer"
    # a page asked for with GET still goes to the sign-in page, and comes back after it
    assert call(client, "GET", "/staff/audit/alerts", BROWSER).headers["location"] == \
        "/staff/login?next=%2Fstaff%2Faudit%2Falerts"
    api = call(client, "GET", "/v1/shipments", BROWSER)  # an API key's address opened in a browser
    shown = assert_page(api, 401)
    assert 'href="/docs"' in api.text and "khoá API" in shown["vi"]


def test_a_refused_form_names_its_fields_in_vietnamese(web):
    client, _ = web
    assert_programs_get_problems(client, "POST", "/staff/login", 422, "invalid-input", data={"org": "VNP"})
    shown = assert_page(call(client, "POST", "/staff/login", BROWSER, data={"org": "VNP"}), 422)
    assert "Tên đăng nhập: bắt buộc, chưa được nhập" in shown["vi"] and "Mật khẩu: bắt buộc" in shown["vi"]
    assert "Username: required, not given" in shown["en"] and "Password: required" in shown["en"]


def test_a_wrong_method_and_a_body_too_large(web):
    client, _ = web
    assert_programs_get_problems(client, "GET", "/staff/logout", 405)
    resp = call(client, "GET", "/staff/logout", BROWSER)
    shown = assert_page(resp, 405)
    assert "GET" in shown["vi"] and resp.headers["allow"] == "POST"
    big = {"content": b"x" * 5000, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    assert_programs_get_problems(client, "POST", "/bao-cao", 413, "payload-too-large", **big)
    assert_page(call(client, "POST", "/bao-cao", BROWSER, **big), 413)


def test_programs_keep_their_problems_exactly(web):
    """The contract of the API is unchanged: the same bodies, statuses and headers as before pages existed."""
    client, _ = web
    resp = call(client, "GET", "/v1/shipments", {"Accept": "application/json"})
    assert resp.json() == {"type": "https://postguard.example/problems/unauthenticated",
                           "title": "Authentication required", "status": 401,
                           "detail": "Send an API key as `Authorization: Bearer <key>`.", "instance": "/v1/shipments"}
    assert resp.headers["www-authenticate"] == "Bearer" and resp.headers["cache-control"] == "no-store"
    assert resp.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    missing = call(client, "GET", "/v1/nope", None)
    assert missing.json() == {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Not Found",
                              "instance": "/v1/nope"}
    # HTML and JSON named with equal preference, or HTML below JSON: a program
    for accept in ("application/json, text/html", "text/html;q=0.5, application/problem+json"):
        assert_problem(call(client, "GET", "/v1/nope", {"Accept": accept}), 404)
