"""Accessibility and phone-first layout of the citizen pages, the courier's pages and each staff role's
main page, in Debian's chromium: axe-core (bundled by axe-playwright-python) finds no serious or critical
WCAG 2.2 AA violation at 390 and 1280 px; the citizens' and the courier's pages scroll only vertically at
320 px and at 200% zoom (a 640 px wide viewport for a 1280 px window) with no text overflowing its box,
their buttons and form controls are at least 44 x 44 px and links in running text at least 24 px high;
every page starts with a skip link to its main content and is titled by its heading; a citizen checks a
number and a call with the keyboard alone, always seeing where the focus is.

The demo world is served once for the module. Each walk goes through the pages in one browser context,
driving the real flows (one-time codes read from the memory notifier), and inspects every state it
reaches at every width without reloading it; the tests then assert on what the walks found. With
``POSTGUARD_SCREENSHOTS=docs/screens`` the walks also save the phone-sized screenshots of docs/screens.md."""

from __future__ import annotations

import copy
import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from postguard.app import create_app
from postguard.demo import COURIER_PHONES, DEMO_ORG, DEMO_RECIPIENT, SECOND_COURIER
from postguard.intel.service import KEY_ORG
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.shipments.models import LabelToken, Shipment
from tests.api.test_demo_pages import _build
from tests.api.test_pages_vietnamese import foreign, visible
from tests.e2e.conftest import serving
from tests.e2e.test_demo_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_WIDTHS = (390, 1280)
PHONE, NARROW, ZOOMED = (390, 844), (320, 640), (640, 360)  # ZOOMED: a 1280 x 720 window at 200%
DEMO_SETTINGS = dict(password_time_cost=1, password_memory_kib=1024, notifier="memory")  # tests/api/test_demo_pages.py's
SCREENSHOTS = os.environ.get("POSTGUARD_SCREENSHOTS")
SHOT_HEIGHT = 1200  # CSS px: a screenshot is the top of the page, at most this tall
# Names the message check's answer repeats from the pasted message: the bank its account is at.
NAMES_IN_ANSWERS = {"Vietcombank"}
A_MESSAGE = ("[BuuDien] Don hang cua ban bi giu tai kho do sai dia chi. Chuyen phi luu kho 35.000d vao "
             "TK 0123456789 Vietcombank truoc 17h hom nay de nhan hang.")  # synthetic


# -- what a page is checked for -------------------------------------------------------------------------

def axe_problems(page, axe) -> list[str]:
    """The serious and critical WCAG 2.2 AA violations axe-core finds, each with its nodes."""
    if not page.evaluate("typeof window.axe === 'object'"):  # once per document, not once per width
        page.evaluate(axe.axe_script)
    found = page.evaluate("o => axe.run(document, o)",
                          {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]})
    out = []
    for v in found["violations"]:
        if v["impact"] in ("serious", "critical"):
            nodes = "; ".join(f"{' '.join(map(str, n['target']))}: {n.get('failureSummary', '').splitlines()[-1].strip()}"
                              for n in v["nodes"][:6])
            out.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes; {v['help']}): {nodes}")
    return out


# A page wider than the screen, and the elements that stick out (innermost first; text in a horizontally
# scrolling table excepted).
HORIZONTAL_SCROLL = """() => {
  const e = document.scrollingElement, vw = e.clientWidth;
  if (e.scrollWidth <= vw) return null;
  const out = Array.from(document.body.querySelectorAll('*')).filter(el => {
    if (el.getBoundingClientRect().right <= vw + 1) return false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return false;
    return true;
  }).reverse().slice(0, 5).map(el => `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''} ` +
      `(right edge ${Math.round(el.getBoundingClientRect().right)} px): "${el.textContent.trim().slice(0, 40)}"`);
  return `page ${e.scrollWidth} px wide in ${vw} px: ${out.join('; ')}`;
}"""


