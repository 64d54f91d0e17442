"""A small synthetic world for caller-identification tests: two operators, couriers with verified
numbers, parcels out for delivery (shared by the integration, API, CLI and browser tests).
``prebuilt_world`` gives a test its own copy of one built once per process and backend."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, fields
from datetime import timedelta

from postguard.db.base import utcnow
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.synthetic import Faker
from tests.conftest import FAKER_SEED, csv_bytes

PASSWORD = "mật khẩu đủ dài 123"
COURIER_PHONE = "+84912000111"  # synthetic numbers
OTHER_COURIER_PHONE = "+84912000222"
RIVAL_COURIER_PHONE = "+84983000333"
PROXY = "+842838001001"


@dataclass
class World:
    p: Platform
    system: object
    people: dict
    rows: list
    recipient: str = ""
    waybill: str = ""
    extra: dict = field(default_factory=dict)


def register(p: Platform, org: str, username: str, phone: str) -> None:
    added = p.couriers.add_phone(org_code=org, username=username, phone=phone)
    p.couriers.verify_phone(org_code=org, username=username, phone=phone,
                            code=p.notifier.last_code(normalize_phone(phone)), challenge=added["challenge"])


def window(hours_from: float = -1, hours_to: float = 2) -> dict:
    now = utcnow()
    return {"window_start": now + timedelta(hours=hours_from), "window_end": now + timedelta(hours=hours_to)}


def build(p: Platform, faker, *, shipments: int = 4) -> World:
    p.orgs.create(code="VNP", name="Bưu điện Mẫu", hotline="1900 1234")
    p.orgs.create(code="GHX", name="Giao Hàng Mẫu", hotline="1900 5678")
    system = p.orgs.principal("VNP", actor="test")
    people = {}
    for org, u, r, name in [("VNP", "hub", "hub", "Trần Văn Hải"), ("VNP", "an", "courier", "Nguyễn Văn An"),
                            ("VNP", "binh", "courier", "Lê Thị Bình"), ("GHX", "cuong", "courier", "Phạm Cường")]:
        people[u] = p.staff.create(org_code=org, username=u, display_name=name, role=r, password=PASSWORD)
    register(p, "VNP", "an", COURIER_PHONE)
    register(p, "VNP", "binh", OTHER_COURIER_PHONE)
    register(p, "GHX", "cuong", RIVAL_COURIER_PHONE)
    rows = list(faker.rows(shipments, prefix="CK"))
    rows[0]["cod_amount_vnd"] = "350000"
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    w = rows[0]["waybill"]
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(system, w, status)
    p.access.assign(people["hub"], waybill=w, courier="an", **window())
    return World(p, system, people, rows, recipient=normalize_phone(rows[0]["recipient_phone"]), waybill=w)


def _build_once(settings) -> dict:
    p, f = Platform(settings), Faker(FAKER_SEED)
    try:
        w = build(p, f)
    finally:
        p.close()
    return {"world": {x.name: getattr(w, x.name) for x in fields(World) if x.name != "p"}, "random": f.r.getstate()}


def prebuilt_world(prebuilt, faker: Faker, **settings) -> World:
    """A private copy of ``build``'s world, built once per process and backend on a platform with
    ``settings`` (the ``prebuilt`` fixture of tests/conftest.py), with a platform started on the copy
    (the caller closes it); the test's ``faker`` goes on from where the build left it."""
    own, state = prebuilt("callerid", _build_once, **settings)
    faker.r.setstate(state["random"])
    return World(Platform(own), **state["world"])
