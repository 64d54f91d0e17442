"""``POST /v1/check`` and ``/kiem-tra`` with a whole message or a QR code: a label, the reasons
and every indicator's verdict (reported numbers, lookalike links, official domains), counted once
against the lookup rate, nothing stored, counted or logged; single values answer as before."""

from __future__ import annotations

import io
import logging
import re

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postguard.app import create_app
from postguard.intel.models import Indicator
from postguard.intel.seed import seed_official
from postguard.messages import vietqr
from postguard.platform import Platform

pytestmark = pytest.mark.both_databases

SCAM = ("VNPost: Bưu phẩm của bạn bị giữ do thiếu phí lưu kho 25.000đ. Thanh toán tại http://vnpost-vn.com/pay "
        "hoặc gọi 0912 345 678 trong 24h để tránh bị hủy.")


@pytest.fixture
def world(make_settings):
    p = Platform(make_settings(intel_check_rate="6/minute"))
    seed_official(p.intel, p.orgs)
    p.intel.report(indicators=["0912345678"], category="fake_courier", client="seed")
    yield p
    p.close()


@pytest.fixture
def api(world):
    return TestClient(create_app(world.settings, platform=world))


def _rows(p):
    with p.db.read_session() as s:
        return s.execute(select(func.count(), func.coalesce(func.sum(Indicator.lookups), 0))
                         .select_from(Indicator)).one()


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_a_pasted_scam_is_answered_with_each_indicator_and_nothing_is_kept(api, world, caplog):
    before = _rows(world)
    caplog.set_level(logging.DEBUG)
    r = api.post("/v1/check", json={"value": SCAM})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "message" and body["label"] == "scam" and body["verdict"] == "scam"
    assert body["language"] == "vi" and body["headline"] == body["headline_vi"]
    by_type = {i["type"]: i for i in body["indicators"]}
    assert by_type["url"]["verdict"] == "lookalike" and by_type["url"]["lookalike"]["brand"] == "Vietnam Post"
    assert by_type["phone"]["verdict"] == "reported" and by_type["phone"]["display"] == "*******678"
    assert by_type["amount"]["value"] == 25000
    codes = {x["code"] for x in body["reasons"]}
    assert {"lookalike_link", "reported_indicator", "fee"} <= codes
    assert all(x["text"] == x["text_vi"] for x in body["reasons"])
    world.intel.flush_lookups()
    assert _rows(world) == before  # no new indicator, no lookup counted
    assert "0912 345 678" not in caplog.text and "phí lưu kho" not in caplog.text and "0912 345 678" not in r.text


def test_official_links_are_official_but_an_operators_name_needs_its_templates(api):
    """A genuine-looking notice with the official link, but in wording the operator it names never
    registered, is suspicious by itself; the link stays official."""
    r = api.post("/v1/check", json={"value": "Vietnam Post: Buu gui EC123456789VN dang duoc giao hom nay. "
                                              "Tra cuu tai https://vnpost.vn/tra-cuu. Khong chuyen khoan truoc."})
    body = r.json()
    assert r.status_code == 200 and body["label"] == "suspicious", body["reasons"]
    assert {"official_link", "operator_suspicious"} <= {x["code"] for x in body["reasons"]}
    assert body["indicators"][0]["verdict"] == "official"


def test_qr_payloads_and_their_errors(api):
    payload = vietqr.build("970436", "0123456789", amount=30000, message="phi giao lai don hang")
    for body in ({"value": payload}, {"value": payload, "type": "qr"}):
        r = api.post("/v1/check", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["qr"]["bank"] == "Vietcombank" and out["qr"]["account"] == "******6789"
        assert out["qr"]["amount"] == 30000 and "0123456789" not in r.text
    bad = payload[:-4] + ("0000" if not payload.endswith("0000") else "1111")
    r = api.post("/v1/check", json={"value": bad})
    assert r.status_code == 422 and r.json()["errors"][0] == {"field": "value", "code": "bad_crc",
                                                             "message": r.json()["errors"][0]["message"]}


def test_bounds_and_what_stays_an_error(api):
    r = api.post("/v1/check", json={"value": "ư " * 2100})  # 4,200 bytes of words
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "too_long"
    r = api.post("/v1/check", json={"value": "!!!"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "value"
    r = api.post("/v1/check", json={"value": "hello", "type": "message"})
    assert r.status_code == 200 and r.json()["label"] == "legit"
    single = api.post("/v1/check", json={"value": "0912345678"}).json()
    assert "label" not in single and single["verdict"] == "reported"


def test_a_message_is_one_lookup_against_the_rate(api):
    statuses = [api.post("/v1/check", json={"value": SCAM}).status_code for _ in range(7)]
    assert statuses == [200] * 6 + [429]


def _png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=4)
    return out.getvalue()


def test_the_page_takes_a_message_and_a_qr_image(api):
    page = api.get("/kiem-tra")
    token = _token(page.text)
    r = api.post("/kiem-tra", data={"value": SCAM, "form_token": token})
    assert r.status_code == 200 and 'data-label="scam"' in r.text
    assert r.text.index("Đòi các loại phí") < r.text.index("Asks for a storage")  # Vietnamese first
    result = r.text.split('role="status" data-verdict=')[1].split("</section>")[0]  # the verdict (the form
    assert 'data-type="url" data-verdict="lookalike"' in result and "0912 345 678" not in result  # below holds the text)
    payload = vietqr.build("970422", "1122334455", amount=25000, message="phi luu kho")
    r = api.post("/kiem-tra", data={"value": "", "form_token": token},
                 files={"qr_image": ("qr.png", _png(payload), "image/png")})
    assert r.status_code == 200 and "data-label=" in r.text and "MB" in r.text and "******4455" in r.text
    r = api.post("/kiem-tra", data={"value": "", "form_token": token},
                 files={"qr_image": ("x.png", b"\x89PNG\r\n\x1a\n garbage", "image/png")})
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = api.post("/kiem-tra", data={"value": "", "form_token": token},
                 files={"qr_image": ("big.jpg", b"\xff\xd8\xff" + b"0" * (vietqr.MAX_IMAGE_BYTES + 70 * 1024),
                                     "image/jpeg")})
    assert r.status_code == 413
