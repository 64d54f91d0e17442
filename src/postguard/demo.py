"""Demo data: one operator, a few thousand generated shipments (synthetic people, real 2025 wards),
a member of staff for each role, and parcels out for delivery assigned to the demo couriers."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from postguard.access.models import Staff
from postguard.principals import StaffPrincipal
from postguard.db.base import utcnow
from postguard.errors import ConfigurationError, Conflict, NotFound
from postguard.platform import Platform
from postguard.synthetic import Faker, write_csv

DEMO_ORG = "DEMO"
# Synthetic demo credentials, printed at start-up and documented in the README; never use them elsewhere.
DEMO_STAFF = {
    "admin": ("admin", "Quản trị Demo"),
    "hub": ("hub", "Bưu cục Demo"),
    "courier": ("shipper", "Shipper Demo"),
    "cs": ("cskh", "CSKH Demo"),
    "auditor": ("auditor", "Kiểm toán Demo"),
    "dpo": ("dpo", "DPO Demo"),
}
SECOND_COURIER = ("shipper2", "Shipper Demo 2")
# Staff of the platform organisation (PG-INTEL): an analyst, and an administrator who verifies
# official channels.
PLATFORM_STAFF = {
    "analyst": ("phantich", "Chuyên viên phân tích Demo"),
    "admin": ("quantri-nentang", "Quản trị nền tảng Demo"),
}
_PATH = ("created", "picked_up", "in_transit", "out_for_delivery")
OUT_FOR_DELIVERY = 6  # the first parcels: out for delivery, split between the two couriers


DEMO_KEY_LABEL = "demo"


def demo_password(username: str) -> str:
    return f"demo-{username}-2025"


def refuse_in_production(settings) -> None:
    """The demo's passwords are published: seeding them into a production deployment would make
    them live credentials."""
    if settings.mode == "production":
        raise ConfigurationError(
            "the demo data (published staff passwords, a full-scope API key) is refused in production mode; "
            "run `serve` without --demo, or use POSTGUARD_MODE=development with a separate data directory"
        )


def seed_staff(platform: Platform) -> list[dict]:
    """A member of staff for each operator role (and a second courier) at the demo operator, and an
    analyst and an administrator at the platform organisation, if absent."""
    from postguard.intel.service import KEY_ORG

    out = []
    members = [*((DEMO_ORG, r, m) for r, m in DEMO_STAFF.items()), (DEMO_ORG, "courier", SECOND_COURIER),
               *((KEY_ORG, r, m) for r, m in PLATFORM_STAFF.items())]
    for org, role, (username, name) in members:
        try:
            platform.staff.create(org_code=org, username=username, display_name=name, role=role,
                                  password=demo_password(username))
        except Conflict:
            pass
        out.append({"org": org, "role": role, "username": username, "password": demo_password(username)})
    return out


def seed_deliveries(platform: Platform, principal, hub: StaffPrincipal, *, count: int = OUT_FOR_DELIVERY) -> list[str]:
    """Move the first ``count`` parcels out for delivery and assign them (a window from an hour ago to
    eight hours ahead, renewed at each start) alternately to the two demo couriers; one more parcel is
    assigned while still in transit."""
    waybills = [f"DM{i:09d}" for i in range(count + 1)]
    now = utcnow()
    couriers = [DEMO_STAFF["courier"][0], SECOND_COURIER[0]]
    for i, waybill in enumerate(waybills):
        goal = "in_transit" if i == count else "out_for_delivery"
        status = platform.shipments.get(principal, waybill)["status"]
        if status not in _PATH:  # delivered, returned or cancelled since: left alone
            continue
        for step in _PATH[_PATH.index(status) + 1 : _PATH.index(goal) + 1]:
            platform.shipments.set_status(principal, waybill, step)
        platform.access.assign(hub, waybill=waybill, courier=couriers[i % 2] if i < count else couriers[0],
                               window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=8))
    return waybills


def seed(platform: Platform, *, shipments: int = 3000, seed: int = 2025) -> dict:
    """Create the demo operator, its shipments, staff and deliveries if absent (idempotent), and a
    fresh API key: the previous demo keys are revoked, so one demo key is valid at a time. Refused
    in production mode."""
    refuse_in_production(platform.settings)
    try:
        platform.orgs.get(DEMO_ORG)
    except NotFound:
        platform.orgs.create(code=DEMO_ORG, name="Bưu chính Demo (dữ liệu giả lập)", hotline="1900 0000")
    principal = platform.orgs.principal(DEMO_ORG, actor="demo")
    buf = io.StringIO()
    write_csv(Faker(seed).rows(shipments, prefix="DM"), buf)
    report = platform.shipments.import_csv(principal, io.BytesIO(buf.getvalue().encode("utf-8")))
    staff = seed_staff(platform)
    org = platform.orgs.get(DEMO_ORG)
    hub_name = DEMO_STAFF["hub"][0]
    hub = StaffPrincipal(_staff_id(platform, org.id, hub_name), org.id, org.code, hub_name, "hub")
    assigned = seed_deliveries(platform, principal, hub, count=min(OUT_FOR_DELIVERY, max(shipments - 1, 0)))
    for prefix in platform.orgs.api_key_prefixes(DEMO_ORG, label=DEMO_KEY_LABEL):
        platform.orgs.revoke_api_key(prefix=prefix, actor="demo")
    key = platform.orgs.create_api_key(
        org_code=DEMO_ORG, scopes=["shipments:read", "shipments:write", "shipments:search", "labels:print",
                                   "assignments:write"],
        label=DEMO_KEY_LABEL,
    )
    from postguard.intel.seed import seed_official, seed_reports

    official = seed_official(platform.intel, platform.orgs)
    reports = seed_reports(platform.intel, seed=seed, org_principal=principal) if official["channels_added"] else {"reports": 0}
    from postguard.senders.seed import seed_senders

    seed_senders(platform.senders, platform.intel)
    return {"org": DEMO_ORG, "imported": report.imported, "already_present": report.already_present,
            "api_key": key.token, "official_channels": official["channels_added"],
            "intel_reports": reports["reports"], "staff": staff, "assigned": assigned}


def _staff_id(platform: Platform, org_id: int, username: str) -> int:
    with platform.db.read_session() as s:
        return s.execute(select(Staff.id).where(Staff.org_id == org_id, Staff.username == username)).scalar_one()
