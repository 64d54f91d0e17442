"""The access log on a real database: appends, checkpoints, proofs, and tamper detection."""

import base64
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DataError

from postguard.audit import merkle
from postguard.audit.checkpoint import open_checkpoint
from postguard.audit.models import AuditEntry
from postguard.errors import AuditUnavailable

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: the access-log writer


def b64(s):
    return base64.b64decode(s)


@pytest.fixture
def log(platform):
    return platform.audit


def fill(log, n):
    return [log.append(actor=f"staff:{i % 7}", action="reveal", org_id=1, subject=f"WB{i:06d}",
                       purpose="delivery", details={"fields": ["recipient_phone"]}) for i in range(n)]


def test_appends_are_numbered_and_proofs_verify_against_signed_checkpoints(log):
    assert fill(log, 25) == list(range(25))
    cp = log.checkpoint()
    assert cp.size == 25
    parsed = open_checkpoint(cp.note, verifier_key=log.verifier_key())
    for i in (0, 7, 24):
        p = log.inclusion(i)
        assert p["tree_size"] == 25 and p["entry"]["i"] == i and p["entry"]["subject"] == f"WB{i:06d}"
        assert merkle.verify_inclusion(leaf_hash=b64(p["leaf_hash"]), index=i, tree_size=25,
                                       proof=[b64(h) for h in p["proof"]], root=parsed.root)
    fill(log, 10)
    c = log.consistency(25, 35)
    assert merkle.verify_consistency(size1=25, size2=35, proof=[b64(h) for h in c["proof"]],
                                     root1=parsed.root, root2=b64(c["root2"]))
    assert log.verify().ok


def test_concurrent_appends_are_group_committed_without_gaps(log):
    got, errors = [], []

    def worker():
        try:
            got.extend(fill(log, 40))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(got) == list(range(320))
    assert log.verify().ok


def test_append_many_writes_consecutive_entries_in_one_transaction(platform, log, monkeypatch):
    fill(log, 3)
    commits = []
    real = platform.audit._write
    monkeypatch.setattr(platform.audit, "_write", lambda items: commits.append(len(items)) or real(items))
    entries = [{"actor": "staff:3", "action": "reveal", "org_id": 1, "subject": f"WB{i:06d}", "purpose": "delivery",
                "details": {"columns": ["recipient_phone"], "n": i}} for i in range(50)]
    assert log.append_many(entries) == list(range(3, 53))
    assert commits == [50]
    assert log.append_many([]) == [] and commits == [50]
    assert log.append(actor="x", action="login") == 53
    with platform.db.session() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.idx.between(3, 52)).order_by(AuditEntry.idx)).scalars().all()
    got = [json.loads(r.entry) for r in rows]
    assert [(g["i"], g["subject"], g["details"]["n"], g["org"]) for g in got] == [(i + 3, f"WB{i:06d}", i, 1) for i in range(50)]
    assert all(r.at == rows[0].at for r in rows)  # one transaction, one time
    assert log.verify().ok
    p = log.inclusion(40)
    assert p["entry"]["subject"] == "WB000037"


@pytest.mark.parametrize("bad, field", [
    ({"actor": "a", "action": "reveal", "details": {"x": 1.5}}, "entries[1].details.x"),
    ({"action": "reveal"}, "entries[1].actor"),
    ({"actor": "a", "action": "reveal", "colour": "red"}, "entries[1].colour"),
    ("reveal", "entries[1]"),
])
def test_append_many_refuses_a_bad_entry_naming_it_and_writes_nothing(log, bad, field):
    from postguard.errors import InvalidInput

    fill(log, 2)
    with pytest.raises(InvalidInput) as e:
        log.append_many([{"actor": "a", "action": "reveal"}, bad, {"actor": "b", "action": "reveal"}])
    assert e.value.errors[0].field == field
    assert log.append(actor="x", action="login") == 2
    assert log.verify().ok


def test_append_many_failure_leaves_none_of_the_entries(platform, log, monkeypatch):
    fill(log, 2)
    from postguard.audit import log as log_module

    def broken(dialect):  # the insert fails half-way through the transaction
        return "INSERT INTO no_such_table VALUES (1)"

    monkeypatch.setattr(log_module, "_insert_sql", broken)
    with pytest.raises(AuditUnavailable):
        log.append_many([{"actor": "a", "action": "reveal"}] * 10)
    monkeypatch.undo()
    with platform.db.session() as s:
        assert s.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() == 2
    assert log.append_many([{"actor": "a", "action": "reveal"}] * 3) == [2, 3, 4]
    assert log.verify().ok


