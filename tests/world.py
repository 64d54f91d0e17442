"""A small operator for access tests: one member of staff per role (plus a second courier; the analyst
works at the platform organisation, ``ORG_OF``), a system
API key per scope, and three synthetic parcels:

- ``assigned``: assigned to courier ``an``, out for delivery, window open (An may reveal it);
- ``other``: out for delivery but assigned to nobody;
- ``waiting``: assigned to ``an`` but still in transit (not revealable yet).

``add_leaks_and_intel`` adds what the leak-detection and scam-intelligence routes work on (ids in
``World.ids``): a canary parcel and its number, a citizen's report with a contact on a scammer's
phone number (its indicator), an open appeal, a pending official channel and shared indicators for
TAXII and the exports. ``fresh_alert()`` and ``fresh_appeal_body()`` make one new object per call
for routes that consume it.

``add_privacy_and_calls`` (the platform needs ``notifier="memory"``) adds what the data-subject, DPO and
caller-ID routes work on: the recipient of ``assigned`` is the data subject (``subject_phone``) with a
completed access request, a deletion request that shredded their delivered parcel and holds a receipt
(their parcel still travelling waits), and a correction request just received; the recipient of
``other`` has an open access request; an open breach incident; courier An's verified calling
number, a proxy number and a masked call on ``assigned``.
``fresh_code(purpose)``, ``fresh_courier_code()`` and ``fresh_passport()`` make a new one-time code or
call per use.

``prebuilt_world`` gives a test its own copy of a world built once per process and backend.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, fields
from datetime import timedelta
from itertools import count

from sqlalchemy import func, select

from postguard.access.models import ROLES
from postguard.db.base import utcnow
from postguard.intel.models import Indicator
from postguard.intel.service import KEY_ORG
from postguard.orgs.service import SCOPES
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.synthetic import Faker
from tests.conftest import FAKER_SEED, csv_bytes

PASSWORD = "mật khẩu đủ dài 123"
ORG = "VNP"
USERNAMES = {"admin": "admin", "hub": "hub", "courier": "an", "cs": "cs", "auditor": "auditor", "dpo": "dpo",
             "analyst": "phan"}
# Roles that exist only at the platform organisation; every other member of staff works at ``ORG``.
ORG_OF = {"analyst": KEY_ORG}


@dataclass
class World:
    platform: Platform
    rows: list[dict]
    staff: dict = field(default_factory=dict)  # username → StaffPrincipal
    keys: dict = field(default_factory=dict)  # scope → API key token ("none": a key with every other scope)
    ids: dict = field(default_factory=dict)  # path parameters and values of add_leaks_and_intel's objects
    faker: object = None
    _serial: count = field(default_factory=lambda: count(1))

    @property
    def assigned(self) -> dict:
        return self.rows[0]

    @property
    def other(self) -> dict:
        return self.rows[1]

    @property
    def waiting(self) -> dict:
        return self.rows[2]

    def role(self, role: str):
        return self.staff[USERNAMES[role]]

    def fresh_alert(self) -> int:
        """A new open alert of the organisation (raised by the system, so anyone may acknowledge it)."""
        org_id = self.platform.orgs.get(ORG).id
        return self.platform.access_alerts.raise_alert(org_id=org_id, kind="anomaly", severity="low",
                                                reason=f"test anomaly {next(self._serial)}")

    def fresh_appeal_body(self) -> dict:
        """The body of an appeal against a newly reported number (one open appeal per indicator)."""
        phone = self.faker.phone_e164()
        self.platform.intel.report(indicators=[phone], category="fake_courier", client=f"world-{next(self._serial)}")
        return {"value": phone, "statement": "Số này là của tôi, tôi không lừa ai.", "contact": "0987 000 111"}

    @property
    def subject_phone(self) -> str:
        """The data subject of the privacy routes: the recipient of ``assigned`` (E.164)."""
        return normalize_phone(self.assigned["recipient_phone"])

    def fresh_code(self, purpose: str) -> dict:
        """A one-time code just sent for ``purpose`` to a new number: ``{"phone", "code", "challenge"}``."""
        phone = self.faker.phone_e164()
        sent = self.platform.otp.send(purpose=purpose, phone=phone, client=f"world-{next(self._serial)}")
        return {"phone": phone, "code": self.platform.notifier.last_code(phone), "challenge": sent.challenge}

    def fresh_courier_code(self) -> dict:
        """A new number registered (pending) for courier An, the code sent to it and its challenge."""
        phone = self.faker.phone_e164()
        added = self.platform.couriers.add_phone(org_code=ORG, username="an", phone=phone,
                                                 client=f"world-{next(self._serial)}")
        return {"phone": phone, "code": self.platform.notifier.last_code(phone), "challenge": added["challenge"]}

    def fresh_passport(self) -> str:
        """A new call by An on ``assigned`` (a fresh PASSporT; the masked call is the same)."""
        return self.platform.calls.start_call(self.role("courier"), waybill=self.assigned["waybill"])["passport"]


def build_world(p: Platform, faker, *, keys: bool = True, parcels: int = 4) -> World:
    p.orgs.create(code=ORG, name="Bưu điện mẫu")
    system = p.orgs.principal(ORG, actor="test")
    w = World(platform=p, rows=list(faker.rows(parcels)))
    for role in ROLES:
        u = USERNAMES[role]
        w.staff[u] = p.staff.create(org_code=ORG_OF.get(role, ORG), username=u, display_name=f"Nhân viên {u}",
                                    role=role, password=PASSWORD)
    w.staff["binh"] = p.staff.create(org_code=ORG, username="binh", display_name="Shipper Bình", role="courier",
                                     password=PASSWORD)
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(w.rows)))
    for row in (w.assigned, w.other):
        for status in ("picked_up", "in_transit", "out_for_delivery"):
            p.shipments.set_status(system, row["waybill"], status)
    for status in ("picked_up", "in_transit"):
        p.shipments.set_status(system, w.waiting["waybill"], status)
    now = utcnow()
    for row in (w.assigned, w.waiting):
        p.access.assign(w.role("hub"), waybill=row["waybill"], courier="an", window_start=now - timedelta(hours=1),
                        window_end=now + timedelta(hours=3))
    if keys:
        for scope in SCOPES:
            w.keys[scope] = p.orgs.create_api_key(org_code=ORG, scopes=[scope], label=scope).token
    return w


SCAM_PHONE_NOTE = "Gọi tự xưng shipper, đòi chuyển khoản phí lưu kho."


def add_leaks_and_intel(w: World, faker) -> World:
    """The objects of the leak-detection and scam-intelligence routes (see the module docstring)."""
    p = w.platform
    w.faker = faker
    system = p.orgs.principal(ORG, actor="test")
    number = faker.phone_e164()
    p.canaries.pool_add(system, [number])
    w.ids["canary"] = p.canaries.create(system, channel="courier:an")["id"]
    w.ids["canary_number"] = number

    scam_phone = faker.phone_e164()
    w.ids["scam_phone"] = scam_phone
    w.ids["report_id"] = p.intel.report(indicators=[scam_phone], category="fake_courier", description=SCAM_PHONE_NOTE,
                                        contact="0912 000 222", client="world-report")["report"]
    with p.db.read_session() as s:
        w.ids["indicator_id"] = s.execute(select(func.max(Indicator.id))).scalar_one()
    appealed = faker.phone_e164()
    p.intel.report(indicators=[appealed], category="fake_bank", client="world-appealed")
    w.ids["appeal_id"] = p.intel.appeal(value=appealed, statement="Tôi là chủ thuê bao, không lừa đảo.",
                                        contact="0912 000 333", client="world-appeal")["appeal"]
    w.ids["channel_id"] = p.intel.official_add(system, kind="domain", value="buudien-mau.vn", label="Website")["id"]

    # a public link (TLP:GREEN, readable with intel:read alone) beside the amber phone number
    p.intel.report(indicators=["https://giaohang-philuukho.vn/tra-phi"], category="fake_courier",
                   client="world-link")
    w.ids["object_id"] = next(o["id"] for o in p.sharing.export_stix(system)["objects"]
                              if o["type"] == "indicator" and "url:value" in o["pattern"])
    w.ids["log_index"] = p.audit.append(actor="test", action="world_ready", org_id=system.org_id)
    p.audit.checkpoint()
    return w


def add_privacy_and_calls(w: World, faker) -> World:
    """The objects of the data-subject, DPO and caller-ID routes (see the module docstring)."""
    p = w.platform
    w.faker = w.faker or faker
    system = p.orgs.principal(ORG, actor="test")
    dpo, me = w.role("dpo"), w.subject_phone

    # a second parcel to the same person, already delivered: the deletion request shreds it at once
    done = {**next(iter(faker.rows(1, prefix="DL"))), "recipient_phone": w.assigned["recipient_phone"]}
    p.shipments.import_csv(system, io.BytesIO(csv_bytes([done])))
    for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
        p.shipments.set_status(system, done["waybill"], status)
    w.ids["delivered_waybill"] = done["waybill"]

    access = p.privacy.file_request(me, org_code=ORG, kind="access")["ref"]
    p.privacy.complete(dpo, access)
    deletion = p.privacy.file_request(me, org_code=ORG, kind="deletion")["ref"]
    receipt = p.privacy.complete(dpo, deletion)["receipt"]
    assert receipt["waybills"] == [done["waybill"]] and receipt["waiting_for_delivery"] == 1
    received = p.privacy.file_request(me, org_code=ORG, kind="correction")["ref"]
    # another person's access request, open: the DPO exports it (the number is dropped on completion)
    open_access = p.privacy.file_request(normalize_phone(w.other["recipient_phone"]), org_code=ORG,
                                         kind="access")["ref"]
    w.ids.update(dsr_access=access, dsr_deletion=deletion, dsr_received=received, dsr_open_access=open_access)
    w.ids["incident"] = p.privacy.create_incident(
        dpo, detected_at=utcnow() - timedelta(hours=2), description="Nhãn in lộ số điện thoại (giả lập).",
        affected_estimate=12)["ref"]

    number = faker.phone_e164()
    added = p.couriers.add_phone(org_code=ORG, username="an", phone=number, client="world-courier")
    p.couriers.verify_phone(org_code=ORG, username="an", phone=number, code=p.notifier.last_code(number),
                            challenge=added["challenge"], actor="test")
    w.ids["courier_phone"] = number
    w.ids["proxy"] = faker.phone_e164()
    p.calls.proxy_add(org_code=ORG, number=w.ids["proxy"], actor="test")
    w.fresh_passport()
    return w


def prebuilt_world(prebuilt, make, *, faker: Faker | None = None, **settings) -> World:
    """A private copy of the world that ``make(platform, faker)`` builds, built once per process and
    backend on a platform with ``settings`` (the ``prebuilt`` fixture of tests/conftest.py), with a
    platform started on the copy (the caller closes it). ``make`` gets a ``Faker(FAKER_SEED)``, as the
    ``faker`` fixture is; the test's ``faker`` goes on from where the build left it, as if the test
    had built the world itself."""

    def build(own) -> dict:
        p, f = Platform(own), Faker(FAKER_SEED)
        try:
            w = make(p, f)
        finally:
            p.close()
        state = {x.name: getattr(w, x.name) for x in fields(World) if x.name not in ("platform", "faker", "_serial")}
        return {"world": state, "random": f.r.getstate(), "faker": w.faker.r.getstate() if w.faker else None}

    own, state = prebuilt(f"{make.__module__}.{make.__qualname__}", build, **settings)
    if faker is not None:
        faker.r.setstate(state["random"])
    world_faker = None
    if state["faker"] is not None:
        world_faker = Faker(FAKER_SEED)
        world_faker.r.setstate(state["faker"])
    return World(platform=Platform(own), faker=world_faker, **state["world"])
