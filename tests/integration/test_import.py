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


# -- files as spreadsheets save them ------------------------------------------------------------------
def delimited(rows, delimiter: str) -> str:
    import csv

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), delimiter=delimiter, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def cp1258(text: str) -> bytes:
    """``text`` as Windows-1258 writes Vietnamese: precomposed vowels where the code page has them, the
    tone marks as combining characters after them."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out.append((base + "".join(c for c in parts if c in tones)).encode("cp1258"))
    return b"".join(out)


def _name_of(platform, principal, waybill):
    return platform.shipments.get(principal, waybill)["recipient"]["name"].split()[-1]


def test_import_reads_a_semicolon_separated_excel_export(platform, principal, faker):
    """Finding: a ';'-separated file (Excel where the decimal mark is a comma) gave a list of "column
    missing" errors. The separator is read from the header row and said in the report."""
    rows = list(faker.rows(5))
    rows[0]["cod_amount_vnd"] = "1.250.000"  # and a field holding the other separators is one field
    rows[1]["recipient_address"] = "Số 12, ngõ 3; tổ 4"
    report = platform.shipments.import_csv(principal, io.BytesIO(delimited(rows, ";").encode("utf-8-sig")))
    assert (report.imported, report.invalid, report.delimiter) == (5, 0, ";")
    assert report.notes == ["Fields are separated by ';'; read as such."]
    assert platform.shipments.get(principal, rows[0]["waybill"])["cod_amount_vnd"] == 1_250_000


def test_import_reads_excel_unicode_text_utf16_with_tabs(platform, principal, faker):
    rows = list(faker.rows(4))
    report = platform.shipments.import_csv(principal, io.BytesIO(delimited(rows, "\t").encode("utf-16")))
    assert (report.imported, report.encoding, report.delimiter) == (4, "utf-16", "\t")
    assert _name_of(platform, principal, rows[0]["waybill"]) == rows[0]["recipient_name"].split()[-1]


def test_import_reads_windows_1258_and_says_so(platform, principal, faker):
    """Finding: a Windows-1258 file was not recognised. Read as Windows-1258 when it is not UTF-8 at
    all, and the report says so; a UTF-8 file with one broken row stays UTF-8 (that row is an error)."""
    rows = list(faker.rows(6))
    rows[0]["recipient_name"] = "Nguyễn Thị Hường"
    data = cp1258(delimited(rows, ";"))
    assert b"\xd2" in data or b"\xde" in data  # combining tone marks, as the code page writes them
    report = platform.shipments.import_csv(principal, io.BytesIO(data))
    assert (report.imported, report.invalid, report.encoding) == (6, 0, "windows-1258")
    assert any("Windows-1258" in n and "CSV UTF-8" in n for n in report.notes)
    assert _name_of(platform, principal, rows[0]["waybill"]) == "Hường"
    more = list(faker.rows(3, prefix="MX"))
    broken = csv_bytes(more).replace(more[1]["recipient_address"].encode(), b"S\xe1 1 L\xea L\xe1i")
    report = platform.shipments.import_csv(principal, io.BytesIO(broken))
    assert (report.imported, report.encoding, report.notes) == (2, "utf-8", [])
    assert [(e.field, e.code) for e in report.errors] == [("recipient_address", "encoding")]
    assert "CSV UTF-8" in report.errors[0].message


def test_import_of_a_header_only_file_says_no_rows(platform, principal):
    """Finding: a file with only its header row ended silently."""
    for data in ((",".join(COLUMNS) + "\n").encode(), (";".join(COLUMNS) + "\r\n\r\n").encode("utf-16")):
        report = platform.shipments.import_csv(principal, io.BytesIO(data))
        assert (report.rows, report.imported, report.invalid) == (0, 0, 0)
        assert report.notes[-1] == "No rows: the file has a header row and nothing after it."


def test_import_maps_ward_names_from_before_2025_and_says_so(platform, principal, faker):
    """Finding: pre-2025 ward names ("Hàng Bạc, Hà Nội") were rejected. They are recorded under the
    2025 ward with a note per row; a former name that several wards had is refused with the choices."""
    rows = list(faker.rows(4))
    places = [("Hà Nội", "Hàng Bạc"), ("Hải Dương", "Phường Trần Phú"), ("TP. HCM", "Phường 1"),
              ("TP. HCM", "Phường 1, Quận 3")]
    for r, (p, w) in zip(rows, places, strict=True):
        r["recipient_province"], r["recipient_ward"] = p, w
    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert (report.imported, report.invalid, report.renamed) == (3, 1, 3)
    assert report.notes == ["3 rows named a province or ward as before the 2025 reorganisation; recorded under "
                            "the 2025 units."]
    assert report.renamed_examples[0] == ("line 2: 'Phường Hàng Bạc, Quận Hoàn Kiếm, Thành phố Hà Nội' (before "
                                          "2025) is now Phường Hoàn Kiếm")
    assert [(e.row, e.field) for e in report.errors] == [(4, "recipient_ward")]
    assert "Phường 1, Quận 3;" in report.errors[0].message
    with platform.db.session() as s:
        codes = dict(s.execute(select(Shipment.waybill, Shipment.recipient_ward_code)).all())
    assert codes[rows[0]["waybill"]] == 70  # Phường Hoàn Kiếm
    assert report.as_dict()["renamed"] == 3


def test_import_names_the_separator_when_the_columns_are_not_the_format(platform, principal):
    header = "Mã vận đơn;Tên người gửi;SĐT người gửi;Địa chỉ người gửi\n"
    with pytest.raises(InvalidInput) as e:
        platform.shipments.import_csv(principal, io.BytesIO(header.encode()))
    first = e.value.errors[0]
    assert (first.field, first.code) == ("header", "delimiter") and "';'" in first.message


def test_import_counts_every_error_past_the_reported_ones(platform, principal, faker, monkeypatch):
    from postguard.shipments import service

    monkeypatch.setattr(service, "MAX_REPORTED_ERRORS", 5)
    rows = list(faker.rows(8))
    for r in rows[:6]:
        r["sender_phone"], r["weight_grams"] = "12", ""
    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert (report.invalid, report.errors_total, len(report.errors)) == (6, 12, 5)
    assert report.as_dict()["errors_truncated"] is True
