"""Waybills as people type them: in any letter case, with spaces or invisible characters, found through
the (org_id, waybill) index on SQLite and PostgreSQL, stored values never rewritten.

Finding: a waybill typed in lower case or with spaces was not found."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select, text

from postguard.errors import InvalidInput, NotFound
from postguard.shipments.models import Shipment
from postguard.shipments.validation import case_forms
from tests.conftest import csv_bytes

pytestmark = pytest.mark.both_databases  # the lookup must use the index on both databases' planners

# How operators' systems wrote them: in capitals (most), in lower case, mixed, and two that differ
# only in letter case (kept apart as they were stored).
STORED = ["DM000000001", "ghn12345678", "Ab12cd34", "xy1234", "XY1234", "ab-99", "aB-99", "EB123456789VN"]


@pytest.fixture
def stored(platform, principal, faker):
    rows = [faker.shipment_row(w) for w in STORED]
    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert report.imported == len(STORED)
    return platform


@pytest.mark.parametrize("typed,found", [
    ("dm 000 000 001", "DM000000001"), (" Dm000000001\u200b", "DM000000001"), ("ＤＭ００００００００１", "DM000000001"),
    ("GHN12345678", "ghn12345678"), ("ghn 1234 5678", "ghn12345678"), ("aB12CD34", "Ab12cd34"),
    ("xy1234", "xy1234"), ("XY1234", "XY1234"), ("Xy1234", "XY1234"),  # as typed, else in capitals
    ("eb 123 456 789 vn", "EB123456789VN"), ("ab-99", "ab-99"),
])
def test_a_waybill_is_found_however_it_is_typed(stored, principal, typed, found):
    assert stored.shipments.get(principal, typed)["waybill"] == found


def test_waybills_differing_only_in_case_are_never_confused(stored, principal):
    with pytest.raises(InvalidInput) as e:
        stored.shipments.get(principal, "AB-99")  # neither as typed nor... "ab-99" and "aB-99" both match
    assert [(f.field, f.code) for f in e.value.errors] == [("waybill", "ambiguous")]
    for missing in ("DM000000002", "dm-000000001", "??", "x" * 300):
        with pytest.raises(NotFound):
            stored.shipments.get(principal, missing)


def test_labels_take_waybills_as_typed(stored, principal):
    got = stored.shipments.waybills_for_labels
    with stored.db.session() as s:
        shipments = got(s, principal, ["dm000000001", "GHN 12345678", "DM000000001", "xy1234"])
        assert [x.waybill for x in shipments] == ["DM000000001", "ghn12345678", "xy1234"]
        with pytest.raises(NotFound, match="nope-1"):
            got(s, principal, ["dm000000001", "nope-1"])
    with stored.db.read_session() as s:  # stored values are as they were
        assert sorted(s.execute(select(Shipment.waybill)).scalars()) == sorted(STORED)


def test_the_case_insensitive_lookup_uses_the_index(stored, principal, backend, faker):
    """``waybill IN (case forms)`` with the organisation: a search of the unique index on both
    databases, never a scan of the table (with enough rows for the planner to choose)."""
    stored.shipments.import_csv(principal, io.BytesIO(csv_bytes(list(faker.rows(3000, prefix="BULK")))))
    forms = case_forms("dm000000001")
    q = select(Shipment.id).where(Shipment.org_id == 1, Shipment.waybill.in_(forms))
    with stored.db.session() as s:
        conn = s.connection()
        sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
        if backend == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
            assert "SCAN shipments" not in plan, plan
        else:
            conn.execute(text("ANALYZE shipments"))
            plan = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
            assert "uq_shipments_org_waybill" in plan and "Index Cond: ((org_id = 1) AND ((waybill)::text = ANY" in plan, plan
