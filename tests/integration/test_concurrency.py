"""Several workers at once: migrations serialised, rewrap while serving."""

import io
import threading
import time

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from postguard.db import migrate
from postguard.db.engine import build_engine
from postguard.shipments.models import Shipment
from tests.conftest import PgSchema, csv_bytes, require_postgres

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: concurrent workers


@pytest.mark.postgres
def test_workers_starting_together_migrate_once():
    require_postgres()
    schema = PgSchema()
    try:
        engines = [build_engine(schema.url) for _ in range(4)]
        errors = []

        def start(e):
            try:
                migrate.upgrade(e)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        heads = {s.revision for s in ScriptDirectory.from_config(migrate._config(None)).get_revisions("heads")}
        assert {migrate.current(e) for e in engines} == heads
        for e in engines:
            e.dispose()
    finally:
        schema.drop()


def test_rewrap_while_serving(platform, principal, faker):
    rows = list(faker.rows(300))
    platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    with platform.db.session() as s:
        platform.vault.rotate(s, org_id=principal.org_id)
    stop, warm, failures, reads = threading.Event(), threading.Event(), [], [0]

    def reader():
        while not stop.is_set():
            try:
                with platform.db.session() as s:
                    for r in rows[::37]:
                        assert _recipient_name(platform, s, r["waybill"]) == r["recipient_name"]
                        reads[0] += 1
                platform.shipments.search_by_phone(principal, rows[0]["sender_phone"])
                warm.set()
            except Exception as exc:
                failures.append(exc)
                return

    t = threading.Thread(target=reader)
    t.start()
    try:
        assert warm.wait(30)
        out = platform.shipments.rewrap(principal, batch=20)
    finally:
        stop.set()
        t.join()
    assert failures == [] and reads[0] > 0
    assert out["rewrapped"] == 300 and out["destroyed_versions"] == [1]


def test_rewrap_rounds_against_four_readers(platform, principal, faker):
    """Stress: rotate and re-wrap again and again while four readers search by phone (the door: read the
    shipments, log, then unwrap their keys) and open records directly. A reader that read a record just
    before its batch moved, and unwraps it just after the old version was destroyed, must still open it."""
    rows = list(faker.rows(40))
    platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    last = rows[-8:]  # the last batch: moved just before the old version is destroyed
    stop, failures, reads = threading.Event(), [], [0] * 4
    deadline = time.monotonic() + 6

    def reader(n):
        i = n
        while not stop.is_set():
            r = last[i % len(last)]
            i += 1
            try:
                hits = platform.shipments.search_by_phone(principal, r["recipient_phone"])
                assert r["waybill"] in {h["waybill"] for h in hits}
                with platform.db.session() as s:
                    assert _recipient_name(platform, s, r["waybill"]) == r["recipient_name"]
                reads[n] += 1
            except Exception as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    rounds = 0
    try:
        while time.monotonic() < deadline and not failures:
            platform.orgs.rotate_data_key(principal.org_code)
            out = platform.shipments.rewrap(principal, batch=8)
            assert out["rewrapped"] == 40 and out["destroyed_versions"] == [rounds + 1]
            rounds += 1
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert rounds >= 3 and min(reads) > 0, (rounds, reads)


def _recipient_name(platform, s, waybill: str) -> str:
    """A shipment's recipient name read as a reader does while keys are re-wrapped: the record's
    wrapped key is read again if the version it names was destroyed meanwhile."""
    sh = s.execute(select(Shipment).where(Shipment.waybill == waybill)).scalar_one()
    got = platform.vault._open_record(
        s, org_id=sh.org_id, table="shipments", record_id=sh.waybill, dek=sh.dek,
        fields={"recipient_name": sh.recipient_name_ct},
        reload=lambda: s.execute(select(Shipment.dek).where(Shipment.id == sh.id)).scalar_one())
    return got["recipient_name"]
