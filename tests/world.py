"""A small operator for access tests: one member of staff per role (plus a second courier; the analyst
works at the platform organisation, ``ORG_OF``), a system
API key per scope, and three synthetic parcels:

- ``assigned``: assigned to courier ``an``, out for delivery, window open (An may reveal it);
- ``other``: out for delivery but assigned to nobody;
- ``waiting``: assigned to ``an`` but still in transit (not revealable yet).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from postguard.access.models import ROLES
from postguard.db.base import utcnow
from postguard.intel.service import KEY_ORG
from postguard.orgs.service import SCOPES
from postguard.platform import Platform
from tests.conftest import csv_bytes

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
