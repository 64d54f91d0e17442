"""Takedown requests over HTTP: create, list, get, download the pack, send, answers; wrong and hostile
input answered with problem+json naming the field."""

import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.intel.models import Indicator
from postguard.intel.service import Upload
from postguard.platform import Platform
from tests.api.test_api import assert_problem

PNG = b"\x89PNG\r\n\x1a\n" + b"synthetic screenshot" * 8


@pytest.fixture
def tp(make_settings, tmp_path):
    p = Platform(make_settings(intel_report_rate="100/hour", takedown_outbox_dir=tmp_path / "outbox"))
    yield p
    p.close()


@pytest.fixture
def client(tp):
    return TestClient(create_app(tp.settings, platform=tp))


@pytest.fixture
def analyst(tp, org):
    return {"Authorization": f"Bearer {tp.orgs.create_api_key(org_code=org.code, scopes=['intel:analyst']).token}"}


def confirmed(tp, value: str) -> int:
    tp.intel.report(indicators=[value], category="fake_courier", evidence=[Upload(PNG, None)],
                    contact="synthetic@example.org", client="198.51.100.9")
    with tp.db.read_session() as s:
        ind = s.execute(select(Indicator.id).where(Indicator.value == value)).scalar_one()
    tp.intel.decide(tp.intel.cli_principal(), ind, action="confirm")
    return ind


def test_the_whole_round(client, tp, analyst, tmp_path):
    ind = confirmed(tp, "buu-dien-hoan-tien.com")
    r = client.post("/v1/takedowns", headers=analyst, json={
        "indicator": ind, "reason": "Trang yêu cầu nhập OTP.", "hosting": {"email": "abuse@hosting.example"}})
    assert r.status_code == 201, r.text
    hosting = next(x for x in r.json()["requests"] if x["recipient"]["kind"] == "hosting")
    ref = hosting["ref"]
    assert client.get("/v1/takedowns", headers=analyst, params={"status": "draft"}).json()["items"]
    got = client.get(f"/v1/takedowns/{ref}", headers=analyst).json()
    assert got["status"] == "draft" and got["history"][0]["to"] == "draft"
    pack = client.get(f"/v1/takedowns/{ref}/pack", headers=analyst)
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    assert f'filename="takedown-{ref}.zip"' in pack.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    assert "manifest.json" in names and "letter.txt" in names and any(n.startswith("evidence/") for n in names)
    sent = client.post(f"/v1/takedowns/{ref}/send", headers=analyst)
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert_problem(client.post(f"/v1/takedowns/{ref}/send", headers=analyst), 409, "conflict")
    assert_problem(client.post(f"/v1/takedowns/{ref}/status", headers=analyst, json={"status": "sent"}), 409)
    ok = client.post(f"/v1/takedowns/{ref}/status", headers=analyst, json={"status": "removed", "note": "gone"})
    assert ok.status_code == 200 and ok.json()["status"] == "removed"
    registrar = next(x for x in r.json()["requests"] if x["recipient"]["kind"] == "registrar")
    body = assert_problem(client.post(f"/v1/takedowns/{registrar['ref']}/send", headers=analyst), 409)
    assert "needs a contact" in body["detail"]


def test_wrong_and_hostile_input_is_a_clear_4xx(client, tp, analyst, org):
    ind = confirmed(tp, "sai-dau-vao.com")
    tp.intel.report(indicators=["0912 345 678"], category="fake_courier", client="198.51.100.10")

    def field_of(resp, status=422) -> str:
        return assert_problem(resp, status)["errors"][0]["field"]

    assert "note" in field_of(client.post("/v1/takedowns/TD-X/status", headers=analyst,
                                          json={"status": "sent", "note": "x" * 5000}))
    assert field_of(client.post("/v1/takedowns", headers=analyst, json={"site": "not a host!"})) == "site"
    assert field_of(client.post("/v1/takedowns", headers=analyst, json={"site": "0912 345 678"})) == "site"
    assert field_of(client.post("/v1/takedowns", headers=analyst, json={})) == "indicator"
    assert "reason" in field_of(client.post("/v1/takedowns", headers=analyst, json={"indicator": ind, "reason": "r" * 3000}))
    assert field_of(client.post("/v1/takedowns", headers=analyst, json={
        "indicator": ind, "hosting": {"email": "a@b.example\nBcc: c@d.example"}})) == "hosting.email"
    assert "include_reports" in field_of(client.post("/v1/takedowns", headers=analyst, json={
        "indicator": ind, "include_reports": ["R"] * 50}))
    assert_problem(client.post("/v1/takedowns", headers=analyst, json={"indicator": 2**63}), 422)
    assert_problem(client.get("/v1/takedowns/" + "T" * 200, headers=analyst), 422)
    assert_problem(client.get("/v1/takedowns/TD-NOPE", headers=analyst), 404, "not-found")
    assert field_of(client.get("/v1/takedowns", headers=analyst, params={"status": "gone"})) == "status"
    assert_problem(client.post("/v1/takedowns", headers={**analyst, "Content-Type": "application/json"},
                               content=b"[" * 5000), 422)
    reader = {"Authorization": f"Bearer {tp.orgs.create_api_key(org_code=org.code, scopes=['intel:read']).token}"}
    assert_problem(client.get("/v1/takedowns", headers=reader), 403, "forbidden")
    assert json.loads(client.get("/v1/takedowns", headers=analyst).text)["items"] == []
