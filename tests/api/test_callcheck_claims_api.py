"""The call check over HTTP, on both databases: VoIP numbers and who the caller claimed to be, a call's
transcript (read, never kept), the COD rule for the account a caller asks to be paid into, and the
citizen page showing them."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.callerid.check import MAX_TRANSCRIPT_BYTES
from postguard.models import metadata
from tests.api.test_api import assert_problem
from tests.api.test_callerid_api import api_proof, page_csrf
from tests.callerid_world import COURIER_PHONE, prebuilt_world

pytestmark = pytest.mark.both_databases

UK_VOIP = "+44 56 1234 5678"  # phonenumbers: VOIP
VN_VOIP = "0672 012 345"  # phonenumbers: VOIP (Viet Nam's 0672 range)
STRANGER = "0933 444 555"
REGISTERED_COD = "MB 9999000001"  # synthetic: registered below as the sample operator's COD account
OTHER_ACCOUNT = "MB 0123456789"
MARKER = "Quyttrawlgen"  # a word no table, log line or answer has unless the transcript leaks


@pytest.fixture
def api(prebuilt, faker):
    w = prebuilt_world(prebuilt, faker, password_time_cost=1, password_memory_kib=1024, notifier="memory",
                       callcheck_rate_limit="1000/minute", callcheck_probe_limit="20/hour")
    admin = w.p.intel.cli_principal()
    channel = w.p.intel.official_add(admin, kind="cod_account", value=REGISTERED_COD, label="COD", org_code="VNP")
    w.p.intel.official_set_status(admin, channel["id"], status="verified", note="test")
    yield TestClient(create_app(w.p.settings, platform=w.p)), w
    w.p.close()


def flags(answer: dict) -> dict[str, dict]:
    return {f["code"]: f for f in answer["flags"]}


def check(client, **body) -> dict:
    r = client.post("/v1/callcheck", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_voip_number_claiming_a_courier_or_a_bank_is_a_danger(api):
    client, w = api
    plain = check(client, caller=VN_VOIP)
    assert plain["outcome"] == "not_courier" and plain["verdict"] == "warning"
    assert flags(plain)["voip_number"] == {"code": "voip_number", "severity": "warning", "kind": "voip"}
    assert check(client, caller=VN_VOIP) == plain  # answered again from memory, the same
    for claimed in ({"claims": "courier"}, {"claims": "bank"}, {"operator": "GHN"}, {"operator": "Vietcombank"},
                    {"operator": "Giao Hàng Mẫu"}, {"transcript": "Em là shipper, đơn hàng của chị đang giao"}):
        got = check(client, caller=VN_VOIP, **claimed)
        assert flags(got)["voip_number"]["severity"] == "danger" and got["verdict"] == "danger", claimed
        assert got["claims"] in (["courier"], ["bank"])
    unclear = check(client, caller=VN_VOIP, operator="EVN")
    assert flags(unclear)["voip_number"]["severity"] == "warning" and "claims" not in unclear
    foreign = check(client, caller=UK_VOIP)
    assert [f["code"] for f in foreign["flags"]] == ["foreign_number", "voip_number"] and foreign["verdict"] == "danger"
    personal = check(client, caller="+44 70 1234 5678", claims="bank")
    assert flags(personal)["voip_number"] == {"code": "voip_number", "severity": "danger", "kind": "personal_number"}
    for not_voip in ("0868 000 123", "024 3822 1234", "1900 1234", "069 123 456"):
        assert "voip_number" not in flags(check(client, caller=not_voip, claims="courier")), not_voip
    assert "voip_number" not in flags(check(client, caller=COURIER_PHONE, claims="courier"))
    r = client.post("/v1/callcheck/report", json={"number": UK_VOIP, "operator": "GHN"})
    assert r.status_code == 201 and r.json()["verdict"] == "not_courier"  # and it can be reported


def test_the_transcript_is_read_and_never_kept(api, capfd):
    client, w = api
    transcript = (f"Alo {MARKER} đây, em là shipper bên Bưu điện Mẫu. Đơn của chị bị giữ, chị đọc mã OTP vừa gửi "
                  "cho em, rồi cài AnyDesk để em hỗ trợ, gấp nhé không đơn sẽ bị hủy.")
    got = check(client, caller=STRANGER, transcript=transcript)
    assert got["verdict"] == "danger" and got["claims"] == ["courier"]
    assert {"otp", "app", "said_remote_app", "said_threat", "said_urgency"} <= set(flags(got))
    assert flags(got)["otp"]["severity"] == flags(got)["said_remote_app"]["severity"] == "danger"
    assert flags(got)["said_urgency"]["severity"] == "warning" and flags(got)["said_urgency"]["text_vi"]
    assert got["transcript"] == {"asked": ["otp", "app"], "claims": ["courier"], "payees": [], "amount_vnd": None}
    proof = api_proof(client, w)
    proven = check(client, caller=COURIER_PHONE, proof=proof, transcript=transcript + " Chuyển khoản phí lưu kho "
                   f"30.000đ vào stk {OTHER_ACCOUNT}")
    assert proven["outcome"] == "verified" and proven["verdict"] == "danger"
    assert {"fee", "unregistered_payee", "amount_differs"} <= set(flags(proven))
    assert MARKER not in json.dumps(got) + json.dumps(proven) and "0123456789" not in json.dumps(proven)
    with w.p.db.read_session() as s:  # no row of any table holds it (the proven check was logged)
        assert s.execute(select(AuditEntry.idx).where(AuditEntry.action == "call_check")).first() is not None
        for table in metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                assert MARKER not in repr(tuple(row)) and "0123456789" not in repr(tuple(row)), table.name
    out = capfd.readouterr()
    assert MARKER not in out.out + out.err


def test_the_cod_rule_for_the_account_a_caller_asks_to_be_paid_into(api):
    client, w = api
    registered = check(client, caller=STRANGER, payee=REGISTERED_COD)
    assert flags(registered)["registered_cod_account"] == {
        **flags(registered)["registered_cod_account"], "severity": "info", "payee": "MB ******0001",
        "operator": "Bưu điện Mẫu"}
    unproven = flags(check(client, caller=STRANGER, payee=OTHER_ACCOUNT))["unregistered_payee"]
    assert unproven["severity"] == "warning" and unproven["parcels_in_delivery"] is None
    assert unproven["payee"] == "MB ******6789" and "Xác nhận số của bạn" in unproven["text_vi"]
    proof = api_proof(client, w)  # the recipient has a parcel out for delivery
    for body in ({"payee": OTHER_ACCOUNT}, {"transcript": f"Chị chuyển tiền thu hộ vào tài khoản {OTHER_ACCOUNT} nhé"},
                 {"payee": "MoMo 0987 654 321", "transcript": f"hoặc chuyển khoản vào stk {OTHER_ACCOUNT}"}):
        got = check(client, caller=STRANGER, proof=proof, **body)
        danger = [f for f in got["flags"] if f["code"] == "unregistered_payee"]
        assert danger and all(f["severity"] == "danger" and f["parcels_in_delivery"] == 1
                              and f["operators"] == ["Bưu điện Mẫu"] for f in danger), body
        assert got["verdict"] == "danger"
    assert len(flags(got)) and [f["payee"] for f in got["flags"] if f["code"] == "unregistered_payee"] \
        == ["MoMo *******321", "MB ******6789"]
    with w.p.db.read_session() as s:  # the parcel was found through the door, logged
        assert any("payment_check" in e for e in s.execute(select(AuditEntry.entry)).scalars())
    courier = check(client, caller=COURIER_PHONE, proof=proof, payee=REGISTERED_COD)
    assert courier["outcome"] == "verified" and courier["verdict"] == "ok"
    assert flags(courier)["registered_cod_account"]["severity"] == "info"
    stranger_proof = api_proof(client, w, phone="+84987111222")  # proven, nothing in delivery to it
    nothing = flags(check(client, caller=STRANGER, proof=stranger_proof, payee=OTHER_ACCOUNT))["unregistered_payee"]
    assert nothing["severity"] == "warning" and nothing["parcels_in_delivery"] == 0


@pytest.mark.parametrize("body,field,code", [
    ({"transcript": "ữ" * (MAX_TRANSCRIPT_BYTES // 3 + 1)}, "transcript", "too_long"),  # under 4096 characters
    ({"transcript": "a" * (MAX_TRANSCRIPT_BYTES + 1)}, "transcript", None),
    ({"transcript": 42}, "transcript", None),
    ({"transcript": {"text": "x"}}, "transcript", None),
    ({"claims": "police"}, "claims", None),
    ({"claims": ["courier"]}, "claims", None),
    ({"payee": "https://example.com/pay"}, "payee", None),
    ({"payee": "0987654321"}, "payee", None),
    ({"operator": "x" * 65}, "operator", None),
    ({"operator": "GHN\u0000"}, "operator", None),
])
def test_bad_claims_payees_and_transcripts_are_422_naming_the_field(api, body, field, code):
    client, _ = api
    got = assert_problem(client.post("/v1/callcheck", json={"caller": STRANGER, **body}), 422, "invalid-input")
    assert [e["field"] for e in got["errors"]] == [field]
    assert code is None or got["errors"][0]["code"] == code
    assert "ữữ" not in json.dumps(got) and "0987654321" not in json.dumps(got)


def test_a_transcript_of_the_largest_size_fits_the_body_even_escaped(api):
    client, _ = api
    text = "Em là shipper, " + "ữ" * ((MAX_TRANSCRIPT_BYTES - 16) // 3)
    assert len(text.encode()) <= MAX_TRANSCRIPT_BYTES
    body = json.dumps({"caller": STRANGER, "transcript": text}, ensure_ascii=True).encode()  # \u1ec3: six bytes
    assert len(body) > 8192
    r = client.post("/v1/callcheck", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["claims"] == ["courier"]
    raw = b'{"caller": "0933444555", "transcript": "\\ud800 lone"}'  # a lone surrogate in JSON
    r = client.post("/v1/callcheck", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 422, "invalid-input")  # the JSON reader refuses it: never a 500


def test_the_citizen_page_shows_the_voip_flag_and_reads_the_transcript(api):
    client, w = api
    csrf = page_csrf(client)
    r = client.post("/kiem-tra-cuoc-goi", data={"caller": VN_VOIP, "csrf": csrf, "claims": "courier"})
    assert r.status_code == 200 and 'data-verdict="danger"' in r.text and 'id="cc-danger"' in r.text
    assert 'data-flag="voip_number"' in r.text and "Đây là số điện thoại Internet (VoIP)" in r.text
    assert '<option value="courier" selected>' in r.text
    said = "Em là shipper, anh cài AnyDesk giúp em rồi chuyển khoản vào stk MB 0123456789"
    r = client.post("/kiem-tra-cuoc-goi", data={"caller": STRANGER, "csrf": csrf, "transcript": said,
                                                "payee": REGISTERED_COD})
    assert 'data-flag="said_remote_app"' in r.text and "Bảo cài ứng dụng điều khiển từ xa" in r.text
    assert 'data-flag="unregistered_payee"' in r.text and "MB ******6789" in r.text
    assert re.search(r'<li class="ok" data-flag="registered_cod_account">MB \*+0001 là tài khoản thu hộ', r.text)
    assert 'data-verdict="danger"' in r.text
    r = client.post("/kiem-tra-cuoc-goi/otp", data={"caller": COURIER_PHONE, "phone": w.recipient, "csrf": csrf,
                                                    "transcript": said, "payee": REGISTERED_COD, "claims": "courier"})
    otp_form = r.text[r.text.index('id="cc-otp"'):]  # the code form carries what was entered
    assert f'<textarea name="transcript" hidden>{said}</textarea>' in otp_form
    assert f'name="payee" value="{REGISTERED_COD}"' in otp_form and 'name="claims" value="courier"' in otp_form
    too_long = client.post("/kiem-tra-cuoc-goi", data={"caller": STRANGER, "csrf": csrf, "transcript": "ữ" * 2000})
    assert too_long.status_code == 422 and "nội dung cuộc gọi" in too_long.text
    en = client.post("/kiem-tra-cuoc-goi?lang=en", data={"caller": UK_VOIP, "csrf": csrf})
    assert "This is a VoIP (internet phone) number" in en.text and "A foreign number" in en.text
