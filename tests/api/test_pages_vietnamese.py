"""Every page and every error page, rendered in Vietnamese, is in Vietnamese: no English sentence and
no raw code (``out_for_delivery``, ``call_intent``, ``staff:8``) in what a reader sees.

The pages are walked as their visitors see them on the demo's data: a citizen (the home page, the
checks with their answers and refusals, the report form refused and accepted, their own data once
proven), a courier, and each member of staff's role with their pages, forms refused and forms done;
then each error status a browser can get. What is checked is the visible text: tags, scripts, styles
and code (``<pre>``, ``<code>``: a signed checkpoint, a reference) removed, and whatever the page
marks ``lang="en"`` (an error page's English version, the language switch) left out. A word is English
when it is one of English's common function words, or when it is written in Latin letters without
diacritics and cannot be a Vietnamese syllable ("your", "must", "cannot", "confirm", "triangulate"
cannot; "the", "not" can, and are function words); a lower-case token with an underscore or of the
form ``word:digits`` is a raw code. ``LATIN_OK`` lists the Latin words a Vietnamese page may show,
each with its reason; ``DATA`` what is data rather than text (numbers, references, hosts, initials)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.demo import DEMO_ORG, DEMO_RECIPIENT, DEMO_STAFF, PLATFORM_STAFF, SECOND_COURIER
from postguard.intel.service import KEY_ORG
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.shipments.models import Shipment
from tests.api.test_demo_pages import _build, csrf_of, signed_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}

# Latin words a Vietnamese page may show, and why (compared without case).
LATIN_OK = {
    "postguard": "the product's name",
    "shipper": "the everyday Vietnamese word for a courier (người giao hàng)",
    "otp": "what banks and people call a one-time code in Viet Nam",
    "qr": "QR code (mã QR), as written in Vietnamese",
    "sms": "SMS, as written in Vietnamese",
    "api": "API key (khoá API) on the pages for programs' errors",
    "cod": "cash on delivery as Vietnamese e-commerce writes it (tiền thu hộ COD)",
    "voip": "VoIP (số điện thoại Internet), the technical name people are told to look for",
    "viettel": "an operator's brand (Viettel Post)",
    "post": "an operator's brand (Viettel Post, VNPost)",
    "vnpost": "an operator's brand",
    "demo": "the demo's accounts and organisation (DEMO) are named so",
    "intel": "the platform organisation's code, PG-INTEL",
    "pg": "the platform organisation's code, PG-INTEL",
    "bearer": "Authorization: Bearer",
    "internet": "Internet, as written in Vietnamese",
    "link": "an everyday Vietnamese word (đường link), beside liên kết",
    "web": "trang web, the Vietnamese word for a website",
    "online": "an everyday Vietnamese word (mua bán online)",
    "email": "the everyday Vietnamese word for an e-mail address",
    "mb": "megabytes (tối đa 2 MB), and MB, a bank's name",
    "kb": "kilobytes",
    "png": "an image format's name",
    "jpeg": "an image format's name",
    "pdf": "a file format's name",
    "atom": "the name of the news-feed format the warnings are published in",
    "zalo": "a messaging app's brand",
    "viettelpost": "an operator's brand as it signs its messages",
    "vietnam": "brands' names as they write them (Vietnam Post)",
    "shopee": "a brand",
    "ncsc": "a Vietnamese agency's acronym (Trung tâm Giám sát an toàn không gian mạng quốc gia)",
    "bhxh": "a Vietnamese acronym (Bảo hiểm xã hội)",
    "stk": "a Vietnamese acronym (số tài khoản), as scam messages write it",
    "cskh": "a Vietnamese acronym (chăm sóc khách hàng)",
}
FUNCTION_WORDS = frozenset(
    "the is are was were be been being not your you yours must cannot can't this that these those please with "
    "and for of from has have had will would should could does did what which who when where there their they "
    "it its by or at on if than then yet no".split())
_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
VIETNAMESE_SYLLABLE = re.compile(rf"^{_ONSET}[aeiouy]{{1,3}}(?:ch|ng|nh|[cmnpt])?$")
RAW_CODE = re.compile(r"\b[a-z]+:\d+\b|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# A random identifier (a report's reference, base64url): letters of both cases, at least 12 characters.
TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*[a-z])(?=[\w-]*[A-Z])[\w-]{12,}(?![\w-])")


class _Visible(HTMLParser):
    """The text a reader of a Vietnamese page sees: no scripts, styles, code (``<pre>``, ``<code>``) or
    element marked ``lang="en"``."""

    MACHINE = {"script", "style", "pre", "code"}  # code, and machine-readable text (a signed checkpoint)
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping: list[str] = []  # the open elements whose text is left out

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        lang = dict(attrs).get("lang")
        if self.skipping or tag in self.MACHINE or (lang is not None and not lang.startswith("vi")):
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.out).split())


# What a page shows that is data, not text: numbers, waybills, references and times (anything with a
# digit, or a reference such as DSR-STPNUAQX), hosts, links and addresses (``postguard.example/access-log``, ``ncsc.gov.vn``), a masked name's
# initials (one letter), and the demo's sign-in names (``hub``, ``phantich``) shown as who is signed in.
DATA = re.compile(r"\S*\d\S*|\S+[.@/]\S+|\b\w\b|\b[A-Z]{2,}-[A-Z0-9]{6,}\b|\b(?:%s)\b"
                  % "|".join(re.escape(u) for u, _ in (*DEMO_STAFF.values(), SECOND_COURIER, *PLATFORM_STAFF.values())))


def foreign(text: str, allowed: set[str] | None = None) -> list[str]:
    """The English words and raw codes in ``text`` (and, into ``allowed``, the allowlisted words it has)."""
    text = TOKEN.sub(" ", text)
    found = [m.group(0) for m in RAW_CODE.finditer(text)]
    for word in re.findall(r"\w+", DATA.sub(" ", RAW_CODE.sub(" ", text))):
        low = word.lower()
        if low in LATIN_OK and allowed is not None:
            allowed.add(low)
        if not word.isascii() or low in LATIN_OK:  # Vietnamese, or a Latin word a Vietnamese page may show
            continue
        if low in FUNCTION_WORDS or not VIETNAMESE_SYLLABLE.match(low):
            found.append(word)
    return found


class Pages:
    """Collects what each page shows that is not Vietnamese."""

    def __init__(self):
        self.seen: list[str] = []
        self.bad: dict[str, list[str]] = {}
        self.allowed: set[str] = set()  # the allowlisted words the pages did show

    def check(self, name: str, resp, status: int | tuple[int, ...] = 200) -> str:
        statuses = (status,) if isinstance(status, int) else status
        assert resp.status_code in statuses, (name, resp.status_code, resp.text[:500])
        assert resp.headers["content-type"].startswith("text/html"), name
        assert '<html lang="vi"' in resp.text, name
        text = visible(resp.text)
        self.seen.append(name)
        if words := foreign(text, self.allowed):
            self.bad[name] = sorted(set(words))
        return resp.text


@pytest.fixture
def demo(prebuilt):
    settings, state = prebuilt("demo-pages", _build, password_time_cost=1, password_memory_kib=1024,
                               notifier="memory")
    p = Platform(settings)
    app = create_app(settings, platform=p)

    @app.get("/test/status/{status}")
    def failing(status: int):  # the error pages of statuses no form here answers with
        if status == 500:
            raise RuntimeError("an unexpected failure")
        raise HTTPException(status_code=status)

    yield app, p, state
    p.close()


def test_the_detector_finds_english_and_raw_codes_and_leaves_vietnamese_alone():
    assert foreign("Không có bưu gửi nào với mã vận đơn này. Mã OTP của bạn, shipper postguard") == []
    assert foreign("Thông tin chưa hợp lệ: nhập lại tên đăng nhập, ví dụ nguyễn văn an") == []
    assert foreign("No shipment with waybill DM1") == ["No", "shipment", "with", "waybill"]
    assert sorted(foreign("Trạng thái: out_for_delivery · call_intent · staff:8")) == [
        "call_intent", "out_for_delivery", "staff:8"]
    assert foreign("Your role does not allow this.") == ["Your", "role", "does", "not", "allow", "this"]
    assert foreign("confirm · triangulate · official_verified") == ["official_verified", "confirm", "triangulate"]
    assert foreign("Trạng thái: đang giao") == [] and foreign("The code") == ["The", "code"]
    assert foreign("Mã báo cáo OuzSNkOOwS_xJbn_ · DSR-STPNUAQX · DM000000003 · ncsc.gov.vn") == []
    assert visible('<p>Xin chào</p><section lang="en"><h2>Hello</h2><br><p>there</p></section><p>bạn</p>'
                   '<script>var x = "the"</script>') == "Xin chào bạn"


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def _citizen(app, p, state, pages: Pages) -> None:
    client = TestClient(app)
    for path in ("/", "/kiem-tra", "/kiem-tra-cuoc-goi", "/canh-bao", "/bao-cao", "/du-lieu-cua-toi",
                 "/staff/login"):
        pages.check(path, client.get(path))
    pages.check("/q/<unknown>", client.get("/q/khong-co-ma-nay"), 404)
    # the scam check: a reported number, the official hotline, a message, a refused value
    token = form_token(client.get("/kiem-tra").text)
    for name, value in (("scam", state["try"]["scam"]), ("official", state["try"]["official"]),
                        ("unknown", "0911 222 333"), ("link", "http://vnpost.vn-giaohang.top/phi"),
                        ("message", "Viettel Post: don hang cua ban bi giu, chuyen 30.000d phi luu kho vao "
                                    "STK 0123456789 MB de nhan hang, truy cap http://vtp-giaohang.xyz"),
                        ("refused", "???")):
        pages.check(f"POST /kiem-tra ({name})", client.post("/kiem-tra", data={"value": value, "form_token": token}),
                    (200, 422))
    # the call check: a stranger, a courier's number without proof, a refused number, a report
    cc = client.get("/kiem-tra-cuoc-goi")
    csrf = csrf_of(cc.text)
    courier_phone = state["try"]["couriers"][0]["phone"] if state["try"]["couriers"] else "0987 000 111"
    for name, data in (("stranger", {"caller": "0911 222 333", "claims": "courier", "asked": ["transfer", "otp"],
                                     "transcript": "Em là shipper, anh chuyển khoản phí lưu kho giúp em"}),
                       ("voip", {"caller": "0672 012 345", "claims": "bank"}),
                       ("courier", {"caller": courier_phone}),
                       ("refused", {"caller": "abc"})):
        pages.check(f"POST /kiem-tra-cuoc-goi ({name})", client.post("/kiem-tra-cuoc-goi", data={**data, "csrf": csrf}),
                    (200, 422))
    pages.check("POST /kiem-tra-cuoc-goi/report (refused)",
                client.post("/kiem-tra-cuoc-goi/report", data={"number": "x", "csrf": csrf}), 422)
    pages.check("POST /kiem-tra-cuoc-goi/report",
                client.post("/kiem-tra-cuoc-goi/report", data={"number": "0911 222 444", "asked": ["fee"],
                                                               "note": "giả danh shipper", "csrf": csrf}))
    # the call check with the recipient's proof: the courier who delivers to them
    sent = client.post("/kiem-tra-cuoc-goi/otp", data={"caller": courier_phone, "phone": DEMO_RECIPIENT, "csrf": csrf})
    pages.check("POST /kiem-tra-cuoc-goi/otp", sent)
    challenge = re.search(r'name="challenge" value="([^"]+)"', sent.text).group(1)
    code = p.notifier.last_code(normalize_phone(DEMO_RECIPIENT))
    pages.check("POST /kiem-tra-cuoc-goi/otp/verify",
                client.post("/kiem-tra-cuoc-goi/otp/verify",
                            data={"caller": courier_phone, "phone": DEMO_RECIPIENT, "code": code,
                                  "challenge": challenge, "csrf": csrf}))
    pages.check("POST /kiem-tra-cuoc-goi/ma-xac-minh",
                client.post("/kiem-tra-cuoc-goi/ma-xac-minh", data={"waybill": "DM000000000", "code": "0000",
                                                                   "csrf": csrf}), (200, 401, 404, 422))
    # a verdict marked wrong, without the consent to send the message
    token = form_token(client.get("/kiem-tra").text)
    pages.check("POST /kiem-tra/phan-hoi (no consent)",
                client.post("/kiem-tra/phan-hoi", data={"text": "Viettel Post: chuyen 30.000d phi luu kho",
                                                        "label": "scam", "expected": "legit", "form_token": token}),
                (200, 409, 422))
    # the report form: refused (each field named), then accepted
    token = form_token(client.get("/bao-cao").text)
    pages.check("POST /bao-cao (refused)",
                client.post("/bao-cao", data={"values": "xin chào\n12", "category": "fake_courier",
                                              "amount_lost_vnd": "-5", "form_token": token}), 422)
    pages.check("POST /bao-cao", client.post("/bao-cao", data={"values": "0911 222 555", "category": "fake_courier",
                                                               "description": "Gọi giả danh shipper",
                                                               "form_token": token}),
                201)
    # my data: a code, a wrong code, then the page with the person's parcels and who accessed them
    me = client.get("/du-lieu-cua-toi").text
    csrf = csrf_of(me)
    pages.check("POST /du-lieu-cua-toi/ma (refused)",
                client.post("/du-lieu-cua-toi/ma", data={"phone": "12", "csrf": csrf}), 422)
    sent = client.post("/du-lieu-cua-toi/ma", data={"phone": DEMO_RECIPIENT, "csrf": csrf})
    pages.check("POST /du-lieu-cua-toi/ma", sent)
    challenge = re.search(r'name="challenge" value="([^"]+)"', sent.text).group(1)
    pages.check("POST /du-lieu-cua-toi/xac-minh (wrong)",
                client.post("/du-lieu-cua-toi/xac-minh", data={"phone": DEMO_RECIPIENT, "code": "000000",
                                                               "challenge": challenge, "csrf": csrf}), (401, 422))
    code = p.notifier.last_code(normalize_phone(DEMO_RECIPIENT))
    proven = client.post("/du-lieu-cua-toi/xac-minh", data={"phone": DEMO_RECIPIENT, "code": code,
                                                            "challenge": challenge, "csrf": csrf})
    pages.check("POST /du-lieu-cua-toi/xac-minh", proven, (200, 303))
    pages.check("/du-lieu-cua-toi (proven)", client.get("/du-lieu-cua-toi"))


def _staff(app, p, state, pages: Pages) -> None:
    with p.db.read_session() as s:
        waybill = s.execute(select(Shipment.waybill).where(Shipment.status == "out_for_delivery")
                            .order_by(Shipment.id)).scalars().first()
    courier = signed_in(app, "shipper")
    for path in ("/staff", "/staff/deliveries", f"/staff/deliveries/{waybill}", "/staff/calls"):
        pages.check(f"courier {path}", courier.get(path))
    csrf = csrf_of(courier.get(f"/staff/deliveries/{waybill}").text)
    pages.check("courier POST reveal", courier.post(f"/staff/deliveries/{waybill}/reveal",
                                                    data={"csrf": csrf}), (200, 403))
    pages.check("courier POST /staff/calls/call", courier.post("/staff/calls/call", data={"waybill": waybill,
                                                                                         "csrf": csrf}), (200, 303))
    pages.check("courier /staff/calls (after a call)", courier.get("/staff/calls"))
    pages.check("courier POST /staff/calls/phones", courier.post("/staff/calls/phones", data={
        "phone": "0987 000 333", "csrf": csrf}), (200, 303))
    pages.check("courier /staff/calls (a number awaiting its code)", courier.get("/staff/calls"))
    pages.check("courier POST /staff/calls/phones/verify (wrong code)", courier.post(
        "/staff/calls/phones/verify", data={"phone": "0987 000 333", "code": "000000", "csrf": csrf}), (200, 401, 422))

    hub = signed_in(app, "hub")
    assign = hub.get("/staff/assign")
    pages.check("hub /staff/assign", assign)
    pages.check("hub POST /staff/assign (window backwards)",
                hub.post("/staff/assign", data={"waybill": waybill, "courier": "shipper",
                                                "window_start": "2030-01-02T10:00", "window_end": "2030-01-02T08:00",
                                                "csrf": csrf_of(assign.text)}), 422)
    pages.check("hub POST /staff/assign (no such waybill)",
                hub.post("/staff/assign", data={"waybill": "KHONGCO123", "courier": "shipper",
                                                "window_start": "2030-01-02T08:00", "window_end": "2030-01-02T10:00",
                                                "csrf": csrf_of(assign.text)}), (404, 422))

    cs = signed_in(app, "cskh")
    page = cs.get("/staff/cs")
    pages.check("cs /staff/cs", page)
    pages.check("cs POST /staff/cs (no ticket)", cs.post("/staff/cs", data={"waybill": waybill, "ticket": "",
                                                                            "reason": "", "csrf": csrf_of(page.text)}),
                (403, 422))
    pages.check("cs POST /staff/cs", cs.post("/staff/cs", data={"waybill": waybill, "ticket": "CS-2025-001",
                                                                 "reason": "Khách hỏi địa chỉ giao",
                                                                 "csrf": csrf_of(page.text)}))

    admin = signed_in(app, "admin")
    page = admin.get("/staff/break-glass")
    pages.check("admin /staff/break-glass", page)
    pages.check("admin POST /staff/break-glass",
                admin.post("/staff/break-glass", data={"waybill": waybill, "justification": "Khách khiếu nại gấp, "
                                                       "cần xem địa chỉ để xử lý", "csrf": csrf_of(page.text)}))
    pages.check("admin /staff/assign", admin.get("/staff/assign"))

    auditor = signed_in(app, "auditor")
    for path in ("/staff", "/staff/audit/alerts", "/staff/audit/alerts?status=all", "/staff/audit/verify",
                 "/staff/audit/triangulation"):
        pages.check(f"auditor {path}", auditor.get(path))
    page = auditor.get("/staff/audit/triangulation")
    for name, given, status in (("", waybill, 200), (" (empty)", "", 422), (" (no such waybill)", "KHONGCO123", 404)):
        pages.check(f"auditor POST /staff/audit/triangulation{name}",
                    auditor.post("/staff/audit/triangulation", data={"waybill": given, "csrf": csrf_of(page.text)}),
                    status)

    dpo = signed_in(app, "dpo")
    for path in ("/staff/dpo/requests", "/staff/dpo/incidents"):
        pages.check(f"dpo {path}", dpo.get(path))
    page = dpo.get("/staff/dpo/incidents")
    pages.check("dpo POST /staff/dpo/incidents (future)",
                dpo.post("/staff/dpo/incidents", data={"description": "Lộ dữ liệu người nhận",
                                                       "detected_at": "2099-01-01T00:00", "affected_estimate": "3",
                                                       "csrf": csrf_of(page.text)}), 422)
    pages.check("dpo POST /staff/dpo/requests/<ref>/complete (asks)",
                dpo.post(f"/staff/dpo/requests/{state['deletion']}/complete",
                         data={"csrf": csrf_of(dpo.get('/staff/dpo/requests').text)}))

    analyst = signed_in(app, "phantich", KEY_ORG)
    for path in ("/staff", "/staff/intel/queue", "/staff/intel/appeals", "/staff/intel/warnings",
                 "/staff/intel/stats"):
        pages.check(f"analyst {path}", analyst.get(path))
    queue = analyst.get("/staff/intel/queue").text
    for iid in sorted(set(re.findall(r'href="/staff/intel/indicators/(\d+)"', queue)))[:3]:
        pages.check(f"analyst /staff/intel/indicators/{iid}", analyst.get(f"/staff/intel/indicators/{iid}"))
    platform_admin = signed_in(app, "quantri-nentang", KEY_ORG)
    pages.check("platform admin /staff/intel/official", platform_admin.get("/staff/intel/official"))


def _errors(app, pages: Pages) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    client.headers.update(BROWSER)
    pages.check("error 404", client.get("/khong-co-trang-nay"), 404)
    pages.check("error 405", client.get("/staff/logout"), 405)
    pages.check("error 401", client.post("/staff/logout"), 401)
    pages.check("error 401 (API)", client.get("/v1/shipments"), 401)
    pages.check("error 413", client.post("/bao-cao", content=b"x" * (3 << 20),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"}), 413)
    pages.check("error 422", client.post("/staff/login", data={"org": DEMO_ORG}), 422)
    courier = signed_in(app, "shipper")
    courier.headers.update(BROWSER)
    pages.check("error 403", courier.get("/staff/audit/alerts"), 403)
    for status in (400, 409, 429, 500):
        pages.check(f"error {status}", client.get(f"/test/status/{status}"), status)


def test_every_page_and_error_page_in_vietnamese_shows_no_english_and_no_raw_code(demo):
    app, p, state = demo
    pages = Pages()
    _citizen(app, p, state, pages)
    _staff(app, p, state, pages)
    _errors(app, pages)
    assert len(pages.seen) > 60
    assert pages.bad == {}, "\n".join(f"{name}: {' '.join(words)}" for name, words in pages.bad.items())
    unneeded = sorted(LATIN_OK.keys() - pages.allowed)
    assert unneeded == [], f"allowlisted, but no page shows them: {unneeded}"  # the allowlist only shrinks
