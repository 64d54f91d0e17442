"""Scam intelligence in a real browser on a phone-sized screen: a citizen checks a reported number
and an unknown one, files a report and sees the confirmation; an analyst signs in, opens the review
queue and confirms the reported number, and a citizen's check then says "confirmed"."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.intel.service import KEY_ORG
from postguard.platform import Platform
from postguard.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker
PASSWORD = "mật khẩu đủ dài 123"
SCAM = "0912 345 678"  # synthetic
UNKNOWN = "0987 000 111"  # synthetic, never reported


@pytest.fixture
def served(tmp_path, live_server, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "pg.db")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{(tmp_path / 'data' / 'pg.db').as_posix()}",
                        password_time_cost=1, password_memory_kib=1024, log_format="json",
                        intel_report_rate="1000/hour", intel_check_rate="1000/minute")
    p = Platform(settings)
    p.staff.create(org_code=KEY_ORG, username="phan", display_name="Chuyên viên Phan", role="analyst",
                   password=PASSWORD)
    base = live_server(create_app(settings, platform=p))
    yield base, p
    p.close()


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _check(page, base: str, value: str) -> str:
    page.goto(f"{base}/kiem-tra")
    page.fill("[name=value]", value)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("section.verdict")
    return page.get_attribute("section.verdict", "data-verdict")


def _fill_report(page, base: str, category: str, description: str, amount: str) -> None:
    page.goto(f"{base}/bao-cao")
    page.fill("textarea[name=values]", SCAM)
    page.select_option("select[name=category]", category)
    page.fill("textarea[name=description]", description)
    page.fill("input[name=amount_lost_vnd]", amount)
    page.fill("input[name=contact]", "nguoibaocao@example.vn")


def _log(p: Platform, action: str) -> list[dict]:
    with p.db.read_session() as s:
        rows = s.execute(select(AuditEntry.entry).where(AuditEntry.action == action).order_by(AuditEntry.idx))
        return [json.loads(e) for e in rows.scalars()]


def test_check_shows_the_verdict_of_a_reported_number_and_never_calls_an_unknown_one_safe(served, page):
    base, p = served
    p.intel.report(indicators=[SCAM], category="fake_courier", client="203.0.113.9",
                   description="synthetic: asked for a storage fee")
    p.warnings.publish(category="fake-fee", title_vi="Cảnh giác phí lưu kho giả", title_en="Beware of fake fees",
                       body_vi="Shipper thật không thu phí lưu kho.", body_en="Real couriers charge no storage fee.",
                       author="PG-INTEL/analyst")

    assert _check(page, base, SCAM) == "reported"
    text = page.inner_text("section.verdict")
    assert "Đã bị báo cáo là dùng để lừa đảo" in text and "*******678" in text
    assert "Cảnh giác phí lưu kho giả" in page.inner_text("main")  # the latest warnings, beside the check
    assert page.locator('a[href="/bao-cao"]').count() >= 1
    assert _fits_the_screen(page)

    assert _check(page, base, UNKNOWN) == "unknown"
    text = page.inner_text("section.verdict")
    assert "Chưa có ai báo cáo" in text and "KHÔNG có nghĩa là an toàn" in text

    page.goto(f"{base}/kiem-tra?lang=en")
    page.fill("[name=value]", UNKNOWN)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("section.verdict")
    assert "does NOT mean it is safe" in page.inner_text("section.verdict")


def test_citizen_files_a_report_and_sees_the_confirmation(served, page):
    base, p = served
    _fill_report(page, base, "fake_courier", "Gọi tự xưng shipper, đòi chuyển khoản phí lưu kho 30.000đ", "30.000")
    assert _fits_the_screen(page)
    page.click("form.stack button[type=submit]")
    confirmation = page.locator("section.verdict[role=status]")
    confirmation.wait_for()
    text = confirmation.inner_text()
    assert "*******678" in text and "Đã bị báo cáo" in text
    ref = confirmation.locator("code").first.inner_text()
    assert len(ref) >= 12
    assert p.intel.check(SCAM, client="t")["verdict"] == "reported"


def test_analyst_confirms_a_reported_number_from_the_queue(served, page):
    base, p = served
    p.intel.report(indicators=[SCAM], category="fake_courier", client="203.0.113.9",
                   description="synthetic: asked for an OTP")
    assert _check(page, base, SCAM) == "reported"

    page.goto(f"{base}/staff/intel/queue")  # not signed in: sent to the sign-in page, then back
    assert "/staff/login" in page.url
    page.fill("input[name=org]", KEY_ORG)
    page.fill("input[name=username]", "phan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/intel/queue")
    item = page.locator("article.intel-item").first
    assert item.get_attribute("data-verdict") == "reported" and "*******678" in item.inner_text()
    assert "912345678" not in page.content()
    assert _fits_the_screen(page)

    item.get_by_role("link", name="Xem và quyết định").click()
    page.wait_for_url("**/staff/intel/indicators/*")
    page.get_by_role("button", name="Xem số/tài khoản đầy đủ và nội dung báo cáo (được ghi nhật ký)").click()
    page.wait_for_selector(".revealed .value")
    assert "+84912345678" in page.inner_text(".revealed .value")
    assert len(_log(p, "intel_indicator_reveal")) == 1

    page.check("input[name=action][value=confirm]")
    page.fill("textarea[name=note]", "Khớp với kịch bản giả danh shipper đã xác minh")
    page.click("form.decision button[type=submit]")
    page.wait_for_selector("p.ok[role=status]")
    assert page.get_attribute("section.verdict", "data-verdict") == "confirmed"
    assert _fits_the_screen(page)
    [entry] = _log(p, "intel_confirm")
    assert entry["details"]["to"] == "confirmed" and entry["actor"].startswith("staff:")

    citizen = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    try:
        other = citizen.new_page()
        assert _check(other, base, SCAM) == "confirmed"
        assert "Đã xác nhận là lừa đảo" in other.inner_text("section.verdict")
    finally:
        citizen.close()


def test_private_check_in_the_page_never_sends_the_number(served, page):
    """The page script checks a number with the OPRF bucket protocol: a reported number written
    another way is found, an unknown one is "not reported" (never safe), and no request the page
    makes carries the number in any form."""
    base, p = served
    p.intel.report(indicators=[SCAM], category="fake_courier", client="203.0.113.9")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.url} {r.post_data or ''}"))
    page.goto(f"{base}/kiem-tra")
    page.wait_for_selector("#private-check:not([hidden])")
    assert _fits_the_screen(page)
    verdicts = {}
    for raw in ("+84 912.345.678", UNKNOWN, "không phải số"):
        page.fill("#private-value", raw)
        page.click("#private-check button")
        page.wait_for_selector("[data-private-result][data-verdict]")
        verdicts[raw] = (page.get_attribute("[data-private-result]", "data-verdict"),
                         page.inner_text("[data-private-result]"))
        page.evaluate("document.querySelector('[data-private-result]').removeAttribute('data-verdict')")
    assert verdicts["+84 912.345.678"][0] == "flagged" and "*******678" in verdicts["+84 912.345.678"][1]
    assert verdicts[UNKNOWN][0] == "unknown" and "KHÔNG có nghĩa là an toàn" in verdicts[UNKNOWN][1]
    assert verdicts["không phải số"][0] == "error"
    lookups = [s for s in sent if "/v1/lookup/bucket" in s]
    assert len(lookups) == 2
    for digits in ("912345678", "0912", "987000111", "0987"):
        assert all(digits not in s.replace(" ", "").replace(".", "") for s in sent)


def test_report_form_in_the_browser_keeps_what_was_typed_after_a_bad_amount(served, page):
    """Finding: an amount written "350000đ" discarded the whole form without naming the field. Now a
    refused amount names the field in Vietnamese (with English) and every field keeps its text; the
    amount as people write it is then accepted."""
    base, p = served
    _fill_report(page, base, "fake_bank", "Gọi tự xưng ngân hàng, đòi mã OTP", "1.500,000")
    page.click("form.stack button[type=submit]")
    errors = page.locator("#report-errors")
    errors.wait_for()
    assert "Số tiền bị mất (Amount lost)" in errors.inner_text() and "hai cách" in errors.inner_text()
    assert page.input_value("textarea[name=values]") == SCAM
    assert page.input_value("select[name=category]") == "fake_bank"
    assert page.input_value("textarea[name=description]") == "Gọi tự xưng ngân hàng, đòi mã OTP"
    assert page.input_value("input[name=amount_lost_vnd]") == "1.500,000"
    assert page.input_value("input[name=contact]") == "nguoibaocao@example.vn"
    assert page.get_attribute("input[name=amount_lost_vnd]", "aria-invalid") == "true" and _fits_the_screen(page)
    page.fill("input[name=amount_lost_vnd]", "1.500.000 đồng")
    page.click("form.stack button[type=submit]")
    page.locator("section.verdict[role=status]").wait_for()
    assert p.intel.check(SCAM, client="t")["verdict"] == "reported"


def test_private_check_reads_hotlines_and_the_country_code_with_a_trunk_zero(served, page):
    """Finding: the private check called 1800/1900 numbers "not Vietnamese" and refused "+84 (0) …"."""
    base, p = served
    p.intel.report(indicators=["1900 6035", SCAM], category="fake_courier", client="203.0.113.9")
    page.goto(f"{base}/kiem-tra")
    page.wait_for_selector("#private-check:not([hidden])")
    for raw in ("1900.6035", "1900 60 35", "+84 (0) 912 345 678", "(+84) 912 345 678"):
        page.fill("#private-value", raw)
        page.click("#private-check button")
        page.wait_for_selector("[data-private-result][data-verdict]")
        assert page.get_attribute("[data-private-result]", "data-verdict") == "flagged", raw
        page.evaluate("document.querySelector('[data-private-result]').removeAttribute('data-verdict')")