# Text that does not fit its box: a text node whose line boxes stick out of its element's box or out of
# the viewport. Text inside a horizontal scroll container (a wide table) is reachable by scrolling it.
TEXT_OVERFLOW = """() => {
  const out = [], vw = document.documentElement.clientWidth;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (el.closest('script, style, .skip, [hidden]')) continue;
    let scroller = false;
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') { scroller = true; break; }
    }
    if (scroller) continue;
    const box = el.getBoundingClientRect(), range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width === 0) continue;
      if (r.right > Math.min(box.right, vw) + 1 || r.left < Math.max(box.left, 0) - 1) {
        out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + el.className : ''} ` +
                 `"${n.textContent.trim().slice(0, 40)}" ${Math.round(r.left)}-${Math.round(r.right)} px ` +
                 `in ${Math.round(box.left)}-${Math.round(box.right)} px`);
        break;
      }
    }
  }
  return out;
}"""

# Every link, button and form control a finger may tap, with its size. A checkbox or radio button is
# tapped through its label (the whole line), a link in running text (its block has other words) is
# "inline"; anything hidden, or the skip link while it waits off screen, is left out.
TARGETS = """() => Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary')).flatMap(el => {
  if (el.closest('.skip, [hidden]')) return [];
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') return [];
  let target = el;
  if (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label')) target = el.closest('label');
  const r = target.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) return [];
  let inline = false;
  if (el.tagName === 'A') {
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    inline = block.textContent.trim().length > el.textContent.trim().length &&
             getComputedStyle(el).display.startsWith('inline') && !el.matches('nav a, a.button');
  }
  const name = `${el.tagName.toLowerCase()}${el.name ? '[name=' + el.name + ']' : ''}` +
               `${el.getAttribute('href') ? '[href=' + el.getAttribute('href') + ']' : ''}` +
               ` "${(el.textContent || el.value || '').trim().slice(0, 30)}"`;
  return [{name, inline, width: r.width, height: r.height}];
})"""

# A skip link first, to <main id="main">; a heading; a title that names the page (its heading's words).
STRUCTURE = """() => {
  const out = [], first = document.querySelector('body a[href], body button, body input:not([type=hidden])');
  if (!first || !first.matches('a.skip[href="#main"]') || !first.textContent.trim())
    out.push('the first focusable element is not a skip link with words');
  if (document.querySelector('main#main') === null) out.push('no <main id="main">');
  const h1 = document.querySelector('h1'), title = document.title.split(' — ')[0].trim();
  if (!h1) out.push('no <h1>');
  else if (!title || !h1.textContent.replace(/\\s+/g, ' ').trim().startsWith(title))
    out.push(`the title "${document.title}" does not name the page ("${h1.textContent.trim()}")`);
  return out;
}"""


@dataclass
class Findings:
    """What a walk found, by check: page state -> problems (empty: none)."""
    axe: dict[str, list[str]] = field(default_factory=dict)
    scroll: dict[str, list[str]] = field(default_factory=dict)
    overflow: dict[str, list[str]] = field(default_factory=dict)
    targets: dict[str, list[str]] = field(default_factory=dict)
    structure: dict[str, list[str]] = field(default_factory=dict)
    english: dict[str, list[str]] = field(default_factory=dict)  # on a Vietnamese page: English words, raw codes
    statuses: dict[str, int] = field(default_factory=dict)
    shots: set[str] = field(default_factory=set)  # the states docs/screens.md shows

    def report(self, check: str) -> str:
        bad = {k: v for k, v in getattr(self, check).items() if v}
        return "\n".join(f"{state}:\n  " + "\n  ".join(problems) for state, problems in bad.items())


