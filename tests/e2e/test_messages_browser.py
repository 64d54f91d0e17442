"""The message check in a real browser on a phone-sized screen: a citizen pastes a scam SMS and
sees the label, the red flags (Vietnamese first) and each indicator's verdict; then uploads a
picture of a VietQR code and sees whom it pays."""

from __future__ import annotations

import io

import pytest
import segno

from postguard.app import create_app
from postguard.intel.seed import seed_official
from postguard.messages import vietqr
from postguard.platform import Platform
from postguard.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker
SMS = ("VNPost: Bưu phẩm của bạn bị giữ do thiếu phí lưu kho 25.000đ.\nThanh toán tại http://vnpost-vn.com/pay "
       "trong 24h để tránh bị hủy.")


@pytest.fixture
def served(tmp_path, live_server, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "pg.db")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{(tmp_path / 'data' / 'pg.db').as_posix()}",
                        password_time_cost=1, password_memory_kib=1024, intel_check_rate="1000/minute")
    p = Platform(settings)
    seed_official(p.intel, p.orgs)
    yield live_server(create_app(settings, platform=p)), p
    p.close()


def test_paste_a_message_then_upload_a_qr_picture(served, page, tmp_path):
    base, _ = served
    page.goto(f"{base}/kiem-tra")
    page.fill("[name=value]", SMS)
    page.click("#ask button[type=submit]")
    page.wait_for_selector("section.verdict")
    assert page.get_attribute("section.verdict", "data-label") == "scam"
    fee = page.locator("li[data-reason=fee]")
    assert fee.locator("span[lang=vi]").inner_text().startswith("Đòi các loại phí")
    assert fee.locator("small[lang=en]").inner_text().startswith("Asks for a storage")
    assert page.get_attribute("li[data-type=url]", "data-verdict") == "lookalike"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # on a phone the answer is the first thing on screen, and the message is still in the box
    assert page.locator("section.verdict").bounding_box()["y"] < page.viewport_size["height"]
    assert page.locator("section.verdict").bounding_box()["y"] < page.locator("#ask").bounding_box()["y"]
    assert page.input_value("#ask [name=value]").replace("\r\n", "\n") == SMS

    png = tmp_path / "qr.png"
    buf = io.BytesIO()
    segno.make(vietqr.build("970436", "1122334455", amount=25000, message="phi luu kho"), error="m").save(
        buf, kind="png", scale=5)
    png.write_bytes(buf.getvalue())
    page.goto(f"{base}/kiem-tra")
    page.set_input_files("input[name=qr_image]", str(png))
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("section.verdict dl.qr")
    text = page.inner_text("section.verdict dl.qr")
    assert "Vietcombank" in text and "******4455" in text and "25.000 đ" in text and "1122334455" not in page.content()
    assert page.locator("li[data-reason=fee]").count() == 1


def test_mark_a_verdict_wrong_with_consent(served, page):
    """Under the answer, "Kết quả này sai?" opens the form with the message to send; the consent box
    must be ticked before the browser sends it; then the person gets a reference."""
    base, p = served
    page.goto(f"{base}/kiem-tra")
    page.fill("[name=value]", SMS)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("section.feedback summary")
    assert not page.is_visible("form.feedback-form")
    page.click("section.feedback summary")
    assert page.input_value("#feedback-text").replace("\r\n", "\n") == SMS
    page.check("input[name=expected][value=legit]")
    page.click("form.feedback-form button[type=submit]")
    assert page.url.endswith("/kiem-tra")  # not sent: the consent box is required
    page.check("input[name=consent]")
    page.click("form.feedback-form button[type=submit]")
    page.wait_for_selector("[data-feedback=pending]")
    assert "Cảm ơn bạn" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert p.message_feedback.queue(p.orgs.platform_principal(actor="test"))[0]["submissions"] == 1
