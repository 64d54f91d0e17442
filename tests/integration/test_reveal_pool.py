"""Many staff reveals at once on a small connection pool: every reveal holds a request connection
while the access log writes its entry, so the log writer must never wait for that pool (it has its
own connection). Each reveal succeeds, with its own durable log entry."""

import io
import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.db.base import utcnow
from postguard.phones import normalize_phone
from postguard.platform import Platform
from tests.conftest import csv_bytes

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: connection pools under concurrency

THREADS = 32


@pytest.mark.parametrize("checkpoint_every", [1.0, 0.0], ids=["checkpoints-each-second", "checkpoint-each-batch"])
def test_concurrent_reveals_on_a_small_pool_all_succeed_each_logged(make_settings, faker, checkpoint_every):
    # 2 request connections for 32 concurrent reveals; before the writer had its own connection, the
    # default pools (15 on SQLite, 30 on PostgreSQL) starved here too. With a checkpoint after every
    # batch, the leader also signs checkpoints while the waiters hold the pool.
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, database_pool_size=2))
    try:
        p.orgs.create(code="VNP", name="Bưu điện")
        system = p.orgs.principal("VNP", actor="test")
        hub = p.staff.create(org_code="VNP", username="hub", display_name="Trạm", role="hub", password="x" * 12)
        couriers = [p.staff.create(org_code="VNP", username=f"c{i}", display_name=f"Nguyễn Văn C{i}",
                                   role="courier", password="x" * 12) for i in range(THREADS)]
        rows = list(faker.rows(THREADS))
        p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
        now = utcnow()
        for r, c in zip(rows, couriers):
            for status in ("picked_up", "in_transit", "out_for_delivery"):
                p.shipments.set_status(system, r["waybill"], status)
            p.access.assign(hub, waybill=r["waybill"], courier=c.username, window_start=now - timedelta(hours=1),
                            window_end=now + timedelta(hours=1))
        signed = p.audit.checkpoint().size
        with p.db.session() as s:
            before = s.execute(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one()

        p.audit.CHECKPOINT_EVERY = checkpoint_every
        start = threading.Barrier(THREADS)
        got: dict[int, dict] = {}
        errors: list[BaseException] = []

        def reveal(k: int) -> None:
            start.wait()
            try:
                got[k] = p.access.reveal(couriers[k], waybill=rows[k]["waybill"], purpose="delivery")
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=reveal, args=(k,), daemon=True) for k in range(THREADS)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "reveals still waiting after 60 s (pool starved)"
        assert time.monotonic() - began < 30, "a reveal waited for the 30 s pool timeout"
        assert errors == []
        assert {k: v["recipient_phone"] for k, v in got.items()} == {
            k: normalize_phone(rows[k]["recipient_phone"]) for k in range(THREADS)}

        with p.db.session() as s:
            logged = [json.loads(e) for e in s.execute(
                select(AuditEntry.entry).where(AuditEntry.idx > before).order_by(AuditEntry.idx)).scalars()]
        reveals = [e for e in logged if e["action"] == "reveal"]
        assert sorted((e["actor"], e["subject"]) for e in reveals) == sorted(
            (couriers[k].actor, rows[k]["waybill"]) for k in range(THREADS))
        assert all(e["purpose"] == "delivery" for e in reveals)
        if not checkpoint_every:  # the leaders signed checkpoints during the burst
            with p.db.session() as s:
                assert s.execute(select(AuditCheckpoint.size).where(AuditCheckpoint.size > signed)).first() is not None
        assert p.audit.verify().ok
    finally:
        p.close()