class Walk:
    """Inspects each page state a flow reaches (``see``), at every width, without reloading it."""

    def __init__(self, page, findings: Findings, *, phone_first: bool) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page, self.found, self.phone_first, self.axe = page, findings, phone_first, Axe()

    def size(self, wh: tuple[int, int]) -> None:
        self.page.set_viewport_size({"width": wh[0], "height": wh[1]})

    def see(self, state: str, status: int | None = 200, shot: bool = False) -> None:
        page, found = self.page, self.found
        assert state not in found.axe, f"{state} seen twice"
        page.wait_for_load_state()
        if status is not None:
            found.statuses[state] = status
        axe = []
        for width in AXE_WIDTHS:
            self.size((width, 900))
            axe += [f"[{width} px] {p}" for p in axe_problems(page, self.axe)]
        found.axe[state] = axe
        found.structure[state] = page.evaluate(STRUCTURE)
        if page.evaluate("document.documentElement.lang") == "vi":  # the same detector as the pages' HTTP walk
            shown = visible(page.content()).replace(A_MESSAGE, " ")  # the message the citizen pasted is theirs
            found.english[state] = sorted(set(foreign(shown)) - NAMES_IN_ANSWERS)
        if self.phone_first:  # citizens' and couriers' pages
            scroll, overflow = [], []
            for wh, label in ((NARROW, "320 px"), (ZOOMED, "200% zoom")):
                self.size(wh)
                if (s := page.evaluate(HORIZONTAL_SCROLL)):
                    scroll.append(f"[{label}] {s}")
                overflow += [f"[{label}] {o}" for o in page.evaluate(TEXT_OVERFLOW)]
            found.scroll[state], found.overflow[state] = scroll, overflow
            self.size(PHONE)
            found.targets[state] = [
                f"{t['name']}: {t['width']:.0f} x {t['height']:.0f} px"
                for t in page.evaluate(TARGETS)
                if (t["height"] < 24 if t["inline"] else (t["height"] < 44 or t["width"] < 44))]
        self.size(PHONE)
        if shot:
            found.shots.add(state)
        if shot and SCREENSHOTS:
            save_screenshot(page, Path(SCREENSHOTS) / f"{state}.png")


def save_screenshot(page, path: Path) -> None:
    """The top of the page (at most SHOT_HEIGHT px) at phone width, as a PNG of 128 colours."""
    from PIL import Image

    height = min(SHOT_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": PHONE[0], "height": height})
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128).save(path, optimize=True)


# -- the site and the walks -----------------------------------------------------------------------------

@dataclass
class Site:
    base: str
    platform: Platform
    state: dict

    def code_sent_to(self, phone: str) -> str:
        return self.platform.notifier.last_code(normalize_phone(phone))


@pytest.fixture(scope="module")
def site(_templates, tmp_path_factory):
    """The demo world of tests/api/test_demo_pages.py (built once per process), served for this module."""
    data, _, state = _templates.world("sqlite", "demo-pages", _build, DEMO_SETTINGS)
    state = copy.deepcopy(state)
    own = tmp_path_factory.mktemp("a11y") / "data"
    shutil.copytree(data, own)
    settings = Settings(data_dir=own, database_url=f"sqlite:///{(own / 'postguard.db').as_posix()}",
                        log_format="json", intel_check_rate="1000/minute", intel_report_rate="1000/hour",
                        **DEMO_SETTINGS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        platform = Platform(settings)
        waybill = state["try"]["recipient"]["waybill"]
        platform.labels.render(platform.orgs.principal(DEMO_ORG, actor="test"), [waybill])
        with platform.db.read_session() as s:
            state["token"] = s.execute(select(LabelToken.token).join(Shipment, Shipment.id == LabelToken.shipment_id)
                                       .where(Shipment.waybill == waybill)).scalar_one()
        try:
            with serving(create_app(settings, platform=platform)) as base:
                yield Site(base, platform, state)
        finally:
            platform.close()


def _context(browser):
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, locale="vi-VN")
    context.set_default_timeout(15_000)
    return context


