"""The pages as the demo's citizens and staff see them: Viet Nam time wherever a time is shown, grades
in words, no jargon on citizen pages, the menu with the call check and the warnings, a confirmation
before a deletion request shreds, a courier's number awaiting its code, and links (labels, feeds) on
the address the request came on."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from postguard.alerts.models import ScamWarning
from postguard.app import create_app
from postguard.http.auth import SESSION_COOKIE
from postguard.demo import DEMO_ORG, DEMO_RECIPIENT, demo_password, seed
from postguard.intel.service import KEY_ORG
from postguard.leaks.models import Alert
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.privacy.models import DataSubjectRequest
from postguard.web.callcheck import PENDING_COOKIE

KNOWN = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 20:30 UTC on 1 March …
SHOWN = "02/03/2026 03:30"  # … is 03:30 on 2 March in Viet Nam
UTC_SHOWN = ("01/03/2026 20:30", "2026-03-01 20:30", "20:30 UTC")


def _build(settings) -> dict:
    p = Platform(settings)
    try:
        info = seed(p, shipments=20)
        w = p.warnings.publish(category="fake-fee", title_vi="Giả danh bưu tá thu phí lưu kho",
                               title_en="Fake storage fees", body_vi="Không chuyển tiền.", body_en="Do not pay.",
                               author="PG-INTEL/phantich")
        org = p.orgs.get(DEMO_ORG)
        alert = p.access_alerts.raise_alert(org_id=org.id, kind="break_glass", severity="high",
                                            reason="Mở khẩn cấp DM000000003 (giả lập).", actor="staff:1")
        deletion = p.privacy.file_request(normalize_phone(DEMO_RECIPIENT), org_code=DEMO_ORG, kind="deletion")["ref"]
        with p.db.session() as s:
            s.execute(update(ScamWarning).where(ScamWarning.uid == w.id).values(published_at=KNOWN))
            s.execute(update(Alert).where(Alert.id == alert).values(created_at=KNOWN))
        return {"try": info["try"], "deletion": deletion}
    finally:
        p.close()


@pytest.fixture
def demo(prebuilt):
    settings, state = prebuilt("demo-pages", _build, password_time_cost=1, password_memory_kib=1024,
                               notifier="memory")
    p = Platform(settings)
    yield create_app(settings, platform=p), p, state
    p.close()


def signed_in(app, username: str, org: str = DEMO_ORG) -> TestClient:
    client = TestClient(app)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text).group(1)
    r = client.post("/staff/login", data={"org": org, "username": username, "password": demo_password(username),
                                          "csrf": csrf, "next": "/staff"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def visible(html: str) -> str:
    """The text a reader sees: no tags, scripts or attributes."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_page_that_shows_a_time_shows_viet_nam_time(demo):
    """A warning published and an alert raised at 20:30 UTC on 1 March read 03:30 on 2 March on the
    public warnings page, the check page, the auditor's alerts and the analyst's warnings."""
    app, _, _ = demo
    citizen = TestClient(app)
    pages = {"/canh-bao": citizen.get("/canh-bao"), "/canh-bao?lang=en": citizen.get("/canh-bao?lang=en"),
             "/staff/audit/alerts": signed_in(app, "auditor").get("/staff/audit/alerts"),
             "/staff/intel/warnings": signed_in(app, "phantich", KEY_ORG).get("/staff/intel/warnings")}
    for path, page in pages.items():
        assert page.status_code == 200, path
        text = visible(page.text)
        assert SHOWN in text and not any(u in text for u in UTC_SHOWN) and " UTC" not in text, path
        assert 'datetime="2026-03-02T03:30+07:00"' in page.text, path
        assert re.search(r"\d+ (ngày trước|days ago)", text), path  # and how long ago, in words
    assert "02/03/2026" in visible(TestClient(app).get("/kiem-tra").text)  # the latest warnings, by date


def test_a_reported_number_has_its_grade_in_words_and_its_latest_report_in_days(demo):
    app, _, state = demo
    client = TestClient(app)
    for lang, grade, when in (("vi", "Mức độ cảnh báo", "hôm nay"), ("en", "Warning level", "today")):
        page = client.get(f"/kiem-tra?lang={lang}")
        token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
        r = client.post(f"/kiem-tra?lang={lang}", data={"value": state["try"]["scam"], "form_token": token})
        text = visible(r.text)
        verdict = re.search(r'data-verdict="(\w+)"', r.text).group(1)
        assert verdict in ("reported", "corroborated") and f'data-grade="grade_{verdict}' in r.text
        assert grade in text and "/100" not in text
        assert when in text and not re.search(r"(cách đây|after) 0 |\b0 (ngày|days?)\b", text)


CITIZEN_PAGES = ("/", "/kiem-tra", "/kiem-tra-cuoc-goi", "/canh-bao", "/bao-cao", "/du-lieu-cua-toi")
JARGON = ("OPRF", "Atom", "Merkle", "JSON", "out_for_delivery", "hash")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_citizen_pages_speak_plainly_and_lead_to_the_call_check_and_the_warnings(demo, lang):
    app, _, _ = demo
    client = TestClient(app)
    for path in CITIZEN_PAGES:
        page = client.get(f"{path}?lang={lang}")
        assert page.status_code == 200, path
        text = visible(page.text)
        assert not [j for j in JARGON if j in text], path
        nav = page.text.split('<nav class="main">')[1].split("</nav>")[0]
        assert {"/kiem-tra", "/kiem-tra-cuoc-goi", "/canh-bao", "/bao-cao"} == set(re.findall(r'href="([^"]+)"', nav))


