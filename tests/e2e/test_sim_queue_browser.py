"""Customer service works the SIM re-verification queue in a real browser on a phone-sized screen:
the scam database's number is on top with its reason in Vietnamese, the holder's data is opened with
a reason (logged), the case is moved to contacted, and a second move from the stale page is refused."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.subscribers.generate import generate, write_csv
from postguard.synthetic import Faker
from tests.world import ORG, PASSWORD, build_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker


@pytest.fixture
def served(tmp_path, live_server, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "pg.db")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{(tmp_path / 'data' / 'pg.db').as_posix()}",
                        password_time_cost=1, password_memory_kib=1024, log_format="json")
    p = Platform(settings)
    build_world(p, Faker(12), keys=False)  # the organisation and its staff
    made = generate(300, seed=51)
    target = next(r for r in made.rows if r["iccid"] not in made.truth)
    p.intel.report(indicators=[target["msisdn"]], category="fake_courier", client="browser-test")
    buf = io.StringIO()
    write_csv(made.rows, buf)
    key = p.orgs.principal(ORG, actor="test")
    p.subscribers.import_csv(key, io.BytesIO(buf.getvalue().encode()))
    p.subscribers.run_audit(key)
    yield live_server(create_app(settings, platform=p)), p, target
    p.close()


def test_customer_service_reverifies_the_scam_number_first(served, page):
    base, p, target = served
    page.goto(f"{base}/staff/sim")
    assert "/staff/login" in page.url
    page.fill("input[name=org]", ORG)
    page.fill("input[name=username]", "cs")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/sim")

    first = page.locator("table.sim-queue tbody tr").first
    assert "báo cáo lừa đảo" in first.inner_text() and target["msisdn"][-3:] in first.inner_text()
    assert target["msisdn"] not in page.content() and target["full_name"] not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone
    first.locator("a").click()
    page.wait_for_url(f"{base}/staff/sim/*")
    case_url = page.url
    page.fill("input[name=reason]", "gọi xác minh lại theo công điện 29")
    page.get_by_role("button", name="Xem thông tin chủ thuê bao").click()
    shown = page.inner_text("main")
    assert target["full_name"] in shown and target["id_number"] in shown and "nhật ký" in shown

    page.goto(case_url)
    stale = page.content()
    page.select_option("select[name=to]", "contacted")
    page.fill("input[name=note]", "đã gọi, hẹn mang CCCD")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(case_url)
    assert "Đã liên hệ khách hàng" in page.inner_text("main") and "hẹn mang CCCD" in page.inner_text("main")

    page.set_content(stale.replace('action="/staff', f'action="{base}/staff'))  # the page as it was, version 1
    with page.expect_response(lambda r: r.url.endswith("/move")) as answer:
        page.get_by_role("button", name="Lưu").click()
    assert answer.value.status == 409
    page.wait_for_load_state()
    assert "changed meanwhile" in page.inner_text("main")

    with p.db.read_session() as s:
        entries = [json.loads(e) for e in s.execute(select(AuditEntry.entry).where(
            AuditEntry.action == "subscriber_reveal")).scalars()]
    assert [(e["purpose"], e["subject"]) for e in entries] == [("subscriber_reverify", target["iccid"])]
