"""The senders routes through the API: e-wallet payees and the COD rule in transfer screening, the
citizen's message and COD checks with and without proof, and hostile bodies answered 4xx."""

import pytest
from fastapi.testclient import TestClient

from postguard.app import create_app
from postguard.intel.seed import seed_official
from postguard.senders.seed import example_values, seed_senders
from postguard.senders.text import render


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
