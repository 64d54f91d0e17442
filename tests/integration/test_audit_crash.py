"""Crash safety of log-before-reveal: the process killed between append and response never yields
plaintext without a log entry.

A child process (same settings, same database) reveals a parcel's recipient through the door and
writes the plaintext to its stdout only as the "response". A hook chosen by ``CRASH_AT`` SIGKILLs it
at one point: with the log's insert run but not committed, right after the log commit, or after
decryption but before the response. The parent then reopens the platform and checks that any
plaintext that got out is matched by a reveal entry, that the whole log verifies (no torn entries,
the tree recomputes, the signed checkpoints still hold), that the tree is consistent with the
checkpoint taken before the crash, and that the next append continues the sequence.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from postguard.audit import merkle
from postguard.audit.models import AuditEntry
from postguard.phones import normalize_phone
from postguard.platform import Platform
from tests.conftest import parcel_out_for_delivery

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: the access-log writer

PASSWORD = "correct horse battery"

CHILD = r'''
import json, os, signal, sys

from postguard.access.staff import StaffPrincipal
from postguard.platform import Platform
from postguard.settings import Settings

point = os.environ["CRASH_AT"]
p = Platform(Settings())


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


if point == "before_commit":  # the entry is inserted in the open transaction, not committed
    from sqlalchemy import event

    @event.listens_for(p.db.log_engine, "after_cursor_execute")
    def _inserted(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO audit_entries"):
            die()
elif point == "after_commit":  # durable, but append has not returned
    real_write = p.audit._write

    def _write(items):
        real_write(items)
        die()

    p.audit._write = _write
elif point == "after_decrypt":  # plaintext in memory, response not written
    real_open = p.vault._open_record

    def _open(*args, **kwargs):
        real_open(*args, **kwargs)
        die()

    p.vault._open_record = _open

who = StaffPrincipal(**json.loads(sys.argv[1]))
got = p.access.reveal(who, waybill=sys.argv[2], purpose="delivery")
sys.stdout.write(json.dumps(got, ensure_ascii=False))  # the response
sys.stdout.flush()
'''

POINTS = ["before_commit", "after_commit", "after_decrypt", "none"]


@pytest.fixture
def world(make_settings, faker):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024)
    p = Platform(settings)
    courier, rows = parcel_out_for_delivery(p, faker, password=PASSWORD)
    waybill = rows[0]["waybill"]
    before = p.audit.checkpoint()  # signed, before the crash
    p.close()
    secrets = [normalize_phone(rows[0]["recipient_phone"]), rows[0]["recipient_name"], rows[0]["recipient_address"]]
    return settings, courier, waybill, secrets, before.size, before.root


def run_child(settings, courier, waybill, point):
    env = dict(os.environ, CRASH_AT=point, POSTGUARD_DATA_DIR=str(settings.data_dir),
               POSTGUARD_DATABASE_URL=str(settings.database_url),
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"),
                                           os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", CHILD, json.dumps(dataclasses.asdict(courier)), waybill],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def reveals_of(p, courier, waybill):
    with p.db.session() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.subject == waybill, AuditEntry.action == "reveal")
                         ).scalars().all()
    return [json.loads(r.entry) for r in rows if r.actor == courier.actor]


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_reveal_never_yields_plaintext_without_a_log_entry(world, point, monkeypatch, capsys):
    settings, courier, waybill, secrets, size_before, root_before = world
    child = run_child(settings, courier, waybill, point)

    if point == "none":
        assert child.returncode == 0, child.stderr
        assert json.loads(child.stdout)["recipient_phone"] == secrets[0]
    else:
        assert child.returncode == -signal.SIGKILL, child.stderr
    leaked = any(s in child.stdout or s in child.stderr for s in secrets)
    assert leaked == (point == "none")

    p = Platform(settings)  # reopen, as the restarted service would
    try:
        logged = reveals_of(p, courier, waybill)
        if leaked:  # the invariant itself
            assert [(e["purpose"], e["details"]["waybills"]) for e in logged] == [("delivery", [waybill])]
        # and, point by point, exactly what the crash left behind
        assert len(logged) == (0 if point == "before_commit" else 1)

        report = p.audit.verify()
        assert report.ok, report.problems
        size = report.entries
        assert size == size_before + len(logged)

        # the log after the crash extends the one signed before it
        c = p.audit.consistency(size_before, size)
        assert merkle.verify_consistency(size1=size_before, size2=size, root1=root_before,
                                         root2=base64.b64decode(c["root2"]),
                                         proof=[base64.b64decode(h) for h in c["proof"]])

        # the next append continues the sequence, and the CLI agrees the log is intact
        assert p.audit.append(actor="test", action="after_crash") == size
        from postguard.cli.main import main

        monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))
        monkeypatch.setattr("sys.argv", ["postguard", "audit", "verify"])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code
        assert code == 0, capsys.readouterr()
    finally:
        p.close()
