"""Demo data: one operator, a few thousand generated shipments (synthetic people and shops, real 2025
wards), a member of staff for each role, parcels out for delivery assigned to the demo couriers, the
couriers' verified phone numbers, and numbers to try in the call check and the message check (a
reported scam number, an official hotline, the couriers' numbers, the recipient of the first parcel).

Every number here is synthetic."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from postguard.access.models import Staff
from postguard.principals import StaffPrincipal
from postguard.db.base import utcnow
from postguard.errors import ConfigurationError, Conflict, NotFound
from postguard.notify import MemoryNotifier
from postguard.phones import national_format, normalize_phone
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
# Synthetic numbers. The recipient of DM000000000 (the README's search example; prove it with a
# one-time code in the call check to see its courier verified) and each demo courier's calling number.
DEMO_RECIPIENT = "0912 345 678"
COURIER_PHONES = {DEMO_STAFF["courier"][0]: "0987 000 111", SECOND_COURIER[0]: "0987 000 222"}
OFFICIAL_HOTLINE = "1900 8095"  # Viettel Post's published hotline, seeded as a verified official channel
# Synthetic shops that send parcels: a business is shown by its name, people's names are masked.
SHOPS = ("Công ty TNHH Thương mại Dịch vụ Sen Vàng", "Cửa hàng Điện máy Minh Phát", "Shop Thời trang Hoa Mai",
         "Công ty Cổ phần Sách Bình Minh")


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


def demo_rows(n: int, *, seed: int = 2025, prefix: str = "DM") -> list[dict[str, str]]:
    """``n`` generated shipments; every fifth from the third on is sent by a shop, and the first goes to
    ``DEMO_RECIPIENT``."""
    rows = list(Faker(seed).rows(n, prefix=prefix))
    for i in range(2, n, 5):
        rows[i]["sender_name"] = SHOPS[i // 5 % len(SHOPS)]
    if rows:
        rows[0]["recipient_phone"] = DEMO_RECIPIENT
    return rows


def seed_courier_phones(platform: Platform) -> list[dict]:
    """Register and verify each demo courier's calling number (idempotent), through the ordinary
    one-time-code path with the code read from a private outbox instead of an SMS."""
    out = []
    outbox = MemoryNotifier()
    sms, platform.otp.notifier = platform.otp.notifier, outbox  # the registry's codes go through platform.otp
    try:
        for username, phone in COURIER_PHONES.items():
            added = platform.couriers.add_phone(org_code=DEMO_ORG, username=username, phone=phone, client="demo")
            if added["challenge"] is not None:
                platform.couriers.verify_phone(org_code=DEMO_ORG, username=username, phone=phone,
                                               code=outbox.last_code(normalize_phone(phone)),
                                               challenge=added["challenge"], actor="demo")
            out.append({"username": username, "phone": phone})
    finally:
        platform.otp.notifier = sms
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
    write_csv(demo_rows(shipments, seed=seed), buf)
    report = platform.shipments.import_csv(principal, io.BytesIO(buf.getvalue().encode("utf-8")))
    staff = seed_staff(platform)
    org = platform.orgs.get(DEMO_ORG)
    hub_name = DEMO_STAFF["hub"][0]
    hub = StaffPrincipal(_staff_id(platform, org.id, hub_name), org.id, org.code, hub_name, "hub")
    assigned = seed_deliveries(platform, principal, hub, count=min(OUT_FOR_DELIVERY, max(shipments - 1, 0)))
    couriers = seed_courier_phones(platform)
    for prefix in platform.orgs.api_key_prefixes(DEMO_ORG, label=DEMO_KEY_LABEL):
        platform.orgs.revoke_api_key(prefix=prefix, actor="demo")
    key = platform.orgs.create_api_key(
        org_code=DEMO_ORG, scopes=["shipments:read", "shipments:write", "shipments:search", "labels:print",
                                   "assignments:write"],
        label=DEMO_KEY_LABEL,
    )
    from postguard.intel.seed import demo_scam_phone, seed_official, seed_reports

    official = seed_official(platform.intel, platform.orgs)
    reports = seed_reports(platform.intel, seed=seed, org_principal=principal) if official["channels_added"] else {"reports": 0}
    from postguard.senders.seed import seed_senders

    seed_senders(platform.senders, platform.intel)
    courier_of = {w: DEMO_STAFF["courier"][0] if i % 2 == 0 else SECOND_COURIER[0]
                  for i, w in enumerate(assigned[:OUT_FOR_DELIVERY])}
    for c in couriers:
        c["waybills"] = [w for w, u in courier_of.items() if u == c["username"]]
    tries = {"scam": national_format(demo_scam_phone(seed)), "official": OFFICIAL_HOTLINE, "couriers": couriers,
             "recipient": {"waybill": assigned[0] if assigned else "", "phone": DEMO_RECIPIENT}}
    return {"org": DEMO_ORG, "imported": report.imported, "already_present": report.already_present,
            "api_key": key.token, "official_channels": official["channels_added"],
            "intel_reports": reports["reports"], "staff": staff, "assigned": assigned, "try": tries}


def _staff_id(platform: Platform, org_id: int, username: str) -> int:
    with platform.db.read_session() as s:
        return s.execute(select(Staff.id).where(Staff.org_id == org_id, Staff.username == username)).scalar_one()
