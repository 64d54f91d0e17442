"""Demo data: one operator and a few thousand generated shipments (synthetic people, real 2025 wards)."""

from __future__ import annotations

import io

from postguard.errors import NotFound
from postguard.platform import Platform
from postguard.synthetic import Faker, write_csv

DEMO_ORG = "DEMO"


def seed(platform: Platform, *, shipments: int = 3000, seed: int = 2025) -> dict:
    """Create the demo operator and its shipments if absent (idempotent), and a fresh API key."""
    try:
        platform.orgs.get(DEMO_ORG)
    except NotFound:
        platform.orgs.create(code=DEMO_ORG, name="Bưu chính Demo (dữ liệu giả lập)", hotline="1900 0000")
    principal = platform.orgs.principal(DEMO_ORG, actor="demo")
    buf = io.StringIO()
    write_csv(Faker(seed).rows(shipments, prefix="DM"), buf)
    report = platform.shipments.import_csv(principal, io.BytesIO(buf.getvalue().encode("utf-8")))
    key = platform.orgs.create_api_key(
        org_code=DEMO_ORG, scopes=["shipments:read", "shipments:write", "shipments:search", "labels:print"],
        label="demo",
    )
    from postguard.intel.seed import seed_official, seed_reports

    official = seed_official(platform)
    reports = seed_reports(platform, seed=seed, org_principal=principal) if official["channels_added"] else {"reports": 0}
    return {"org": DEMO_ORG, "imported": report.imported, "already_present": report.already_present,
            "api_key": key.token, "official_channels": official["channels_added"],
            "intel_reports": reports["reports"]}
