"""The demo in a real browser (Debian's chromium driven by Playwright, a phone-sized screen): each
member of staff sees only menu entries that open, the call check's checkboxes sit on one line with
their words, a deletion request asks before it shreds, and times read in Viet Nam time."""

from __future__ import annotations

import pytest

from postguard.app import create_app
from postguard.demo import DEMO_ORG, demo_password
from postguard.platform import Platform
from tests.api.test_demo_pages import SHOWN, UTC_SHOWN, _build

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker

STAFF = [(DEMO_ORG, u) for u in ("admin", "hub", "shipper", "shipper2", "cskh", "auditor", "dpo")] + \
        [("PG-INTEL", "phantich"), ("PG-INTEL", "quantri-nentang")]


@pytest.fixture
def demo_site(prebuilt, live_server):
    settings, state = prebuilt("demo-pages", _build, password_time_cost=1, password_memory_kib=1024,
                               notifier="memory")
    platform = Platform(settings)
    yield live_server(create_app(settings, platform=platform)), platform, state
    platform.close()


def sign_in(page, base, org, username):
    page.goto(base + "/staff/login")
    page.fill("input[name=org]", org)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo_password(username))
    page.click("form button[type=submit]")
    page.wait_for_url(base + "/staff")


@pytest.mark.parametrize(("org", "username"), STAFF, ids=[u for _, u in STAFF])
def test_each_member_of_staff_sees_only_the_menu_entries_that_open(demo_site, page, org, username):
    base, _, _ = demo_site
    sign_in(page, base, org, username)
    links = page.eval_on_selector_all("nav.staff a", "as => as.map(a => a.getAttribute('href'))")
    assert links, username
    for href in links:
        response = page.goto(base + href)
        assert response.status == 200, (username, href)
        assert page.locator("nav.staff strong").inner_text() == username  # still signed in, on a staff page
    public = page.eval_on_selector_all("nav.main a", "as => as.map(a => a.getAttribute('href'))")
    assert {"/kiem-tra-cuoc-goi", "/canh-bao"} <= set(public)


def test_each_call_check_box_sits_on_one_line_with_its_words(demo_site, page):
    """At 390 px: the box left of its words, on the same line, the whole line a tap target of 44 px
    or more (the boxes used to sit centred on lines of their own above their words)."""
    base, _, _ = demo_site
    page.goto(base + "/kiem-tra-cuoc-goi")
    boxes = page.eval_on_selector_all("#cc-form label.check", """labels => labels.map(label => {
        const box = label.querySelector('input[type=checkbox]').getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(label);
        range.setStartAfter(label.querySelector('input'));
        const words = Array.from(range.getClientRects()).filter(r => r.width > 0);
        const l = label.getBoundingClientRect();
        return {box: [box.left, box.top, box.right, box.bottom],
                words: words.map(r => [r.left, r.top, r.right, r.bottom]), label: [l.left, l.top, l.right, l.bottom]};
    })""")
    assert len(boxes) == 5
    for b in boxes:
        (bl, bt, br, bb), (ll, lt, lr, lb) = b["box"], b["label"]
        first = b["words"][0]
        assert br <= first[0], b  # the words start right of the box …
        box_middle = (bt + bb) / 2
        assert first[1] <= box_middle <= first[3], b  # … on the same line
        assert bl - ll < 20 and br - bl >= 20, b  # the box at the line's start, large enough to tap
        assert lb - lt >= 44 and lr - ll > 300, b  # the whole line is the tap target
    page.click("#cc-form label.check >> nth=2")  # tapping the words ticks the box
    assert page.is_checked("#cc-form input[name=asked] >> nth=2")


def test_a_deletion_request_is_shredded_only_after_a_second_step(demo_site, page):
    base, platform, state = demo_site
    ref = state["deletion"]
    sign_in(page, base, DEMO_ORG, "dpo")
    page.goto(base + "/staff/dpo/requests")
    row = page.locator("tr", has_text=ref)
    row.locator(f"form[action='/staff/dpo/requests/{ref}/complete'] button").click()
    assert "Xác nhận hủy dữ liệu" in page.locator("h1").inner_text()
    assert ref in page.locator("#dsr-confirm").inner_text()
    page.click("text=Quay lại, không hủy")
    page.wait_for_url(base + "/staff/dpo/requests")
    assert platform.privacy.get_request(platform.privacy.dpo(DEMO_ORG, "dpo"), ref)["status"] == "received"
    page.locator("tr", has_text=ref).locator("form[action$='/complete'] button").click()
    page.click("text=Hủy dữ liệu vĩnh viễn")
    page.wait_for_url(base + "/staff/dpo/requests?*")
    assert ref in page.locator("p.ok").inner_text()
    assert platform.privacy.get_request(platform.privacy.dpo(DEMO_ORG, "dpo"), ref)["status"] != "received"


def test_times_read_in_viet_nam_time(demo_site, page):
    base, _, _ = demo_site
    page.goto(base + "/canh-bao")
    shown = page.locator("article.warning time").first
    assert shown.inner_text() == SHOWN and shown.get_attribute("datetime") == "2026-03-02T03:30+07:00"
    body = page.locator("main").inner_text()
    assert not any(u in body for u in UTC_SHOWN) and "UTC" not in body
    sign_in(page, base, DEMO_ORG, "auditor")
    page.goto(base + "/staff/audit/alerts")
    assert SHOWN in page.locator("article.alert").first.inner_text()