def submit(page, form: str, values: dict[str, str], *, then: str) -> None:
    """Fill ``values`` (field name -> text) into ``form``, submit it and wait for ``then`` to show."""
    for name, value in values.items():
        page.fill(f"{form} [name={name}]", value)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(then)


def call_check(page, base: str, *, caller: str, waybill: str = "", asked=()) -> str:
    page.goto(base + "/kiem-tra-cuoc-goi")
    page.fill("#cc-form input[name=caller]", caller)
    page.fill("#cc-form input[name=waybill]", waybill)
    for a in asked:
        page.check(f"#cc-form input[name=asked][value={a}]")
    page.click("#cc-form button[type=submit]")
    page.wait_for_load_state()
    result = page.locator("#cc-result")
    return result.get_attribute("data-outcome") if result.count() else ""


def walk_citizen(site: Site, walk: Walk) -> dict:
    page, base, tries = walk.page, site.base, site.state["try"]
    reached: dict[str, str] = {}

    for path, state in (("/", "home"), ("/kiem-tra", "check"), ("/canh-bao", "warnings"),
                        ("/kiem-tra-cuoc-goi", "callcheck"), ("/bao-cao", "report"), ("/du-lieu-cua-toi", "my-data")):
        page.goto(base + path)
        walk.see(state, shot=True)
    for path, state in (("/?lang=en", "home-en"), ("/kiem-tra?lang=en", "check-en"),
                        ("/kiem-tra-cuoc-goi?lang=en", "callcheck-en")):
        page.goto(base + path)
        walk.see(state)
    page.goto(base + "/?lang=vi")

    # the message check: a number, a whole message
    page.goto(base + "/kiem-tra")
    page.fill("#value", tries["scam"])
    page.click("#ask button[type=submit]")
    reached["check-number"] = page.get_attribute("section.verdict", "data-verdict")
    walk.see("check-number", shot=True)
    page.fill("#value", A_MESSAGE)
    page.click("#ask button[type=submit]")
    reached["check-message"] = page.get_attribute("section.verdict", "data-verdict")
    walk.see("check-message", shot=True)
    page.click("section.feedback summary")  # "Kết quả này sai?": the form to send the message for review
    page.check("form.feedback-form input[name=expected] >> nth=0")
    page.check("form.feedback-form input[name=consent]")
    walk.see("check-feedback")
    page.click("form.feedback-form button[type=submit]")
    page.wait_for_selector("[data-feedback]")
    reached["check-feedback-sent"] = page.get_attribute("[data-feedback]", "data-feedback")
    walk.see("check-feedback-sent")

    # the call check, each outcome
    reached["callcheck-invalid"] = call_check(page, base, caller="không phải số")
    assert page.locator("#cc-error").count() == 1
    walk.see("callcheck-invalid", status=None)
    reached["callcheck-not-courier"] = call_check(page, base, caller="0933 444 555", asked=("otp", "transfer"))
    walk.see("callcheck-not-courier", shot=True)
    submit(page, "#cc-report", {"note": "Gọi đòi phí lưu kho"}, then="#cc-reported")  # synthetic
    walk.see("callcheck-reported")
    waybill = tries["recipient"]["waybill"]
    reached["callcheck-courier"] = call_check(page, base, caller=COURIER_PHONES["shipper"], waybill=waybill)
    walk.see("callcheck-courier")
    submit(page, "form[action='/kiem-tra-cuoc-goi/otp']", {"phone": DEMO_RECIPIENT}, then="#cc-otp")
    walk.see("callcheck-code")
    submit(page, "#cc-otp", {"code": site.code_sent_to(DEMO_RECIPIENT)}, then="#cc-result")
    reached["callcheck-verified"] = page.get_attribute("#cc-result", "data-outcome")
    walk.see("callcheck-verified", shot=True)
    submit(page, "#cc-spoken", {"code": page.inner_text("#cc-spoken-code").strip()}, then="#cc-spoken-result")
    reached["callcheck-spoken-code"] = page.get_attribute("#cc-spoken-result", "data-valid")
    walk.see("callcheck-spoken-code")
    reached["callcheck-no-delivery"] = call_check(page, base, caller=COURIER_PHONES[SECOND_COURIER[0]],
                                                  waybill=waybill)
    walk.see("callcheck-no-delivery")

    # the report form: a refused report, then one filed
    page.goto(base + "/bao-cao")
    submit(page, "form.stack", {"values": "xin chào", "amount_lost_vnd": "nhiều lắm"}, then="#report-errors")
    walk.see("report-invalid", status=None, shot=True)
    submit(page, "form.stack", {"values": "0933 444 555", "amount_lost_vnd": ""}, then="section.verdict")
    walk.see("report-filed")

    # my data: the phone, the code, the data and requests
    page.goto(base + "/du-lieu-cua-toi")
    submit(page, "form.stack", {"phone": DEMO_RECIPIENT}, then="input[name=code]")
    walk.see("my-data-code")
    submit(page, "form.stack", {"code": site.code_sent_to(DEMO_RECIPIENT)}, then="select[name=kind]")
    walk.see("my-data-shown", shot=True)

    # a label's QR code, a known and an unknown one
    page.goto(base + "/q/" + site.state["token"])
    walk.see("qr-label", shot=True)
    response = page.goto(base + "/q/khong-co-ma-nay")
    walk.see("qr-unknown", status=response.status)

    # error pages: a page that does not exist, a form whose check token was tampered with
    response = page.goto(base + "/khong-co-trang-nay")
    walk.see("error-404", status=response.status, shot=True)
    page.goto(base + "/kiem-tra-cuoc-goi")
    page.evaluate("document.querySelector('#cc-form input[name=csrf]').value = 'tampered'")
    page.fill("#cc-form input[name=caller]", "0933 444 555")
    with page.expect_response(lambda r: r.url.endswith("/kiem-tra-cuoc-goi")) as answer:
        page.click("#cc-form button[type=submit]")
    walk.see("error-403", status=answer.value.status)
    return reached