def test_bulk_and_single_appends_interleave_without_gaps(log):
    got, errors = [], []

    def singles():
        try:
            got.extend(fill(log, 30))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def bulk():
        try:
            for _ in range(5):
                idx = log.append_many([{"actor": "bulk", "action": "export", "subject": f"B{i}"} for i in range(20)])
                assert idx == list(range(idx[0], idx[0] + 20))
                got.extend(idx)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=singles) for _ in range(4)] + [threading.Thread(target=bulk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(got) == list(range(4 * 30 + 2 * 5 * 20))
    assert log.verify().ok


def _tamper(platform, sql, **params):
    with platform.db.engine.begin() as c:
        c.execute(text(sql), params)


@pytest.mark.parametrize("how, first_bad", [
    ("edit", 5),
    ("edit_recomputed", 5),
    ("delete", 5),
    ("delete_tail", 18),
    ("insert", 20),
    ("reorder", 5),
    ("edit_column", 5),
    ("edit_at", 5),
    ("edit_at_text", 5),
])
def test_audit_verify_names_the_first_bad_entry(platform, log, how, first_bad, monkeypatch, capsys, settings):
    fill(log, 20)
    log.checkpoint()
    with platform.db.session() as s:
        body5 = s.get(AuditEntry, 5).entry
    if how == "edit":
        _tamper(platform, "UPDATE audit_entries SET entry = :e WHERE idx = 5",
                e=body5.replace("staff:5", "staff:6"))
    elif how == "edit_recomputed":  # the attacker recomputes the leaf hash too
        new = body5.replace('"reveal"', '"login"')
        _tamper(platform, "UPDATE audit_entries SET entry = :e, action = 'login', leaf_hash = :h WHERE idx = 5",
                e=new, h=merkle.leaf_hash(new.encode()))
    elif how == "delete":
        _tamper(platform, "DELETE FROM audit_entries WHERE idx = 5")
    elif how == "delete_tail":
        _tamper(platform, "DELETE FROM audit_entries WHERE idx >= 18")
    elif how == "insert":
        forged = json.loads(body5)
        forged["i"] = 20
        data = json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        with platform.db.engine.begin() as c:
            row = {k: v for k, v in c.execute(text("SELECT * FROM audit_entries WHERE idx = 5")).mappings().one().items()}
            row.update(idx=20, entry=data, leaf_hash=merkle.leaf_hash(data.encode()))
            c.execute(text(f"INSERT INTO audit_entries ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"),
                      row)
    elif how == "reorder":  # swap two entries' contents and hashes
        with platform.db.engine.begin() as c:
            r5 = c.execute(text("SELECT entry, leaf_hash, mac, actor FROM audit_entries WHERE idx = 5")).one()
            r6 = c.execute(text("SELECT entry, leaf_hash, mac, actor FROM audit_entries WHERE idx = 6")).one()
            for idx, r in ((5, r6), (6, r5)):
                c.execute(text("UPDATE audit_entries SET entry = :e, leaf_hash = :h, mac = :m, actor = :a, "
                               "subject = :s WHERE idx = :i"),
                          dict(e=r.entry, h=r.leaf_hash, m=r.mac, a=r.actor, s=json.loads(r.entry)["subject"], i=idx))
    elif how == "edit_column":
        _tamper(platform, "UPDATE audit_entries SET actor = 'staff:99' WHERE idx = 5")
    elif how == "edit_at":  # move a reveal out of the window anomaly scans and triangulation read
        with platform.db.session() as s:
            at = s.get(AuditEntry, 5).at
        _tamper(platform, "UPDATE audit_entries SET at = :t WHERE idx = 5", t=at - timedelta(days=3))
    elif how == "edit_at_text":  # SQLite keeps any text in a time column; PostgreSQL refuses it
        if platform.db.dialect != "sqlite":
            with pytest.raises(DataError):
                _tamper(platform, "UPDATE audit_entries SET at = 'yesterday-ish' WHERE idx = 5")
            return
        _tamper(platform, "UPDATE audit_entries SET at = 'yesterday-ish' WHERE idx = 5")
    report = log.verify()
    assert not report.ok
    assert report.first_bad.index == first_bad, report.problems
    # and the command says so, from a fresh process's point of view (its own platform)
    assert run_cli(monkeypatch, settings, "audit", "verify") == 12
    assert f"first bad entry: {first_bad}" in capsys.readouterr().err


def run_cli(monkeypatch, settings, *args):
    from postguard.cli.main import main

    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))
    monkeypatch.setattr("sys.argv", ["postguard", *args])
    try:
        main()
        return 0
    except SystemExit as e:
        return e.code


def test_cli_audit_verify_exit_code(platform, log, monkeypatch, capsys, settings):
    from postguard.cli.main import main

    fill(log, 5)
    log.checkpoint()
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))

    def run(*args):
        monkeypatch.setattr("sys.argv", ["postguard", *args])
        try:
            main()
            return 0
        except SystemExit as e:
            return e.code

    assert run("audit", "verify") == 0
    _tamper(platform, "UPDATE audit_entries SET subject = 'WB999999' WHERE idx = 3")
    assert run("audit", "verify") == 12
    assert "first bad entry: 3" in capsys.readouterr().err


def test_a_failed_append_raises_and_leaves_no_entry(platform, log, monkeypatch):
    fill(log, 3)

    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(platform.audit, "_sync", broken)
    with pytest.raises(AuditUnavailable):
        log.append(actor="x", action="reveal")
    monkeypatch.undo()
    assert log.append(actor="x", action="reveal") == 3
    assert log.verify().ok


def test_phone_search_is_logged_before_anything_is_decrypted(platform, principal, faker, monkeypatch):
    import io

    from tests.conftest import csv_bytes

    rows = list(faker.rows(5))
    platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    found = platform.shipments.search_by_phone(principal, rows[2]["recipient_phone"])
    assert [f["waybill"] for f in found] == [rows[2]["waybill"]]
    with platform.db.session() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one()
    entry = json.loads(last.entry)
    assert (entry["action"], entry["purpose"], entry["actor"]) == ("reveal", "phone_search", "test")
    assert rows[2]["waybill"] in entry["details"]["waybills"]
    assert rows[2]["recipient_phone"] not in last.entry  # the log names records, never the number

    # fail closed: when the log cannot be written, nothing is decrypted and the search fails
    opened = []
    real_open = platform.vault._open_record
    monkeypatch.setattr(platform.vault, "_open_record", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    monkeypatch.setattr(platform.audit, "_write", lambda entries: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(AuditUnavailable):
        platform.shipments.search_by_phone(principal, rows[2]["recipient_phone"])
    assert opened == []
