"""Personal data escaping through names: digits typed into a name, names run together, and
bidirectional controls (U+202E) that reorder what staff pages show."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from postguard.access.models import Staff
from postguard.app import create_app
from postguard.callerid.check import given_name
from postguard.db import migrate
from postguard.db.base import utcnow
from postguard.errors import InvalidInput
from postguard.shipments.models import Shipment
from tests.api.test_api import assert_problem
from tests.api.test_courier_web import HTML, login
from tests.world import ORG, build_world, prebuilt_world

RLO = "\u202e"


@pytest.fixture
def env(prebuilt, faker):
    w = prebuilt_world(prebuilt, build_world, faker=faker, password_time_cost=1, password_memory_kib=1024)
    yield TestClient(create_app(w.platform.settings, platform=w.platform)), w
    w.platform.close()


def _auth(w, scope):
    return {"Authorization": f"Bearer {w.keys[scope]}"}


def test_names_with_digits_are_refused_and_never_masked_with_them(env, faker):
    client, w = env
    row = faker.shipment_row("NAMES0001")
    for bad in ("Trần Thị Thu Hằng 0912345678", "Lê Văn Tám ０９１２ ３４５ ６７８", f"Nguyễn Văn {RLO}An"):
        body = assert_problem(client.post("/v1/shipments", json={**row, "recipient_name": bad},
                                          headers=_auth(w, "shipments:write")), 422)
        assert [e["field"] for e in body["errors"]] == ["recipient_name"]
        assert "0912" not in str(body) and RLO not in str(body)
    made = client.post("/v1/shipments", json={**row, "recipient_name": "NguyễnVănAn"},
                       headers=_auth(w, "shipments:write"))
    assert made.status_code == 201, made.text
    got = client.get("/v1/shipments/NAMES0001", headers=_auth(w, "shipments:read")).json()
    assert got["recipient"]["name"] == "N.V. An"


@pytest.mark.both_databases
def test_masks_stored_by_an_earlier_version_are_masked_again(env):
    """Masks stored before the check kept the phone typed after the name, and whole names run
    together; the 0011 migration narrows them, on both databases."""
    client, w = env
    p = w.platform
    a, b = w.rows[0]["waybill"], w.rows[1]["waybill"]
    with p.db.session() as s:  # what the earlier masking stored for such names
        s.execute(update(Shipment).where(Shipment.waybill == a).values(
            recipient_name_masked="T.T.T. 0912345678", sender_name_masked="NguyễnVănAn"))
        s.execute(update(Shipment).where(Shipment.waybill == b).values(recipient_name_masked=f"L. {RLO}gnàH"))
    kept = client.get(f"/v1/shipments/{w.rows[2]['waybill']}", headers=_auth(w, "shipments:read")).json()
    migrate.downgrade(p.db.engine, "0010")
    migrate.upgrade(p.db.engine)
    got = client.get(f"/v1/shipments/{a}", headers=_auth(w, "shipments:read")).json()
    assert got["recipient"]["name"] == "T.T.T." and got["sender"]["name"] == "N.V. An"
    other = client.get(f"/v1/shipments/{b}", headers=_auth(w, "shipments:read")).json()
    assert other["recipient"]["name"] == "L.G. H"  # the override gone, the words split at the capital
    assert client.get(f"/v1/shipments/{w.rows[2]['waybill']}", headers=_auth(w, "shipments:read")).json() == kept


def test_bidi_controls_are_neutralised_on_staff_pages(env, faker):
    client, w = env
    p = w.platform
    # A display name holding a right-to-left override is refused now; one stored before the check is
    # still neutralised on the hub's assign page.
    with pytest.raises(InvalidInput) as refused:
        p.staff.create(org_code=ORG, username="rlo", display_name=f"Shipper {RLO}nahK", role="courier",
                       password="mật khẩu đủ dài 123")
    assert [(e.field, e.code) for e in refused.value.errors] == [("display_name", "encoding")]
    p.staff.create(org_code=ORG, username="rlo", display_name="Shipper Khan", role="courier",
                   password="mật khẩu đủ dài 123")
    with p.db.session() as s:
        s.execute(update(Staff).where(Staff.username == "rlo").values(display_name=f"Shipper {RLO}nahK"))
    assert given_name(f"Shipper {RLO}nahK") == "nahK"  # what the call check tells a citizen
    login(client, w, "hub")
    page = client.get("/staff/assign", headers=HTML)
    assert page.status_code == 200 and "(rlo)" in page.text
    assert RLO not in page.text and "Shipper \ufffdnahK" in page.text
    # An address holding one (addresses are free text), revealed to the assigned courier.
    system = p.orgs.principal(ORG, actor="test")
    row = {**faker.shipment_row("BIDI00001"), "recipient_address": f"Số 12 {RLO}iợL êL gnờưĐ"}
    p.shipments.create(system, row)
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(system, "BIDI00001", status)
    now = utcnow()
    p.access.assign(w.role("hub"), waybill="BIDI00001", courier="an", window_start=now - timedelta(hours=1),
                    window_end=now + timedelta(hours=3))
    csrf = login(client, w, "an")
    shown = client.post("/staff/deliveries/BIDI00001/reveal", data={"csrf": csrf}, headers=HTML)
    assert shown.status_code == 200 and "iợL êL gnờưĐ" in shown.text
    assert RLO not in shown.text and "\ufffdiợL" in shown.text
