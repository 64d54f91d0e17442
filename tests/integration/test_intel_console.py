"""What the analyst console relies on, on both databases: staff of the platform organisation get
scopes from their role (others none), reveals are logged first and fail closed, the queue includes
fresh reports, and reports per day are counted on Vietnam's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from postguard.access.staff import StaffPrincipal
from postguard.audit.models import AuditEntry
from postguard.errors import AuditUnavailable, Forbidden
from postguard.intel.models import Report
from postguard.intel.service import KEY_ORG
from postguard.platform import Platform

SCAM = "0912 345 678"  # synthetic


@pytest.fixture
def ip(make_settings):
    p = Platform(make_settings(intel_report_rate="1000/hour", intel_check_rate="1000/minute"))
    p.intel.key_org_id()
    yield p
    p.close()


def _staff(p: Platform, role: str, org: str = KEY_ORG) -> StaffPrincipal:
    o = p.orgs.get(org)
    return StaffPrincipal(staff_id=7, org_id=o.id, org_code=o.code, username="x", role=role)


def test_scopes_come_from_the_role_at_the_platform_organisation_only(ip):
    analyst = ip.intel.staff_principal(_staff(ip, "analyst"))
    admin = ip.intel.staff_principal(_staff(ip, "admin"))
    assert analyst.scopes == {"intel:analyst"} and admin.scopes == {"intel:admin"}
    assert analyst.actor == "staff:7" and analyst.org_code == KEY_ORG
    for role in ("auditor", "dpo", "cs", "courier", "hub"):
        with pytest.raises(Forbidden):
            ip.intel.staff_principal(_staff(ip, role))
    ip.orgs.create(code="VNP", name="Bưu điện mẫu")
    with pytest.raises(Forbidden):  # an operator's administrator is not a platform administrator
        ip.intel.staff_principal(_staff(ip, "admin", "VNP"))
    with pytest.raises(Forbidden):
        ip.intel.official_set_status(analyst, 1, status="verified")


def test_reveal_is_logged_before_decryption_and_fails_closed(ip, monkeypatch):
    ip.intel.report(indicators=[SCAM], category="fake_courier", client="c1")
    analyst = ip.intel.staff_principal(_staff(ip, "analyst"))
    [item] = ip.intel.queue(analyst, reported=True)
    assert item["reason"] == "new_reports" and item["verdict"] == "reported" and item["reasons"]
    assert ip.intel.queue(analyst) == []  # the API's queue is unchanged: only what needs review

    opened = []
    real_decrypt = ip.vault._decrypt
    monkeypatch.setattr(ip.vault, "_decrypt", lambda *a, **k: opened.append(1) or real_decrypt(*a, **k))

    def broken(**kw):
        raise AuditUnavailable("the access log is unavailable")

    monkeypatch.setattr(ip.audit, "append", broken)
    with pytest.raises(AuditUnavailable):
        ip.intel.reveal_value(analyst, item["indicator"])
    assert opened == []
    monkeypatch.undo()
    out = ip.intel.reveal_value(analyst, item["indicator"])
    assert out["value"] == "+84912345678" and out["logged"] is True
    with ip.db.read_session() as s:
        logged = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "intel_indicator_reveal")).all()
    assert logged == [("staff:7",)]


def test_reports_per_day_by_category_on_vietnam_days(ip):
    now = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)  # 17:00 in Vietnam
    vn = timezone(timedelta(hours=7))
    plan = [  # (created at, category)
        (datetime(2026, 3, 31, 9, 0, tzinfo=vn), "fake_courier"),  # today
        (datetime(2026, 3, 31, 0, 30, tzinfo=vn), "fake_courier"),  # today in Vietnam, yesterday in UTC
        (datetime(2026, 3, 30, 23, 59, tzinfo=vn), "fake_bank"),  # yesterday
        (datetime(2026, 3, 2, 0, 0, tzinfo=vn), "loan"),  # the first of the 30 days
        (datetime(2026, 3, 1, 23, 59, tzinfo=vn), "loan"),  # too old
    ]
    ids = [ip.intel.report(indicators=[f"0912 345 {600 + i}"], category=category, client=f"c{i}")["report"]
           for i, (_, category) in enumerate(plan)]
    dup = ip.intel.report(indicators=["0912 345 600"], category="fake_courier", client="c0")  # merged
    assert dup["status"] == "merged"
    with ip.db.session() as s:
        for public_id, (at, _) in zip(ids, plan, strict=True):
            s.execute(update(Report).where(Report.public_id == public_id).values(created_at=at))
        s.execute(update(Report).where(Report.status == "merged").values(created_at=plan[0][0]))
    analyst = ip.intel.staff_principal(_staff(ip, "analyst"))
    st = ip.intel.stats(analyst, days=30, now=now)
    assert st["days"][0] == "2026-03-02" and st["days"][-1] == "2026-03-31" and len(st["days"]) == 30
    by = {x["category"]: x["counts"] for x in st["series"]}
    assert set(by) == {"fake_courier", "fake_bank", "loan"}
    assert by["fake_courier"][-1] == 2 and by["fake_bank"][-2] == 1 and by["loan"][0] == 1
    assert st["total"] == 4 and st["totals"][-1] == 2 and sum(st["totals"]) == 4
    with ip.db.read_session() as s:
        assert s.execute(select(Report).where(Report.status == "merged")).scalars().first() is not None
