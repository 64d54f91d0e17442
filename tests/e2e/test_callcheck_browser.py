"""The citizen check in a real browser (Debian's chromium driven by Playwright), one test per outcome.

The fixtures ``live_app`` (a uvicorn server in a thread around a seeded platform) and ``page`` live in
this module; they skip cleanly when chromium or Playwright is absent."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

from postguard.platform import Platform
from postguard.settings import Settings
from tests.callerid_world import COURIER_PHONE, OTHER_COURIER_PHONE, build

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("POSTGUARD_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def live_app(tmp_path, faker):
    import uvicorn

    from postguard.app import create_app

    settings = Settings(data_dir=tmp_path / "data", notifier="memory", password_time_cost=1,
                        password_memory_kib=1024, log_format="json", log_level="WARNING")
    platform = Platform(settings)
    world = build(platform, faker)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, platform=platform), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", world
    server.should_exit = True
    thread.join(10)
    platform.close()


@pytest.fixture
def page():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                                     args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # a phone
        pg = context.new_page()
        yield pg
        context.close()
        browser.close()


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


def test_browser_verified_courier(live_app, page):
    base, world = live_app
    result = fill_and_check(page, base, caller="0912 000 111", waybill=world.waybill)
    assert result.get_attribute("data-outcome") == "verified"
    text = result.inner_text()
    assert "Shipper thật đang giao hàng cho bạn" in text and "350.000 đ" in text and "An" in text
    assert len(page.locator("#cc-spoken-code").inner_text().strip()) == 4
    page.click("a.lang")  # the English switch
    assert page.locator("html").get_attribute("lang") == "en"


def test_browser_courier_but_no_delivery(live_app, page):
    base, world = live_app
    result = fill_and_check(page, base, caller=OTHER_COURIER_PHONE, waybill=world.waybill)
    assert result.get_attribute("data-outcome") == "courier_no_delivery"
    assert "không có đơn nào đang giao cho bạn" in result.inner_text()
    assert COURIER_PHONE not in page.content()
