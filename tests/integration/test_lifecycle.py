"""Status lifecycle and the retention job (shreds personal data, keeps anonymous statistics)."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from postguard.db.base import utcnow
from postguard.errors import Conflict, Shredded
from postguard.shipments.models import Shipment
from tests.conftest import csv_bytes

PATH = ["picked_up", "in_transit", "out_for_delivery", "delivered"]


def test_lifecycle_and_refused_transitions(platform, principal, faker):
    row = next(faker.rows(1))
    platform.shipments.import_csv(principal, io.BytesIO(csv_bytes([row])))
    w = row["waybill"]
    with pytest.raises(Conflict, match="from created to delivered"):
        platform.shipments.set_status(principal, w, "delivered")
    for status in PATH:
        assert platform.shipments.set_status(principal, w, status)["status"] == status
    with pytest.raises(Conflict, match="final status"):
        platform.shipments.set_status(principal, w, "returned")


@pytest.mark.both_databases
def test_retention_shreds_after_the_configured_days_and_keeps_statistics(platform, principal, faker):
    rows = list(faker.rows(6))
    platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    for r in rows[:4]:
        for status in PATH:
            platform.shipments.set_status(principal, r["waybill"], status)
    platform.shipments.set_status(principal, rows[4]["waybill"], "cancelled")
    old = utcnow() - timedelta(days=platform.settings.retention_days + 1)
    with platform.db.session() as s:  # three of the delivered ones finished long ago; the cancelled one too
        s.execute(update(Shipment).where(Shipment.waybill.in_([r["waybill"] for r in rows[:3]] + [rows[4]["waybill"]]))
                  .values(status_changed_at=old))
    assert platform.shipments.run_retention() == 4
    assert platform.shipments.run_retention() == 0
    with pytest.raises(Shredded):
        platform.labels.render(principal, [rows[0]["waybill"]])
    view = platform.shipments.get(principal, rows[0]["waybill"])
    assert view["personal_data"] == "shredded" and view["recipient"]["name"] is None
    assert view["recipient"]["province_code"] > 0 and view["cod_amount_vnd"] == int(rows[0]["cod_amount_vnd"])
    assert platform.shipments.get(principal, rows[3]["waybill"])["personal_data"] == "protected"
    stats = platform.shipments.stats(principal)
    assert stats["total"] == 6 and stats["shredded"] == 4
    assert stats["by_status"] == {"delivered": 4, "cancelled": 1, "created": 1}
    # a search cannot find shredded shipments any more
    assert platform.shipments.search_by_phone(principal, rows[0]["recipient_phone"]) == []


def test_shredded_key_bytes_leave_the_sqlite_file(platform, principal, faker, backend, settings):
    if backend != "sqlite":
        pytest.skip("file-level check of SQLite secure_delete")
    rows = list(faker.rows(3))
    platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    with platform.db.session() as s:
        dek = s.execute(select(Shipment.dek).where(Shipment.waybill == rows[1]["waybill"])).scalar_one()
    platform.shipments.shred(principal, rows[1]["waybill"])
    platform.close()
    for f in settings.data_dir.iterdir():
        if f.name.startswith("postguard.db"):
            assert dek not in f.read_bytes(), f.name


def test_a_thousand_labels_in_one_pdf(platform, principal, faker, backend):
    if backend != "sqlite":
        pytest.skip("rendering does not depend on the database")
    import io as _io

    from pypdf import PdfReader

    rows = list(faker.rows(1000))
    platform.shipments.import_csv(principal, _io.BytesIO(csv_bytes(rows)))
    pdf = platform.labels.render(principal, [r["waybill"] for r in rows])
    reader = PdfReader(_io.BytesIO(pdf))
    assert len(reader.pages) == 1000
    assert rows[999]["waybill"] in reader.pages[999].extract_text()
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert any("SourceSansPro" in str(f.get_object()["/BaseFont"]) for f in fonts.values())  # embedded
    # a reprint keeps the same token, so labels already on parcels stay valid
    from postguard.shipments.models import LabelToken

    def tokens():
        with platform.db.session() as s:
            return dict(s.execute(select(LabelToken.token, LabelToken.shipment_id)).all())

    before = tokens()
    platform.labels.render(principal, [rows[0]["waybill"]])
    assert tokens() == before and len(before) == 1000
    token = next(iter(before))
    assert platform.labels.resolve_token(token).id == before[token]
    assert platform.labels.resolve_token("not-a-token") is None
