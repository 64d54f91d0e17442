"""The senders routes through the API: e-wallet payees and the COD rule in transfer screening, the
citizen's message and COD checks with and without proof, and hostile bodies answered 4xx."""

import orjson
import pytest
from fastapi.testclient import TestClient

from postguard.app import create_app
from postguard.intel.seed import seed_official
from postguard.senders.seed import example_values, seed_senders
from postguard.senders.text import render
from tests.api.test_api import assert_problem


@pytest.fixture
def client(settings, platform):
    seed_official(platform.intel, platform.orgs)
    seed_senders(platform.senders, platform.intel)
    return TestClient(create_app(settings, platform=platform))


def _key(platform, org, *scopes):
    return {"Authorization": f"Bearer {platform.orgs.create_api_key(org_code=org, scopes=list(scopes)).token}"}


def test_screening_takes_wallets_and_applies_the_cod_rule(client, platform):
    h = _key(platform, "VNPOST", "screen:transfer")
    payer = {"ip": "14.160.0.1", "account_type": "personal", "new_payee": False}
    unregistered = {"payee": {"wallet": "ZaloPay", "account": "0912 345 678"}, "amount": 30_000, "payer": payer,
                    "purpose": "fee"}
    r = client.post("/v1/screen/transfer", json=unregistered, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["risk"] == "medium" and [x["code"] for x in r.json()["reasons"]] == ["unregistered_cod_payee"]
    registered = {**unregistered, "payee": {"wallet": "MoMo", "account": "0999000002"}, "purpose": "cod"}
    assert client.post("/v1/screen/transfer", json=registered, headers=h).json()["reasons"] == []
    for wallet in ("MoMo", "ZaloPay", "ViettelMoney", "VNPT Money", "ShopeePay"):
        body = {**unregistered, "payee": {"wallet": wallet, "account": "0912345678"}, "purpose": None}
        assert client.post("/v1/screen/transfer", json=body, headers=h).json()["risk"] == "low"
    for payee, field in (({"wallet": "PiggyBank", "account": "0912345678"}, "payee.wallet"),
                         ({"wallet": "MoMo", "bank": "VCB", "account": "0912345678"}, "payee"),
                         ({"account": "0912345678"}, "payee")):
        r = client.post("/v1/screen/transfer", json={**unregistered, "payee": payee}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text


def test_message_and_cod_checks_for_citizens(client, platform):
    t = platform.senders.template_list(org_code="VIETTELPOST", status="verified")[0]
    message = render(t["text"], {k: v for k, v in example_values("VIETTELPOST").items() if "{" + k + "}" in t["text"]})
    r = client.post("/v1/senders/match", json={"text": message})
    assert r.status_code == 200 and r.json()["outcome"] == "template" and r.json()["text"]["vi"]
    proof = platform.otp.issue_proof(purpose="recipient", phone="+84912345678")
    assert client.post("/v1/senders/match", json={"text": message, "proof": proof}).json()["outcome"] == "not_sent"
    assert client.post("/v1/senders/match", json={"text": message, "proof": "forged"}).status_code == 401
    r = client.post("/v1/senders/cod-check", json={"account": "MB 0123456789", "purpose": "refund", "proof": proof})
    assert r.status_code == 200 and r.json()["level"] == "warning" and r.json()["parcels_in_delivery"] == 0
    for body in ({"text": "x" * 5000}, {"text": {"a": [1]}}, {"text": "hi", "extra": 1}, {"account": "MB 1", "purpose": "gift"}):
        path = "/v1/senders/match" if "text" in body else "/v1/senders/cod-check"
        assert client.post(path, json=body).status_code == 422
    assert client.post("/v1/senders/match", content=b"\xff\xfe{", headers={"content-type": "application/json"}
                       ).status_code in (400, 422)


# -- "did my operator really send this?" through /v1/check, with a proof made by the one-time-code flow --
VTP_VALUES = {"time": "10:42", "amount": "350.000đ", "link": "https://viettelpost.com.vn/tra-cuu"}
MY_NUMBER, OTHER_NUMBER = "0930000123", "0930000456"


@pytest.fixture
def env(make_settings):
    from postguard.platform import Platform

    p = Platform(make_settings(notifier="memory", intel_check_rate="1000/minute"))
    seed_official(p.intel, p.orgs)
    seed_senders(p.senders, p.intel)
    yield TestClient(create_app(p.settings, platform=p)), p
    p.close()


def _prove(client, p, number: str) -> str:
    """A proof of ``number``, as the person gets it: a code by SMS, then ``/v1/me/verify``."""
    sent = client.post("/v1/me/code", json={"phone": number})
    assert sent.status_code == 202, sent.text
    e164 = "+84" + number[1:]
    r = client.post("/v1/me/verify", json={"phone": number, "code": p.otp.notifier.last_code(e164),
                                           "challenge": sent.json()["challenge"]})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # the body's proof alone speaks for the person
    return r.json()["token"]


def test_a_pasted_message_is_answered_sent_or_not_sent_for_the_proven_number(env):
    from datetime import datetime, timedelta, timezone

    client, p = env
    t = p.senders.template_list(org_code="VIETTELPOST", status="verified")[0]
    vn = timezone(timedelta(hours=7))
    day = (datetime.now(vn) - timedelta(days=1)).date()
    key = _key(p, "VIETTELPOST", "notifications:write")
    r = client.post("/v1/notifications", headers=key, json={"items": [{
        "template_id": t["id"], "phone": MY_NUMBER, "waybill": "VTP123456789", "sent_at": f"{day}T10:42:00+07:00",
        "values": VTP_VALUES}]})
    assert r.status_code == 200 and r.json()["recorded"] == 1, r.text
    message = render(t["text"], {**VTP_VALUES, "waybill": "VTP123456789"})
    mine = _prove(client, p, MY_NUMBER)

    r = client.post("/v1/check", json={"value": message, "proof": mine})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "message" and body["label"] == "legit"
    op = body["operator"]
    assert op["outcome"] == "sent" and op["org"] == "VIETTELPOST" and op["template_id"] == t["id"]
    assert datetime.fromisoformat(op["sent_at"]).astimezone(vn).strftime("%H:%M") == "10:42"
    assert op["text_vi"].startswith("Viettel Post đã gửi tin này lúc 10:42")
    assert op["text_en"].startswith("Viettel Post sent this at 10:42") and "for a parcel to your number" in op["text_en"]
    assert "operator_sent" in {x["code"] for x in body["reasons"]}
    # pasted as a phone shows it (other line breaks and case): still the message that was sent
    r = client.post("/v1/check", json={"value": message.upper().replace(" ", "\n", 2), "proof": mine, "type": "message"})
    assert r.json()["operator"]["outcome"] == "sent"
    # another parcel's message, or the same message to another proven number: the operator sent no such thing
    other = render(t["text"], {**VTP_VALUES, "waybill": "VTP999999999"})
    for value, proof in ((other, mine), (message, _prove(client, p, OTHER_NUMBER))):
        body = client.post("/v1/check", json={"value": value, "proof": proof}).json()
        assert body["operator"]["outcome"] == "not_sent" and body["operator"]["sent_at"] is None
        assert body["label"] in ("suspicious", "scam"), body["reasons"]  # the template's own cues do not save it
        assert body["operator"]["text_en"] == "Viettel Post sent no such message to your number. It may be a scam."
        assert "operator_not_sent" in {x["code"] for x in body["reasons"]}
    # the call check's proof is a proof of the number too; without a proof, whether it was sent is not said
    parcel = p.otp.issue_proof(purpose="parcel", phone="+84930000123")
    assert client.post("/v1/check", json={"value": message, "proof": parcel}).json()["operator"]["outcome"] == "sent"
    assert client.post("/v1/check", json={"value": message}).json()["operator"]["outcome"] == "template"
    # a forged, expired or foreign proof is refused, as /v1/senders/match refuses it
    expired = p.otp.issue_proof(purpose="recipient", phone="+84930000123", ttl=-1)
    for bad in ("forged", mine[:-4] + "AAAA", expired, p.otp.issue_proof(purpose="courier", phone="+84930000123")):
        assert_problem(client.post("/v1/check", json={"value": message, "proof": bad}), 401, "unauthenticated")
        assert client.post("/v1/senders/match", json={"text": message, "proof": bad}).status_code == 401
    # a proof or sender goes with a message only, and is checked like any field
    for body, field in (({"value": "0912345678", "type": "phone", "proof": mine}, "proof"),
                        ({"value": message, "sender": {"a": [1]}}, "sender"), ({"value": message, "proof": 7}, "proof"),
                        ({"value": message, "sender": "x" * 101}, "sender"), ({"value": message, "proof": "p" * 1001}, "proof"),
                        ({"value": message, "senders": "VTP"}, "senders")):
        errors = assert_problem(client.post("/v1/check", json=body), 422, "invalid-input")["errors"]
        assert [e["field"] for e in errors] == [field], errors
    # nothing of the message or the number is kept: a proof-carrying body is never served from memory
    assert not p.intel.checks.is_kept(orjson.dumps({"value": message, "proof": mine}))


def test_a_message_from_an_operators_registered_sender_is_judged_against_its_templates(env):
    client, p = env
    t = p.senders.template_list(org_code="VIETTELPOST", status="verified")[0]
    genuine = render(t["text"], {**VTP_VALUES, "waybill": "VTP123456789"})

    def check(value, sender=None):
        r = client.post("/v1/check", json={"value": value, **({"sender": sender} if sender is not None else {})})
        assert r.status_code == 200, r.text
        return r.json()

    # the operator's own brandname (or hotline) and its wording: a genuine cue
    for sender in ("ViettelPost", " viettelpost ", "1900 8095"):
        op = check(genuine, sender)["operator"]
        assert (op["outcome"], op["org"]) == ("template", "VIETTELPOST") and "registered_sender" in op["reasons"], op
    # the operator's brandname, but none of its wordings (a fake base station sends as any brandname)
    fake = "Don hang cua ban bi giu tai kho. Vui long xac nhan lai dia chi tai http://vtp-giaohang.top truoc 17h."
    body = check(fake, "ViettelPost")
    assert body["operator"]["outcome"] == "suspicious" and body["operator"]["reasons"] == ["sender_no_template"]
    assert body["label"] in ("suspicious", "scam")
    reason = next(x for x in body["reasons"] if x["code"] == "operator_suspicious")
    assert "ViettelPost" in reason["text_en"] and "Viettel Post" in reason["text_vi"] and reason["weight"] > 0
    assert "operator" not in check(fake)  # without the sender, the text names no operator
    # another operator's brandname on Viettel Post's wording: judged against that operator's templates alone
    op = check(genuine, "VNPost")["operator"]
    assert (op["outcome"], op["org"], op["reasons"]) == ("suspicious", "VNPOST", ["sender_no_template"])
    # a sender nobody registered changes nothing; a display name that names an operator claims it
    op = check(genuine, "0930000999")["operator"]
    assert op["outcome"] == "template" and "registered_sender" not in op["reasons"]
    op = check(fake, "Viettel Post")["operator"]
    assert (op["outcome"], op["reasons"]) == ("suspicious", ["claims_operator_no_template"])
    # an operator with a registered hotline but no template: its messages cannot be judged by wording
    assert "operator" not in check("Cam on quy khach da su dung dich vu, chuc quy khach mot ngay tot lanh.", "1800 8098")
    # hostile senders: answered, never a 500
    for sender in ("\u202e" * 50, "zalo.me/" + "9" * 80, "\x00\x01", "ViettelPost\u200b", "{waybill}"):
        assert check(genuine, sender)["type"] == "message"


def test_templates_are_verified_and_revoked_over_http(env):
    from sqlalchemy import select

    from postguard.audit.models import AuditEntry

    client, p = env
    admin, own = _key(p, "VNPOST", "intel:admin"), _key(p, "VIETTELPOST", "intel:official")
    stranger = _key(p, "VNPOST", "intel:official")
    wording = "ViettelPost: Buu pham {waybill} da den buu cuc Cau Giay, vui long den nhan truoc {date}."
    t = client.post("/v1/senders/templates", headers=own, json={"text": wording}).json()
    url = f"/v1/senders/templates/{t['id']}/status"
    message = render(wording, {"waybill": "VTP123456789", "date": "06/12/2025"})

    def status(headers, value, path=url):
        return client.post(path, headers=headers, json={"status": value})

    assert_problem(client.post(url, json={"status": "verified"}), 401)
    assert_problem(status(_key(p, "VIETTELPOST", "notifications:write"), "revoked"), 403, "forbidden")
    assert_problem(status(own, "verified"), 403, "forbidden")  # an operator does not verify its own wording
    assert_problem(status(stranger, "revoked"), 403, "forbidden")  # nor revoke another's
    assert p.senders.match_message(message).outcome == "suspicious"  # still pending
    r = status(admin, "verified")
    assert r.status_code == 200 and r.json()["status"] == "verified" and r.json()["verified_at"]
    assert p.senders.match_message(message).outcome == "template"  # this worker sees it at once
    assert t["id"] in [x["id"] for x in client.get("/v1/senders/templates?org=VIETTELPOST").json()]
    assert_problem(status(admin, "verified"), 409, "conflict")
    r = status(own, "revoked")  # the owner withdraws its wording
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert p.senders.match_message(message).outcome == "suspicious"
    assert t["id"] not in [x["id"] for x in client.get("/v1/senders/templates?org=VIETTELPOST").json()]
    # revoked is final: the wording is registered again to come back
    assert "register its wording again" in assert_problem(status(admin, "verified"), 409, "conflict")["detail"]
    assert_problem(status(own, "revoked"), 409, "conflict")
    with p.db.read_session() as s:  # audited like the command line's changes: who, what, from and to
        log = [(e.action, orjson.loads(e.entry).get("details")) for e in s.execute(select(AuditEntry).where(
            AuditEntry.subject == f"template:{t['id']}").order_by(AuditEntry.idx)).scalars()]
    assert [(a, d) for a, d in log if a.startswith("senders_template_")] == [
        ("senders_template_add", {}), ("senders_template_verified", {"from": "pending", "to": "verified"}),
        ("senders_template_revoked", {"from": "verified", "to": "revoked"})]
    assert sum(a == "access_denied" for a, _ in log) == 3  # the refused keys (no key at all is a 401)
    pending = client.post("/v1/senders/templates", headers=own, json={"text": wording}).json()
    assert pending["status"] == "pending"
    assert status(admin, "revoked", f"/v1/senders/templates/{pending['id']}/status").json()["status"] == "revoked"
    assert_problem(status(admin, "verified", "/v1/senders/templates/999999/status"), 404, "not-found")
    assert_problem(status(own, "revoked", "/v1/senders/templates/999999/status"), 404, "not-found")
    for path, body in ((url, {"status": "pending"}), (url, {"status": "verified", "note": "x"}), (url, {}),
                       (url, {"status": ["verified"]}), ("/v1/senders/templates/0/status", {"status": "verified"}),
                       ("/v1/senders/templates/x/status", {"status": "verified"}),
                       (f"/v1/senders/templates/{2**63}/status", {"status": "verified"})):
        assert_problem(client.post(path, headers=admin, json=body), 422, "invalid-input")


def test_the_check_page_takes_the_sender_and_proves_the_number_with_a_code(env):
    import re

    client, p = env
    t = p.senders.template_list(org_code="VIETTELPOST", status="verified")[0]
    key = _key(p, "VIETTELPOST", "notifications:write")
    from postguard.db.base import utcnow

    assert client.post("/v1/notifications", headers=key, json={"items": [{
        "template_id": t["id"], "phone": MY_NUMBER, "waybill": "VTP123456789", "sent_at": utcnow().isoformat(),
        "values": VTP_VALUES}]}).json()["recorded"] == 1
    message = render(t["text"], {**VTP_VALUES, "waybill": "VTP123456789"})

    def field(html: str, name: str) -> str:
        return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)

    page = client.get("/kiem-tra?lang=en")
    assert "Sender (optional)" in page.text and 'name="sender"' in page.text
    page = client.get("/kiem-tra?lang=vi")  # Vietnamese first (the choice sticks)
    token = field(page.text, "form_token")
    r = client.post("/kiem-tra", data={"value": message, "sender": "ViettelPost", "form_token": token})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert 'data-operator="template"' in r.text and 'data-prove="phone"' in r.text
    assert field(r.text, "sender") == "ViettelPost"  # the sender field keeps what was typed
    # a registered brandname with none of its wordings is a red flag on the page too
    r = client.post("/kiem-tra", data={"value": "Tai khoan giao hang cua ban bi khoa, lien he ngay de mo lai.",
                                       "sender": "ViettelPost", "form_token": token})
    assert 'data-operator="suspicious"' in r.text and 'data-reason="operator_suspicious"' in r.text

    assert client.post("/kiem-tra/ma", data={"phone": MY_NUMBER, "value": message, "form_token": "forged"}
                       ).status_code == 403
    r = client.post("/kiem-tra/ma", data={"phone": "12", "value": message, "form_token": token})
    assert r.status_code == 422 and "Số điện thoại không hợp lệ" in r.text
    r = client.post("/kiem-tra/ma", data={"phone": MY_NUMBER, "value": message, "sender": "ViettelPost",
                                          "form_token": token})
    assert r.status_code == 200 and 'data-prove="code"' in r.text
    assert field(r.text, "value") == message.replace("&", "&amp;")  # the message travels on; it is not stored
    code = p.otp.notifier.last_code("+84930000123")
    form = {"phone": MY_NUMBER, "value": message, "sender": "ViettelPost", "challenge": field(r.text, "challenge"),
            "form_token": token}
    wrong = client.post("/kiem-tra/xac-minh", data={**form, "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 401 and "pg_me" not in wrong.headers.get("set-cookie", "")
    r = client.post("/kiem-tra/xac-minh", data={**form, "code": code})
    assert r.status_code == 200 and "pg_me=" in r.headers["set-cookie"]
    assert 'data-operator="sent"' in r.text and "Viettel Post đã gửi tin này lúc" in r.text
    assert "*******123" in r.text and MY_NUMBER not in r.text and 'data-prove="' not in r.text
    # the proof stays for the next message (and opens the own-data page: it is the same proof)
    other = render(t["text"], {**VTP_VALUES, "waybill": "VTP999999999"})
    r = client.post("/kiem-tra", data={"value": other, "form_token": token})
    assert 'data-operator="not_sent"' in r.text and "Viettel Post sent no such message" in r.text
    assert 'data-prove="phone"' not in r.text
    assert "data-proven" in r.text
    assert client.get("/v1/me/shipments").status_code == 200
    client.cookies.set("pg_me", "expired-or-forged")
    r = client.post("/kiem-tra", data={"value": other, "form_token": token})
    assert r.status_code == 200 and 'data-operator="template"' in r.text and "hết hạn" in r.text
