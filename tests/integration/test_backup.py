"""Backup and the restore drill: a backup made while the platform runs restores into a new place, on
either database and across them, opens a record through the door and passes the access-log check; a
damaged archive, a wrong passphrase or a target that holds data restores nothing."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from postguard.crypto import passphrase
from postguard.db import backup
from postguard.models import metadata
from postguard.phones import normalize_phone
from postguard.platform import Platform
from tests.conftest import parcel_out_for_delivery, PgSchema, require_postgres, run_cli

pytestmark = pytest.mark.both_databases  # each database's own way of being copied: online backup, snapshot

PASSWORD = "correct horse battery"
SECRET = "a long backup passphrase"


@pytest.fixture(autouse=True)
def _quick_scrypt(monkeypatch):
    monkeypatch.setattr(passphrase, "LOG2_N", 12)  # the parameters travel with the blob; tests need not wait


@pytest.fixture
def world(make_settings, faker):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024)
    p = Platform(settings)
    courier, rows = parcel_out_for_delivery(p, faker, password=PASSWORD, rows=300)
    waybill = rows[0]["waybill"]
    p.access.reveal(courier, waybill=waybill, purpose="delivery")
    p.audit.checkpoint()
    yield p, courier, waybill, rows[0]
    p.close()


@pytest.fixture(params=["sqlite", "postgres"])
def new_place(request, tmp_path, monkeypatch):
    """Environment variables naming a new place: a new data directory, and a new SQLite file in it or an
    empty PostgreSQL schema."""
    place = tmp_path / "restored"
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(place))
    schema = None
    if request.param == "postgres":
        require_postgres()
        schema = PgSchema()
        monkeypatch.setenv("POSTGUARD_DATABASE_URL", schema.url)
    else:
        monkeypatch.delenv("POSTGUARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTGUARD_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("POSTGUARD_PASSWORD_MEMORY_KIB", "1024")
    yield place
    if schema:
        schema.drop()


def _backup(p, out: Path) -> backup.Manifest:
    return backup.create(p.db.engine, metadata, out, key_file=Path(str(p.settings.key_file)).read_bytes(),
                         passphrase=SECRET.encode())


def test_restore_drill_into_a_new_place_decrypts_and_verifies(world, new_place, tmp_path, monkeypatch, capsys):
    p, courier, waybill, row = world
    out = tmp_path / "backup.tar.gz"
    manifest = _backup(p, out)
    assert out.stat().st_mode & 0o077 == 0
    assert manifest.tables["shipments"] == 300 and manifest.key_file
    log_size = p.audit.verify().entries
    p.access.reveal(courier, waybill=waybill, purpose="delivery")  # after the backup: not in it
    (tmp_path / "pw").write_text(SECRET + "\n")

    code, out_text, err = run_cli(monkeypatch, capsys, "backup", "restore", str(out), "--passphrase-file",
                                  str(tmp_path / "pw"))
    assert code == 0, err
    assert "restored " in out_text and "postguard audit verify" in out_text
    code, out_text, err = run_cli(monkeypatch, capsys, "audit", "verify")
    assert code == 0 and out_text.startswith(f"ok: {log_size} entries"), (out_text, err)

    from postguard.settings import Settings

    q = Platform(Settings())
    try:
        assert q.db.dialect == ("postgresql" if os.environ.get("POSTGUARD_DATABASE_URL") else "sqlite")
        opened = q.access.reveal(courier, waybill=waybill, purpose="delivery")
        assert opened["recipient_phone"] == normalize_phone(row["recipient_phone"])
        report = q.audit.verify()
        assert report.ok and report.entries == log_size + 1  # the restored log goes on from where the backup was
        q.orgs.create(code="NEW", name="Mới")  # ids continue past the restored ones
    finally:
        q.close()


def test_nothing_is_restored_from_a_damaged_archive_or_with_a_wrong_passphrase(world, tmp_path):
    p, *_ = world
    out = tmp_path / "backup.tar.gz"
    _backup(p, out)
    with pytest.raises(backup.InvalidInput, match="already exists"):
        _backup(p, out)
    work = tmp_path / "w1"
    work.mkdir()
    with pytest.raises(backup.InvalidInput, match="wrong passphrase|does not open"):
        backup.open_archive(out, work, passphrase=b"not the passphrase at all")
    # one byte of one member changed, the archive rebuilt around it: its digest no longer matches
    with tarfile.open(out, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    data = next(n for n in members if n != "manifest.json" and n != "key.sealed")
    members[data] = members[data][:-2] + bytes([members[data][-2] ^ 1]) + members[data][-1:]
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    work = tmp_path / "w2"
    work.mkdir()
    with pytest.raises(backup.InvalidInput, match="does not match its digest"):
        backup.open_archive(damaged, work, passphrase=SECRET.encode())
    for junk in (b"", b"not a tar at all", out.read_bytes()[:200]):
        (tmp_path / "junk").write_bytes(junk)
        with pytest.raises(backup.InvalidInput, match="not a postguard backup"):
            backup.open_archive(tmp_path / "junk", work, passphrase=SECRET.encode())


def test_a_target_that_holds_data_is_refused(world, tmp_path):
    p, *_ = world
    out = tmp_path / "backup.tar.gz"
    _backup(p, out)
    work = tmp_path / "w"
    work.mkdir()
    opened = backup.open_archive(out, work, passphrase=SECRET.encode())
    with pytest.raises(backup.ConfigurationError, match="already holds data"):
        backup.refuse_if_not_empty(p.db.engine, metadata)
    assert opened.manifest.tables["shipments"] == 300
