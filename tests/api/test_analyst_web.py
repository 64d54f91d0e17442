"""The analyst console on the web: only analysts (and, for official channels, administrators) of the
platform organisation; CSRF on every POST; Vietnamese first with English; every decision and every
reveal in the access log, made through the intel service."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.errors import InvalidInput
from postguard.http.auth import SESSION_COOKIE
from postguard.intel.service import KEY_ORG
from postguard.orgs.service import Principal
from postguard.platform import Platform
from tests.api.test_api import assert_problem

PASSWORD = "mật khẩu đủ dài 123"
HTML = {"Accept": "text/html"}
SCAM = "0912 345 678"  # synthetic
UNKNOWN = "0987 000 111"  # synthetic, never reported


@pytest.fixture
def console(make_settings):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024, intel_report_rate="1000/hour",
                             intel_check_rate="1000/minute", intel_appeal_rate="100/day")
    p = Platform(settings)
    p.orgs.create(code="VNP", name="Bưu điện mẫu")
    staff = {
        "phan": p.staff.create(org_code=KEY_ORG, username="phan", display_name="Chuyên viên Phan", role="analyst",
                               password=PASSWORD),
        "quantri": p.staff.create(org_code=KEY_ORG, username="quantri", display_name="Quản trị nền tảng",
                                  role="admin", password=PASSWORD),
        "vnp-admin": p.staff.create(org_code="VNP", username="vnp-admin", display_name="Quản trị VNP", role="admin",
                                    password=PASSWORD),
    }
    client = TestClient(create_app(settings, platform=p))
    yield client, p, staff
    p.close()


def sign_in(client, p: Platform, org: str, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    signed = p.staff.sign_in(org_code=org, username=username, password=PASSWORD)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, signed.token)
    return signed.csrf


def _log(p: Platform, action: str) -> list[dict]:
    with p.db.read_session() as s:
        rows = s.execute(select(AuditEntry.entry).where(AuditEntry.action == action).order_by(AuditEntry.idx))
        return [json.loads(e) for e in rows.scalars()]


def _report(p: Platform, value: str = SCAM, category: str = "fake_courier", client: str = "203.0.113.7") -> int:
    out = p.intel.report(indicators=[value], category=category, description="Gọi tự xưng shipper, đòi phí lưu kho",
                         contact="nguoibaocao@example.vn", client=client)
    with p.db.read_session() as s:
        from postguard.intel.models import Report, ReportIndicator

        return s.execute(select(ReportIndicator.indicator_id).join(Report, Report.id == ReportIndicator.report_id)
                         .where(Report.public_id == out["report"])).scalar_one()


def test_analyst_is_a_role_of_the_platform_organisation_only(console):
    _, p, _ = console
    with pytest.raises(InvalidInput) as e:
        p.staff.create(org_code="VNP", username="phantich", display_name="Phân tích", role="analyst",
                       password=PASSWORD)
    assert e.value.errors[0].field == "role" and KEY_ORG in e.value.errors[0].message


def test_queue_lists_reported_indicators_with_verdict_score_and_reasons_in_both_languages(console):
    client, p, _ = console
    iid = _report(p)
    sign_in(client, p, KEY_ORG, "phan")
    vi = client.get("/staff/intel/queue", headers=HTML)
    assert vi.status_code == 200 and vi.headers["cache-control"] == "no-store"
    card = re.search(rf'<article class="card intel-item[^"]*" id="ind-{iid}".*?</article>', vi.text, re.DOTALL).group(0)
    assert 'data-verdict="reported"' in card and "bị báo cáo" in card and "báo cáo mới" in card
    assert "1 báo cáo." in card  # a reason, translated
    assert "0912345678" not in vi.text and "912345678" not in vi.text  # masked only
    en = client.get("/staff/intel/queue?lang=en", headers=HTML)
    assert "Review queue" in en.text and "new reports" in en.text and "1 report(s)." in en.text
    assert 'lang="en"' in en.text and 'lang="vi"' in vi.text


def test_reveal_is_a_logged_post_with_csrf(console):
    client, p, staff = console
    iid = _report(p)
    csrf = sign_in(client, p, KEY_ORG, "phan")
    page = client.get(f"/staff/intel/indicators/{iid}", headers=HTML)
    assert page.status_code == 200 and "+84912345678" not in page.text and "Gọi tự xưng" not in page.text
    refused = client.post(f"/staff/intel/indicators/{iid}/reveal", data={"csrf": "forged"})
    assert_problem(refused, 403, "forbidden")
    assert _log(p, "intel_indicator_reveal") == []
    shown = client.post(f"/staff/intel/indicators/{iid}/reveal", data={"csrf": csrf}, headers=HTML)
    assert shown.status_code == 200 and "+84912345678" in shown.text and "Gọi tự xưng shipper" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    [entry] = _log(p, "intel_indicator_reveal")
    assert entry["actor"] == staff["phan"].actor and entry["subject"] == f"indicator:{iid}"
    assert len(_log(p, "intel_report_reveal")) == 1


def test_confirm_needs_a_reason_and_csrf_and_is_logged(console):
    client, p, staff = console
    iid = _report(p)
    csrf = sign_in(client, p, KEY_ORG, "phan")
    url = f"/staff/intel/indicators/{iid}/decision"
    no_csrf = client.post(url, data={"action": "confirm", "note": "đã xác minh"})
    assert no_csrf.status_code == 403
    no_reason = client.post(url, data={"action": "confirm", "note": "  ", "csrf": csrf}, headers=HTML)
    assert no_reason.status_code == 422 and "note" in no_reason.text
    bad_action = client.post(url, data={"action": "ban", "note": "x", "csrf": csrf}, headers=HTML)
    assert bad_action.status_code == 422 and "action" in bad_action.text
    assert p.intel.check(SCAM, client="t")["verdict"] == "reported" and _log(p, "intel_confirm") == []
    done = client.post(url, data={"action": "confirm", "note": "Khớp với 3 vụ đã xác minh", "csrf": csrf},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{url.rsplit('/', 1)[0]}?done=confirm"
    assert p.intel.check(SCAM, client="t")["verdict"] == "confirmed"
    [entry] = _log(p, "intel_confirm")
    assert entry["actor"] == staff["phan"].actor and entry["details"]["to"] == "confirmed"
    detail = client.get(f"/staff/intel/indicators/{iid}?done=confirm&lang=en", headers=HTML)
    assert "Decision recorded" in detail.text and "confirmed" in detail.text


@pytest.mark.parametrize("path", ["/staff/intel/queue", "/staff/intel/appeals", "/staff/intel/warnings",
                                  "/staff/intel/stats"])
def test_operator_staff_are_refused_and_the_refusal_is_logged(console, path):
    client, p, staff = console
    sign_in(client, p, "VNP", "vnp-admin")
    resp = client.get(path)
    assert_problem(resp, 403, "forbidden")
    page = client.get(path, headers=HTML)
    assert page.status_code == 403 and "<html" in page.text
    denied = [e for e in _log(p, "access_denied") if e["actor"] == staff["vnp-admin"].actor]
    assert len(denied) == 2 and denied[0]["subject"] == path


def test_roles_within_the_platform_organisation(console):
    client, p, _ = console
    sign_in(client, p, KEY_ORG, "quantri")  # a platform administrator: official channels and statistics
    assert client.get("/staff/intel/official").status_code == 200
    assert client.get("/staff/intel/stats").status_code == 200
    assert_problem(client.get("/staff/intel/queue"), 403, "forbidden")
    sign_in(client, p, KEY_ORG, "phan")  # an analyst: not official channels
    assert_problem(client.get("/staff/intel/official"), 403, "forbidden")
    home = client.get("/staff", headers=HTML)
    assert "/staff/intel/queue" in home.text and "/staff/intel/official" not in home.text
    client.cookies.clear()
    anon = client.get("/staff/intel/queue", headers=HTML, follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/staff/login")


def test_appeals_show_the_deadline_and_are_decided_through_the_service(console):
    client, p, staff = console
    iid = _report(p)
    appeal = p.intel.appeal(value=SCAM, statement="Số này của tôi, tôi bị mạo danh", contact="chu.so@example.vn",
                            client="198.51.100.9")
    csrf = sign_in(client, p, KEY_ORG, "phan")
    page = client.get("/staff/intel/appeals", headers=HTML)
    assert page.status_code == 200 and appeal["deadline_at"][:10] in page.text and "còn" in page.text
    assert "Số này của tôi" not in page.text
    read = client.post(f"/staff/intel/appeals/{appeal['appeal']}/reveal", data={"csrf": csrf}, headers=HTML)
    assert "Số này của tôi" in read.text and len(_log(p, "intel_appeal_reveal")) == 1
    no_reason = client.post(f"/staff/intel/appeals/{appeal['appeal']}/decision",
                            data={"decision": "uphold", "note": "", "csrf": csrf}, headers=HTML)
    assert no_reason.status_code == 422
    done = client.post(f"/staff/intel/appeals/{appeal['appeal']}/decision",
                       data={"decision": "uphold", "note": "Chủ thuê bao chứng minh bị mạo danh", "csrf": csrf},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/staff/intel/appeals?done=upheld"
    assert p.intel.check(SCAM, client="t")["verdict"] == "delisted"
    [entry] = _log(p, "intel_appeal_upheld")
    assert entry["actor"] == staff["phan"].actor and entry["subject"] == f"indicator:{iid}"
    again = client.post(f"/staff/intel/appeals/{appeal['appeal']}/decision",
                        data={"decision": "reject", "note": "x", "csrf": csrf}, headers=HTML)
    assert again.status_code == 409


def test_platform_administrator_verifies_and_revokes_official_channels(console):
    client, p, staff = console
    vnp = Principal(org_id=p.orgs.get("VNP").id, org_code="VNP", actor="apikey:test",
                    scopes=frozenset({"intel:official"}))
    ch = p.intel.official_add(vnp, kind="hotline", value="1900 54 54 81", label="Tổng đài CSKH")
    csrf = sign_in(client, p, KEY_ORG, "quantri")
    page = client.get("/staff/intel/official?lang=en", headers=HTML)
    assert f'id="channel-{ch["id"]}"' in page.text and "Awaiting verification" in page.text
    assert client.post(f"/staff/intel/official/{ch['id']}/verify", data={"note": "gọi lại số trên website"}
                       ).status_code == 403
    done = client.post(f"/staff/intel/official/{ch['id']}/verify",
                       data={"note": "Đã gọi lại qua số trên giấy phép", "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert p.intel.check("1900 54 54 81", client="t")["verdict"] == "official"
    [entry] = _log(p, "intel_official_verified")
    assert entry["actor"] == staff["quantri"].actor
    client.post(f"/staff/intel/official/{ch['id']}/revoke", data={"note": "đơn vị thôi dùng số này", "csrf": csrf})
    assert p.intel.check("1900 54 54 81", client="t")["verdict"] != "official"
    missing = client.post("/staff/intel/official/999999/verify", data={"note": "x", "csrf": csrf}, headers=HTML)
    assert missing.status_code == 404


def test_published_warning_shows_on_the_check_page_in_both_languages(console):
    client, p, _ = console
    csrf = sign_in(client, p, KEY_ORG, "phan")
    bad = client.post("/staff/intel/warnings", data={"category": "fake-fee", "title_vi": "Phí lưu kho giả",
                                                     "title_en": "", "body_vi": "Nội dung", "body_en": "Text",
                                                     "csrf": csrf}, headers=HTML)
    assert bad.status_code == 422 and "title_en" in bad.text and "Phí lưu kho giả" in bad.text  # kept
    done = client.post("/staff/intel/warnings", data={
        "category": "fake-fee", "title_vi": "Cảnh giác phí lưu kho giả", "title_en": "Beware of fake storage fees",
        "body_vi": "Shipper thật không thu phí lưu kho qua chuyển khoản.",
        "body_en": "Real couriers never ask for storage fees by transfer.", "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    client.cookies.clear()
    vi = client.get("/kiem-tra")
    assert "Cảnh giác phí lưu kho giả" in vi.text and 'href="/bao-cao"' in vi.text
    en = client.get("/kiem-tra?lang=en")
    assert "Beware of fake storage fees" in en.text and "Cảnh giác phí lưu kho giả" not in en.text
    [entry] = _log(p, "warning_publish")
    assert entry["actor"].endswith("staff:" + str(p.staff.sign_in(org_code=KEY_ORG, username="phan",
                                                                  password=PASSWORD).principal.staff_id))


def test_check_page_never_shows_unknown_as_safe(console):
    client, _, _ = console
    page = client.get("/kiem-tra")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/kiem-tra", data={"value": UNKNOWN, "form_token": token})
    assert 'data-verdict="unknown"' in resp.text and "KHÔNG có nghĩa là an toàn" in resp.text
    assert "an toàn." not in resp.text.replace("KHÔNG có nghĩa là an toàn.", "")


def test_stats_page_draws_the_chart_and_the_table(console):
    client, p, _ = console
    _report(p, SCAM, "fake_courier", client="203.0.113.1")
    _report(p, "0912 345 679", "fake_courier", client="203.0.113.2")
    _report(p, "https://giaohang-phi.example.com/pay", "fake_bank", client="203.0.113.3")
    sign_in(client, p, KEY_ORG, "phan")
    page = client.get("/staff/intel/stats", headers=HTML)
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text
    assert len(re.findall(r'<rect x=', page.text)) == 2  # today's bar: two categories
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", page.text, re.DOTALL)
    assert len(rows) == 30
    assert re.findall(r"<td>(\d+)</td>", rows[-1]) == ["2", "1", "3"]  # fake_courier, fake_bank, total
    en = client.get("/staff/intel/stats?lang=en", headers=HTML)
    assert "Reports per day by scam category" in en.text and "Posing as a bank" in en.text


def test_the_queue_lists_the_scanners_new_lookalike_hits_in_both_languages(console):
    from tests.integration.test_lookalikes import hit

    client, p, _ = console
    p.intel.scanner.ingest(p.orgs.platform_principal(actor="test"),
                           [hit("vnpost-vn.com"), hit("cskh-vnpost.com", brand="<b>Vietnam Post</b>")])
    p.intel.scanner.dismiss(p.intel.cli_principal(), "vnpost-vn.com")
    sign_in(client, p, KEY_ORG, "phan")
    vi = client.get("/staff/intel/queue", headers=HTML)
    section = re.search(r'<section id="lookalikes".*?</section>', vi.text, re.DOTALL).group(0)
    assert "Trang web giả mạo do máy quét tìm thấy" in section and "cskh-vnpost.com" in section
    assert "vnpost-vn.com<" not in section  # dismissed: not listed
    assert "<b>Vietnam Post</b>" not in section and "&lt;b&gt;" in section  # escaped
    en = client.get("/staff/intel/queue?lang=en", headers=HTML)
    assert "Lookalike websites found by the scanner" in en.text and "{vnpost}-&lt;w&gt;.com" in en.text
    with p.db.read_session() as s:
        from postguard.intel.models import LookalikeHit

        ind = s.execute(select(LookalikeHit.indicator_id).where(LookalikeHit.host == "cskh-vnpost.com")).scalar_one()
    page = client.get(f"/staff/intel/indicators/{ind}?lang=vi", headers=HTML)
    assert "máy quét trang web giả" in page.text and "Trang web giả mạo thương hiệu" in page.text