# each role's main pages (the courier's are walked through their flow)
ROLE_PAGES = [(DEMO_ORG, "dpo", ("/staff", "/staff/dpo/requests", "/staff/dpo/incidents")),
              (DEMO_ORG, "auditor", ("/staff/audit/alerts",)),
              (KEY_ORG, "phantich", ("/staff/intel/queue",)),
              (DEMO_ORG, "admin", ("/staff/assign", "/staff/break-glass")),
              (DEMO_ORG, "cskh", ("/staff/cs",)),
              (KEY_ORG, "quantri-nentang", ("/staff/intel/official",))]


def walk_courier(site: Site, walk: Walk) -> None:
    page, base = walk.page, site.base
    mine = site.state["try"]["recipient"]["waybill"]
    theirs = next(c for c in site.state["try"]["couriers"] if c["username"] == SECOND_COURIER[0])["waybills"][0]

    page.goto(base + "/staff/login")
    walk.see("staff-login", shot=True)
    submit(page, "form.stack", {"org": DEMO_ORG, "username": "shipper", "password": "sai mật khẩu"}, then="p.error")
    walk.see("staff-login-failed", status=401)
    sign_in(page, base, DEMO_ORG, "shipper")
    walk.see("courier-home")
    page.goto(base + "/staff/deliveries")
    walk.see("courier-deliveries", shot=True)
    page.goto(f"{base}/staff/deliveries/{mine}")
    walk.see("courier-delivery")
    page.click("article.delivery form button[type=submit]")
    page.wait_for_url(f"{base}/staff/deliveries/{mine}/reveal")
    walk.see("courier-revealed", shot=True)
    response = page.goto(f"{base}/staff/deliveries/{theirs}")
    walk.see("courier-refused", status=response.status)
    page.goto(base + "/staff/calls")
    walk.see("courier-calls", shot=True)
    page.click(f"article.parcel[data-waybill='{mine}'] form button[type=submit]")
    page.wait_for_selector("#call-started")
    walk.see("courier-call-started")
    page.fill("form[action='/staff/calls/phones'] input[name=phone]", "0987 000 333")
    page.click("form[action='/staff/calls/phones'] button[type=submit]")
    page.wait_for_selector("section.pending-phone")
    walk.see("courier-phone-pending")
    response = page.goto(base + "/staff/dpo/requests")
    walk.see("courier-forbidden", status=response.status)


