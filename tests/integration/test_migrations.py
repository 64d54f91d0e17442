"""Migrations never lose what is stored: a step that rebuilds a table on SQLite (copy, drop, rename)
must not cascade the drop to the rows that refer to it, and a database the code does not know is
refused with a clear error."""

import pytest
from alembic import command
from alembic.util import CommandError
from sqlalchemy import inspect, text

from postguard.db import migrate
from postguard.errors import ConfigurationError
from postguard.models import metadata
from postguard.platform import Platform
from tests.world import add_leaks_and_intel, add_privacy_and_calls, build_world

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: migrations


def _counts(engine) -> dict[str, int]:
    with engine.connect() as c:
        return {t: c.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in inspect(c).get_table_names() if t != "alembic_version"}


def test_down_and_up_again_keeps_every_row(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               intel_report_rate="100/minute", intel_appeal_rate="100/minute"))
    try:
        add_privacy_and_calls(add_leaks_and_intel(build_world(p, faker), faker), faker)
        before = _counts(p.db.engine)
        assert before["api_keys"] and before["shipments"] and before["staff"]
        migrate.downgrade(p.db.engine, "0010")  # past every table rebuild since then
        migrate.upgrade(p.db.engine)
        after = _counts(p.db.engine)
        assert {t: n for t, n in after.items() if n != before.get(t)} == {}
    finally:
        p.close()


def test_a_database_from_a_newer_version_is_refused_clearly(make_settings):
    p = Platform(make_settings())
    try:
        with p.db.engine.begin() as c:
            c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(ConfigurationError, match="cannot be migrated"):
            migrate.upgrade(p.db.engine)
    finally:
        p.close()


def test_a_failing_step_leaves_nothing_half_done(make_settings):
    """A step that fails after changing the schema is rolled back whole (on SQLite too, whose driver
    begins a transaction only before a data change), so the next start migrates cleanly."""
    p = Platform(make_settings())
    try:
        migrate.downgrade(p.db.engine, "0012")

        def fail_after_rebuilding(config, revision):
            command.upgrade(config, revision)
            raise CommandError("simulated failure after the step's changes")

        with pytest.raises(ConfigurationError):
            migrate._run(p.db.engine, fail_after_rebuilding, "head")
        assert migrate.current(p.db.engine) == "0012"
        with p.db.engine.connect() as c:
            assert not [t for t in inspect(c).get_table_names() if t.startswith("_alembic_tmp")]
            assert "masked_only" not in {col["name"] for col in inspect(c).get_columns("organisations")}
        migrate.upgrade(p.db.engine)
        assert migrate.pending_changes(p.db.engine, metadata) == []
    finally:
        p.close()


def test_passports_stored_in_clear_text_by_older_versions_are_erased(make_settings, faker):
    """Older versions kept a call's PASSporT (it names the recipient's number) as the plain token; the
    step to 0014 cannot reach the vault to seal it, so it erases it, and leaves sealed tokens alone."""
    import base64
    import uuid

    from sqlalchemy import select

    from postguard.callerid.models import CallIntent
    from tests.callerid_world import build

    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory"))
    try:
        w = build(p, faker)
        sealed = p.calls.start_call(w.people["an"], waybill=w.waybill)
        plain = p.calls.start_call(w.people["an"], waybill=w.waybill)
        payload = plain["passport"].split(".")[1]
        assert w.recipient[1:] in base64.urlsafe_b64decode(payload + "==").decode()
        old_origid = str(uuid.uuid4())
        with p.db.session() as s:  # as an older version wrote it: the token itself
            row = s.execute(select(CallIntent).where(CallIntent.origid == plain["origid"])).scalar_one()
            row.passport = plain["passport"]
            model = s.execute(select(CallIntent).where(CallIntent.origid == sealed["origid"])).scalar_one()
            s.add(CallIntent(origid=old_origid, org_id=model.org_id, courier_id=model.courier_id,
                             shipment_id=model.shipment_id, recipient_digest=model.recipient_digest,
                             window_start=model.window_start, window_end=model.window_end,
                             passport=plain["passport"] + ";info=<https://cert.example/VNP/1.pem>"))
        with p.db.session() as s:
            kept_sealed = s.execute(select(CallIntent.passport)
                                    .where(CallIntent.origid == sealed["origid"])).scalar_one()
        assert "." not in kept_sealed and kept_sealed
        migrate.downgrade(p.db.engine, "0013")
        migrate.upgrade(p.db.engine)
        with p.db.session() as s:
            stored = dict(s.execute(select(CallIntent.origid, CallIntent.passport)).all())
        assert stored == {sealed["origid"]: kept_sealed, plain["origid"]: "", old_origid: ""}
        assert not any(payload in v for v in stored.values())
        assert p.calls.recorded_passport(w.system, plain["origid"]) is None
        assert p.calls.recorded_passport(w.system, old_origid) is None
        assert p.calls.recorded_passport(w.system, sealed["origid"]) == sealed["passport"]
    finally:
        p.close()
