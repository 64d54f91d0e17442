"""CSV import: row-level errors, idempotence, encodings, atomic batches, bounded memory."""

import io
import tracemalloc

import pytest
from sqlalchemy import func, select

from postguard.errors import InvalidInput
from postguard.shipments.models import Shipment
from postguard.shipments.validation import COLUMNS
from tests.conftest import csv_bytes

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: the bulk insert goes through each driver's executemany


def _count(platform):
    with platform.db.session() as s:
        return s.execute(select(func.count()).select_from(Shipment)).scalar_one()


def _waybills(platform):
    with platform.db.session() as s:
        return set(s.execute(select(Shipment.waybill)).scalars())


BAD = [
    ("sender_phone", "0912", "invalid_phone"),
    ("recipient_phone", "+84 abc", "invalid_phone"),
    ("recipient_province", "Atlantis", "unknown_place"),
    ("recipient_ward", "Phường Không Tồn Tại", "unknown_place"),
    ("cod_amount_vnd", "12.5", "invalid_number"),
    ("weight_grams", "", "required"),
    ("recipient_name", "", "required"),
    ("waybill", "??", "invalid"),
]


def test_bad_rows_are_reported_by_line_and_field_and_store_nothing(platform, principal, faker):
    rows = list(faker.rows(20))
    for i, (field, value, _) in enumerate(BAD):
        rows[2 * i + 1][field] = value
    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert (report.rows, report.imported, report.invalid) == (20, 20 - len(BAD), len(BAD))
    got = {(e.row, e.field, e.code) for e in report.errors}
    # line 1 is the header, so row i sits on line i + 2
    assert got == {(2 * i + 1 + 2, field, code) for i, (field, _, code) in enumerate(BAD)}
    stored = _waybills(platform)
    for i in range(len(BAD)):
        assert rows[2 * i + 1]["waybill"] not in stored
    assert len(stored) == 20 - len(BAD)


def test_reimport_is_idempotent(platform, principal, faker):
    data = csv_bytes(list(faker.rows(40)))
    first = platform.shipments.import_csv(principal, io.BytesIO(data))
    second = platform.shipments.import_csv(principal, io.BytesIO(data))
    assert (first.imported, first.already_present) == (40, 0)
    assert (second.imported, second.already_present) == (0, 40)
    assert _count(platform) == 40


def test_same_waybill_twice_in_one_file_is_stored_once(platform, principal, faker):
    rows = list(faker.rows(3))
    rows.append(dict(rows[0]))
    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert (report.imported, report.already_present) == (3, 1)


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_with_or_without_bom(platform, principal, faker, bom):
    rows = list(faker.rows(3))
    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows, bom=bom)))
    assert report.imported == 3


def test_invalid_utf8_is_a_row_error(platform, principal, faker):
    rows = list(faker.rows(3))
    data = csv_bytes(rows).replace(rows[1]["recipient_address"].encode(), b"S\xe1 1 L\xea L\xe1i")
    report = platform.shipments.import_csv(principal, io.BytesIO(data))
    assert report.imported == 2
    assert [(e.row, e.field, e.code) for e in report.errors] == [(3, "recipient_address", "encoding")]


def test_header_problems_refuse_the_file(platform, principal):
    bad = ",".join(c for c in COLUMNS if c != "recipient_ward") + ",recipient_wrd\n"
    with pytest.raises(InvalidInput) as e:
        platform.shipments.import_csv(principal, io.BytesIO(bad.encode()))
    assert {(x.field, x.code) for x in e.value.errors} == {("recipient_ward", "missing_column"),
                                                          ("recipient_wrd", "unknown_column")}
    with pytest.raises(InvalidInput, match="empty"):
        platform.shipments.import_csv(principal, io.BytesIO(b""))
    assert _count(platform) == 0


def test_wrong_field_count_is_a_row_error(platform, principal, faker):
    data = csv_bytes(list(faker.rows(2))) + b"ONLY,three,fields\n"
    report = platform.shipments.import_csv(principal, io.BytesIO(data))
    assert report.imported == 2 and [(e.row, e.code) for e in report.errors] == [(4, "field_count")]


def test_batches_are_atomic(make_settings, faker, monkeypatch):
    from postguard.platform import Platform
    from postguard.shipments.service import ShipmentService

    p = Platform(make_settings(import_batch_size=10))
    try:
        org = p.orgs.create(code="ATOM", name="Atomic")
        principal = p.orgs.principal(org.code, actor="t")
        real = ShipmentService._insert
        calls = {"n": 0}

        def failing(self, session, org_id, items, prot):
            calls["n"] += 1
            n = real(self, session, org_id, items, prot)
            if calls["n"] == 2:
                raise RuntimeError("disk full")  # after the rows were written: the batch must roll back
            return n

        monkeypatch.setattr(ShipmentService, "_insert", failing)
        with pytest.raises(RuntimeError):
            p.shipments.import_csv(principal, io.BytesIO(csv_bytes(list(faker.rows(25)))))
        assert _count(p) == 10  # the first batch, whole; nothing of the second
    finally:
        p.close()


def test_memory_stays_bounded_as_the_file_grows(platform, principal, faker, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("memory bound measured once, on the embedded default")
    from postguard.synthetic import Faker, write_csv

    def peak(n, name):
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as f:
            write_csv(Faker(n).rows(n, prefix=name[:2].upper()), f)
        tracemalloc.start()
        with path.open("rb") as f:
            report = platform.shipments.import_csv(principal, f, progress=lambda pos: None)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.imported == n
        return top

    small, large = peak(3000, "aa.csv"), peak(30000, "bb.csv")
    assert large < small * 2, (small, large)  # ten times the rows, not ten times the memory
