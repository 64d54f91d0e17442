"""What scams cost: reported losses per category and month in Viet Nam time, for analysts in full and for
everyone as anonymous totals (a cell of fewer than five reports is folded into "other", and withheld when
even that is too small); merged and rejected reports do not count."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from postguard.errors import Forbidden, InvalidInput
from postguard.intel.models import Report
from postguard.orgs.service import Principal
from postguard.platform import Platform

pytestmark = pytest.mark.both_databases  # the month bucket is a dialect's own date function

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def reports(make_settings):
    p = Platform(make_settings(intel_report_rate="1000/hour"))
    plan = [  # (category, amount, when (UTC))
        *[("fake_courier", 350_000, datetime(2026, 11, 10, 5, tzinfo=timezone.utc))] * 6,
        *[("investment", 20_000_000, datetime(2026, 11, 12, tzinfo=timezone.utc))] * 2,  # 2 < 5: "other"
        *[("loan", 1_000_000, datetime(2026, 11, 13, tzinfo=timezone.utc))] * 3,  # with investment: other = 5
        ("fake_bank", 5_000_000, datetime(2026, 11, 30, 18, tzinfo=timezone.utc)),  # 1 Dec 01:00 in Viet Nam
        ("fake_courier", None, datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc)),  # 31 Oct 23:59 in Viet Nam
    ]
    for i, (category, amount, when) in enumerate(plan):
        out = p.intel.report(indicators=[f"09{i:08d}"], category=category, amount_lost_vnd=amount,
                             client=f"198.51.100.{i + 1}")
        with p.db.session() as s:
            s.execute(update(Report).where(Report.public_id == out["report"]).values(created_at=when))
    rejected = p.intel.report(indicators=["0987654321"], category="fake_courier", amount_lost_vnd=99_000_000,
                              client="198.51.100.200")["report"]
    with p.db.session() as s:
        s.execute(update(Report).where(Report.public_id == rejected)
                  .values(status="rejected", created_at=datetime(2026, 11, 10, tzinfo=timezone.utc)))
    yield p
    p.close()


def test_analysts_see_every_figure_by_month_in_viet_nam_time(reports):
    p = reports
    analyst = Principal(org_id=p.intel.key_org_id(), org_code="PG-INTEL", actor="a", scopes=frozenset({"intel:analyst"}))
    out = p.intel.losses.for_analysts(analyst, months=3, now=NOW)
    assert out["months"] == ["2026-10", "2026-11", "2026-12"]
    by = {s["category"]: s["months"] for s in out["series"]}
    assert by["fake_courier"][1] == {"reports": 6, "with_amount": 6, "lost_vnd": 2_100_000}
    assert by["fake_courier"][0] == {"reports": 1, "with_amount": 0, "lost_vnd": 0}
    assert by["fake_bank"][2]["lost_vnd"] == 5_000_000 and by["fake_bank"][1]["reports"] == 0
    assert out["lost_vnd"] == [0, 2_100_000 + 40_000_000 + 3_000_000, 5_000_000]
    with pytest.raises(Forbidden):
        p.intel.losses.for_analysts(Principal(org_id=p.intel.key_org_id(), org_code="PG-INTEL", actor="r",
                                              scopes=frozenset({"intel:read"})), now=NOW)
    with pytest.raises(InvalidInput):
        p.intel.losses.for_analysts(analyst, months=0, now=NOW)


def test_the_public_sees_anonymous_totals_only(reports):
    out = reports.intel.losses.public(months=3, now=NOW)
    by = {s["category"]: s["months"] for s in out["series"]}
    assert set(by) == {"fake_courier", "other"}
    assert by["fake_courier"][1] == {"reports": 6, "lost_vnd": 2_100_000}
    assert by["other"][1] == {"reports": 5, "lost_vnd": 43_000_000}  # investment and loan, five together
    assert by["other"][2] == {"reports": None, "lost_vnd": None}  # one report in December: withheld
    assert by["fake_courier"][0] == {"reports": None, "lost_vnd": None}
    assert out["reports"] == [None, 11, None] and out["lost_vnd"] == [None, 45_100_000, None]
    assert out["total_lost_vnd"] == 50_100_000
