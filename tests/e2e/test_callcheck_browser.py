"""The citizen check in a real browser (Debian's chromium driven by Playwright), one test per outcome.
Uses the shared ``live_server`` and ``page`` fixtures of ``tests/e2e/conftest.py``."""

from __future__ import annotations

import pytest

from postguard.app import create_app
from postguard.platform import Platform
from postguard.settings import Settings
from tests.callerid_world import COURIER_PHONE, OTHER_COURIER_PHONE, build

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker


@pytest.fixture
def live_app(tmp_path, live_server, faker, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "postguard.db")
    settings = Settings(data_dir=tmp_path / "data", notifier="memory", password_time_cost=1,
                        password_memory_kib=1024, log_format="json", log_level="WARNING")
    platform = Platform(settings)
    world = build(platform, faker)
    yield live_server(create_app(settings, platform=platform)), world
    platform.close()


def fill_and_check(page, base, *, caller, waybill="", asked=()):
    page.goto(base + "/kiem-tra-cuoc-goi")
    assert page.locator("h1").inner_text() == "Kiểm tra cuộc gọi shipper"
    page.fill("#cc-form input[name=caller]", caller)
    if waybill:
        page.fill("#cc-form input[name=waybill]", waybill)
    for a in asked:
        page.check(f"#cc-form input[name=asked][value={a}]")
    page.click("#cc-form button[type=submit]")
    page.wait_for_selector("#cc-result")
    return page.locator("#cc-result")


def test_browser_not_a_courier_number_then_report(live_app, page):
    base, _ = live_app
    result = fill_and_check(page, base, caller="0933 444 555", asked=("otp",))
    assert result.get_attribute("data-outcome") == "not_courier"
    assert "Không phải số của shipper" in result.inner_text()
    assert "không bao giờ đọc mã OTP" in result.inner_text()
    page.fill("#cc-report textarea[name=note]", "Gọi đòi phí lưu kho")
    page.click("#cc-report button[type=submit]")
    page.wait_for_selector("#cc-reported")
    assert "Báo cáo đã được ghi nhận" in page.locator("#cc-reported").inner_text()


def prove_in_page(page, world):
    """The page's own flow: the proof form under a "courier" answer, the code sent by SMS, then the check."""
    page.fill("form[action='/kiem-tra-cuoc-goi/otp'] input[name=phone]", world.recipient)
    page.click("form[action='/kiem-tra-cuoc-goi/otp'] button[type=submit]")
    page.wait_for_selector("#cc-otp")
    assert "Đã gửi mã đến số của bạn" in page.locator("#cc-otp").inner_text()
    page.fill("#cc-otp input[name=code]", world.p.notifier.last_code(world.recipient))
    page.click("#cc-otp button[type=submit]")
    page.wait_for_selector("#cc-result")
    return page.locator("#cc-result")


def test_browser_waybill_alone_asks_for_the_proof_then_verified(live_app, page):
    base, world = live_app
    result = fill_and_check(page, base, caller="0912 000 111", waybill=world.waybill)
    assert result.get_attribute("data-outcome") == "courier"
    assert "350.000" not in page.content() and page.locator("#cc-spoken-code").count() == 0
    assert "Mã vận đơn thôi thì không đủ" in result.inner_text()
    result = prove_in_page(page, world)
    assert result.get_attribute("data-outcome") == "verified"
    text = result.inner_text()
    assert "Shipper thật đang giao hàng cho bạn" in text and "350.000 đ" in text and "An" in text
    assert len(page.locator("#cc-spoken-code").inner_text().strip()) == 4
    page.click("a.lang")  # the English switch
    assert page.locator("html").get_attribute("lang") == "en"


def test_browser_courier_but_no_delivery(live_app, page):
    base, world = live_app
    result = fill_and_check(page, base, caller=OTHER_COURIER_PHONE, waybill=world.waybill)
    assert result.get_attribute("data-outcome") == "courier"
    result = prove_in_page(page, world)
    assert result.get_attribute("data-outcome") == "courier_no_delivery"
    assert "không có đơn nào đang giao cho bạn" in result.inner_text()
    assert COURIER_PHONE not in page.content()