def test_a_deletion_request_asks_for_confirmation_before_it_shreds(demo):
    app, p, state = demo
    ref = state["deletion"]
    dpo = signed_in(app, "dpo")
    csrf = csrf_of(dpo.get("/staff/dpo/requests").text)
    asked = dpo.post(f"/staff/dpo/requests/{ref}/complete", data={"csrf": csrf})
    assert asked.status_code == 200 and 'id="dsr-confirm"' in asked.text and ref in asked.text
    assert 'name="confirm" value="yes"' in asked.text and 'href="/staff/dpo/requests"' in asked.text
    with p.db.read_session() as s:  # nothing done yet
        assert s.execute(select(DataSubjectRequest.status).where(DataSubjectRequest.ref == ref)).scalar_one() \
            == "received"
    for hostile in ("no", "YES", "yes " * 2, "1"):  # only the confirmation form's own value shreds
        assert dpo.post(f"/staff/dpo/requests/{ref}/complete", data={"csrf": csrf, "confirm": hostile}).status_code \
            in (200, 422)
    done = dpo.post(f"/staff/dpo/requests/{ref}/complete", data={"csrf": csrf, "confirm": "yes"},
                    follow_redirects=False)
    assert done.status_code == 303
    with p.db.read_session() as s:
        assert s.execute(select(DataSubjectRequest.status).where(DataSubjectRequest.ref == ref)).scalar_one() \
            in ("acknowledged", "completed")  # shredded (a parcel still travelling keeps it open)
    assert dpo.post(f"/staff/dpo/requests/{ref}/complete", data={"csrf": "forged", "confirm": "yes"}).status_code \
        == 403


def test_a_couriers_number_keeps_its_code_form_until_verified_or_expired(demo):
    app, p, _ = demo
    courier = signed_in(app, "shipper")
    csrf = csrf_of(courier.get("/staff/calls").text)
    added = courier.post("/staff/calls/phones", data={"csrf": csrf, "phone": "0987 000 333"})
    assert added.status_code == 200 and 'action="/staff/calls/phones/verify"' in added.text
    assert courier.get("/staff/deliveries").status_code == 200  # elsewhere, then back
    back = courier.get("/staff/calls")
    form = back.text.split('class="card pending-phone"')[1].split("</section>")[0]
    assert 'action="/staff/calls/phones/verify"' in form and "0987000333" in visible(form)
    challenge = re.search(r'name="challenge" value="([^"]+)"', form).group(1)
    code = p.notifier.last_code(normalize_phone("0987 000 333"))
    verified = courier.post("/staff/calls/phones/verify", data={"csrf": csrf, "phone": "+84987000333", "code": code,
                                                                "challenge": challenge})
    assert verified.status_code == 200 and "pending-phone" not in verified.text
    assert f"{PENDING_COOKIE}=" in verified.headers["set-cookie"]  # forgotten

    courier.post("/staff/calls/phones", data={"csrf": csrf, "phone": "0987 000 444"})
    staff_id, last3, _, challenge = courier.cookies[PENDING_COOKIE].split(":", 3)
    past = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp())
    session = f"{SESSION_COOKIE}={courier.cookies[SESSION_COOKIE]}"
    browser = TestClient(app)  # the same session, the kept code as given
    expired = browser.get("/staff/calls", headers={"Cookie": f"{session}; {PENDING_COOKIE}={staff_id}:{last3}:{past}:"
                                                             f"{challenge}"})
    card = expired.text.split('class="card pending-phone"')[1].split("</section>")[0]
    assert "phones/verify" not in card and 'action="/staff/calls/phones"' in card  # send a new code
    for hostile in ("x", "1:2:3", f"{staff_id}:444:notanumber:x", f"9999:444:{past + 999}:x", ":::",
                    f"{staff_id}:444:{10**30}:x", f"{staff_id}:444:9999999999:x", f"{staff_id}:444:²:x", "\u202e" * 3):
        page = browser.get("/staff/calls", headers={"Cookie": f"{session}; {PENDING_COOKIE}={hostile}".encode()})
        assert page.status_code == 200 and "0987000444" in visible(page.text)


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")


@needs_pdftotext
def test_labels_and_feeds_link_to_the_address_the_request_came_on(demo, tmp_path):
    app, p, _ = demo
    key = p.orgs.create_api_key(org_code=DEMO_ORG, scopes=["labels:print"], label="t").token
    client = TestClient(app, base_url="http://192.0.2.7:8001")
    pdf = client.post("/v1/labels", json={"waybills": ["DM000000000"]}, headers={"Authorization": f"Bearer {key}"})
    assert pdf.status_code == 200
    (tmp_path / "l.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "l.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "192.0.2.7:8001/kiem-tra-cuoc-goi" in text and "1900 0000" in text
    feed = client.get("/feeds/warnings.atom").text
    assert 'href="http://192.0.2.7:8001/canh-bao"' in feed and "127.0.0.1:8000" not in feed
    for hostile in ("evil.example/<x>", "a b", "evil.example:99999999", ""):
        r = TestClient(app).get("/feeds/warnings.atom", headers={"Host": hostile})
        assert r.status_code == 200 and 'href="http://127.0.0.1:8000/canh-bao"' in r.text  # the default, not the header
    configured = p.settings.model_copy(update={"public_base_url": "https://nhan.example.vn/"})
    other = Platform(configured)
    try:
        feed = TestClient(create_app(configured, platform=other), base_url="http://192.0.2.7:8001").get(
            "/feeds/warnings.atom").text
    finally:
        other.close()
    assert 'href="https://nhan.example.vn/canh-bao"' in feed and "192.0.2.7" not in feed  # the configured address wins