def walk_staff(site: Site, walk: Walk, browser) -> None:
    for org, username, paths in ROLE_PAGES:
        with _context(browser) as context:
            walk.page = context.new_page()
            sign_in(walk.page, site.base, org, username)
            for path in paths:
                walk.page.goto(site.base + path)
                walk.see(f"{username}{path.replace('/', '-')}")


@pytest.fixture(scope="module")
def citizen(site, browser):
    found = Findings()
    with _context(browser) as context:
        reached = walk_citizen(site, Walk(context.new_page(), found, phone_first=True))
    return found, reached


@pytest.fixture(scope="module")
def staff(site, browser):
    found = Findings()
    with _context(browser) as context:
        walk = Walk(context.new_page(), found, phone_first=True)
        walk_courier(site, walk)
        walk.phone_first = False  # the other roles work at a desk
        walk_staff(site, walk, browser)
    return found


# -- the tests ------------------------------------------------------------------------------------------

def test_the_walks_reach_every_page_and_outcome(citizen, staff):
    found, reached = citizen
    assert reached.pop("check-number") in ("reported", "corroborated")  # the demo's reports of the number
    assert reached == {"check-message": "scam", "check-feedback-sent": "pending", "callcheck-invalid": "",
                       "callcheck-not-courier": "not_courier", "callcheck-courier": "courier",
                       "callcheck-verified": "verified", "callcheck-spoken-code": "true",
                       "callcheck-no-delivery": "courier_no_delivery"}
    assert {k: v for k, v in found.statuses.items() if v != 200} == {"qr-unknown": 404, "error-404": 404,
                                                                        "error-403": 403}
    assert {k: v for k, v in staff.statuses.items() if v != 200} == {"staff-login-failed": 401,
                                                                      "courier-refused": 403,
                                                                      "courier-forbidden": 403}
    assert set(found.axe) == {
        "home", "check", "warnings", "callcheck", "report", "my-data", "home-en", "check-en", "callcheck-en",
        "check-number", "check-message", "check-feedback", "check-feedback-sent", "callcheck-invalid", "callcheck-not-courier", "callcheck-reported",
        "callcheck-courier", "callcheck-code", "callcheck-verified", "callcheck-spoken-code", "callcheck-no-delivery",
        "report-invalid", "report-filed", "my-data-code", "my-data-shown", "qr-label", "qr-unknown", "error-404",
        "error-403"}
    shown = {p.stem for p in (Path(__file__).parents[2] / "docs" / "screens").glob("*.png")}
    assert found.shots | staff.shots == shown  # docs/screens.md shows what the walks photograph
    assert set(staff.axe) == {
        "staff-login", "staff-login-failed", "courier-home", "courier-deliveries", "courier-delivery",
        "courier-revealed", "courier-refused", "courier-calls", "courier-call-started", "courier-phone-pending",
        "courier-forbidden", "dpo-staff", "dpo-staff-dpo-requests", "dpo-staff-dpo-incidents",
        "auditor-staff-audit-alerts", "phantich-staff-intel-queue", "admin-staff-assign", "admin-staff-break-glass",
        "cskh-staff-cs", "quantri-nentang-staff-intel-official"}


