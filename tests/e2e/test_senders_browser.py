""""Did my operator really send this?" in a real browser on a phone-sized screen: a citizen pastes an
operator's notification with its sender, proves their number with the code sent by SMS, and reads
that the operator sent it to them (Vietnamese first)."""

from __future__ import annotations

import pytest

from postguard.app import create_app
from postguard.db.base import utcnow
from postguard.intel.seed import seed_official
from postguard.platform import Platform
from postguard.principals import ApiKeyPrincipal
from postguard.senders.seed import seed_senders
from postguard.senders.text import render
from postguard.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker
VALUES = {"time": "10:42", "amount": "350.000đ", "link": "https://viettelpost.com.vn/tra-cuu"}


@pytest.fixture
def served(tmp_path, live_server, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "pg.db")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{(tmp_path / 'data' / 'pg.db').as_posix()}",
                        password_time_cost=1, password_memory_kib=1024, intel_check_rate="1000/minute",
                        notifier="memory")
    p = Platform(settings)
    seed_official(p.intel, p.orgs)
    seed_senders(p.senders, p.intel)
    org = p.orgs.get("VIETTELPOST")
    t = p.senders.template_list(org_code="VIETTELPOST", status="verified")[0]
    key = ApiKeyPrincipal(org_id=org.id, org_code=org.code, actor="key:vtp", scopes=frozenset({"notifications:write"}))
    p.senders.record(key, [{"template_id": t["id"], "phone": "0930000123", "waybill": "VTP123456789",
                            "sent_at": utcnow().isoformat(), "values": VALUES}])
    yield live_server(create_app(settings, platform=p)), p, render(t["text"], {**VALUES, "waybill": "VTP123456789"})
    p.close()


def test_paste_a_notification_prove_the_number_and_read_that_the_operator_sent_it(served, page):
    base, p, message = served
    page.goto(f"{base}/kiem-tra")
    page.fill("[name=value]", message)
    page.fill("#sender", "ViettelPost")
    page.click("form.stack:not(.prove) button[type=submit]")
    page.wait_for_selector("[data-operator=template]")
    page.fill("#prove-phone", "0930 000 123")
    page.click("form[data-prove=phone] button[type=submit]")
    page.wait_for_selector("form[data-prove=code]")
    page.fill("#prove-code", p.otp.notifier.last_code("+84930000123"))
    page.click("form[data-prove=code] button[type=submit]")
    page.wait_for_selector("[data-operator=sent]")
    said = page.locator("[data-operator=sent]")
    assert said.locator("strong[lang=vi]").inner_text().startswith("Viettel Post đã gửi tin này lúc")
    assert "for a parcel to your number" in said.locator("small[lang=en]").inner_text()
    assert "*******123" in page.inner_text("[data-proven]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