def test_citizen_pages_have_no_serious_wcag_22_aa_violation(citizen):
    found, _ = citizen
    assert not found.report("axe"), "axe-core, serious and critical violations:\n" + found.report("axe")


def test_courier_and_staff_pages_have_no_serious_wcag_22_aa_violation(staff):
    assert not staff.report("axe"), "axe-core, serious and critical violations:\n" + staff.report("axe")


def test_citizen_and_courier_pages_scroll_only_vertically_at_320_px_and_200_percent_zoom(citizen, staff):
    found, _ = citizen
    scroll, overflow = found.report("scroll") + staff.report("scroll"), found.report("overflow") + staff.report("overflow")
    assert not scroll, "horizontal scroll:\n" + scroll
    assert not overflow, "text outside its box:\n" + overflow


def test_citizen_and_courier_pages_have_large_tap_targets(citizen, staff):
    found, _ = citizen
    small = found.report("targets") + staff.report("targets")
    assert len(staff.targets) == 11, sorted(staff.targets)  # the courier's pages (and the sign-in page)
    assert not small, ("buttons, form controls and links on their own under 44 x 44 px, "
                       "links in running text under 24 px high:\n" + small)


def test_vietnamese_pages_show_no_english_and_no_raw_code_in_the_browser(citizen, staff):
    """What the browser shows, after the flows' scripts ran: the detector of tests/api/test_pages_vietnamese.py."""
    found, _ = citizen
    for walk in (found, staff):
        assert len(walk.english) >= 5 and not walk.report("english"), walk.report("english")


def test_every_page_starts_with_a_skip_link_and_is_titled_by_its_heading(citizen, staff):
    found, _ = citizen
    problems = found.report("structure") + staff.report("structure")
    assert not problems, problems


# The focused element, and whether a focus indicator (an outline of 2 px or more, or a box shadow) shows
# it on screen.
FOCUSED = """() => {
  const el = document.activeElement, s = getComputedStyle(el), r = el.getBoundingClientRect();
  return {what: `${el.tagName.toLowerCase()}${el.name ? '[name=' + el.name + ']' : ''}${el.className ? '.' + el.className : ''}`,
          ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none',
          on_screen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth};
}"""


def tab_to(page, selector: str, limit: int = 40) -> list[dict]:
    """Press Tab until ``selector`` has the focus; every element passed on the way shows its focus."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        passed.append(page.evaluate(FOCUSED))
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            hidden = [f["what"] for f in passed if not (f["ring"] and f["on_screen"])]
            assert not hidden, f"focused without a visible focus indicator: {hidden}"
            return passed
    raise AssertionError(f"Tab never reached {selector}: {[f['what'] for f in passed]}")


def test_a_citizen_checks_a_number_and_a_call_with_the_keyboard_alone(site, page):
    base, scam = site.base, site.state["try"]["scam"]
    page.goto(base + "/kiem-tra")
    assert [f["what"] for f in tab_to(page, "a.skip")] == ["a.skip"]  # the skip link comes first, and shows
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main" and page.url.endswith("#main")
    assert len(tab_to(page, "#value")) == 1  # from the main content, the question is the next stop
    page.keyboard.type(scam)
    tab_to(page, "#ask button[type=submit]")
    page.keyboard.press("Space")
    page.wait_for_selector("section.verdict")
    assert page.get_attribute("section.verdict", "data-verdict") in ("reported", "corroborated")

    page.goto(base + "/kiem-tra-cuoc-goi")
    tab_to(page, "#cc-form input[name=caller]")
    page.keyboard.type("0933 444 555")
    tab_to(page, "#cc-form input[name=asked][value=otp]")
    page.keyboard.press("Space")
    assert page.is_checked("#cc-form input[name=asked][value=otp]")
    tab_to(page, "#cc-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cc-result")
    assert page.get_attribute("#cc-result", "data-outcome") == "not_courier"
    assert page.locator("#cc-result [data-flag]").count() >= 1  # what the caller asked for is named
