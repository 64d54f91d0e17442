"""The access log anchored outside its database: a witness (a real HTTP server on 127.0.0.1) co-signs
its checkpoints, and ``audit verify`` catches a wiped, truncated, rolled-back or forked log against
the witness or against the checkpoint it pinned on its last run."""

import json
import socket
import threading
import time

import pytest
import uvicorn
from sqlalchemy import func, select, text

from postguard.api.witness import create_witness_app
from postguard.audit.models import AuditCheckpoint, AuditCosignature
from postguard.audit.witness import Witness, add_signature_lines, verify_cosignature
from postguard.errors import AuditTampered
from postguard.platform import Platform
from postguard.privacy.proofs import verify_bundle
from tests.integration.test_audit import fill, run_cli

TABLES = ("audit_cosignatures", "audit_checkpoints", "audit_entries")


class Served:
    """A witness served by uvicorn in a thread, on a socket bound beforehand."""

    def __init__(self, witness: Witness, sock: socket.socket) -> None:
        self.witness, self.sock = witness, sock
        self.server = uvicorn.Server(uvicorn.Config(create_witness_app(witness), log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "witness did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


METRICS_TOKEN = "w" * 32


@pytest.fixture
def world(make_settings, tmp_path, monkeypatch):
    """A platform whose access log has one witness (its own directory, its own key, served over
    HTTP); yields (platform, served witness, witness key, settings)."""
    wdir = tmp_path / "witness"
    wkey = Witness.init(wdir, "witness.test")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    settings = make_settings(audit_witnesses=[f"http://127.0.0.1:{sock.getsockname()[1]} {wkey}"],
                             metrics_token=METRICS_TOKEN)
    monkeypatch.setenv("POSTGUARD_AUDIT_WITNESSES", json.dumps(settings.audit_witnesses))  # for the CLI
    p = Platform(settings)
    with Served(Witness(wdir, [p.audit.verifier_key()]), sock) as served:
        yield p, served, wkey, settings
    p.close()


def witnessed(p, n):
    """Append ``n`` entries, sign a checkpoint and have it co-signed."""
    fill(p.audit, n)
    cp = p.audit.checkpoint()
    assert p.witnessing.submit() == {next(iter(p.witnessing.stats)): f"ok {cp.size}"}
    return cp


def snapshot(p):
    with p.db.engine.connect() as c:
        return {t: [dict(r) for r in c.execute(text(f"SELECT * FROM {t}")).mappings()] for t in TABLES}


def restore(p, snap):
    with p.db.engine.begin() as c:
        for t in TABLES:
            c.execute(text(f"DELETE FROM {t}"))
        for t in reversed(TABLES):
            for row in snap[t]:
                c.execute(text(f"INSERT INTO {t} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)


@pytest.mark.both_databases
def test_checkpoints_are_cosigned_and_verify_holds_against_the_witness(world, monkeypatch, capsys):
    p, served, wkey, settings = world
    witnessed(p, 5)
    cp = witnessed(p, 7)
    with p.db.session() as s:
        rows = s.execute(select(AuditCosignature)).scalars().all()
    assert [r.size for r in rows] == [5, 12]
    note = p.witnessing.cosigned_note(cp)
    assert verify_cosignature(note, witness_key=wkey) == rows[1].signed_at
    assert served.witness.state(p.audit.origin).size == 12
    assert p.witnessing.status()["witnesses"][0]["behind"] == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, settings, "audit", "verify", "--witness", wkey) == 0
    out = capsys.readouterr().out
    assert "ok: 12 entries" in out and "witness witness.test" in out and "(size 12)" in out


def _attack(p, how, snap, settings):
    """Tamper with the log as the database's owner could; returns a worker started afterwards."""
    if how == "wipe":  # every entry, checkpoint and cosignature
        with p.db.engine.begin() as c:
            for t in TABLES:
                c.execute(text(f"DELETE FROM {t}"))
    elif how == "truncate":  # the last 112 entries with their checkpoints and cosignatures
        with p.db.engine.begin() as c:
            c.execute(text("DELETE FROM audit_entries WHERE idx >= 8"))
            c.execute(text("DELETE FROM audit_checkpoints WHERE size > 8"))
            c.execute(text("DELETE FROM audit_cosignatures WHERE size > 8"))
    else:  # rollback: an older copy of the log, consistent in itself
        restore(p, snap)
    worker = Platform(settings)
    if how == "fork":  # and other entries past the witnessed size
        fill(worker.audit, 130)
        worker.audit.checkpoint()
    return worker


@pytest.mark.parametrize("how", ["wipe", "truncate", "rollback", "fork"])
@pytest.mark.parametrize("anchor", ["witness", "pin"])
def test_verify_catches_a_wiped_truncated_rolled_back_or_forked_log(world, monkeypatch, capsys, request, how,
                                                                    anchor):
    p, served, wkey, settings = world
    witnessed(p, 8)
    snap = snapshot(p)
    witnessed(p, 50)
    witnessed(p, 62)  # 120 entries, the last co-signed checkpoint covers all of them
    if anchor == "pin":  # an auditor's earlier run pinned the latest checkpoint
        assert run_cli(monkeypatch, settings, "audit", "verify") == 0
    capsys.readouterr()
    worker = _attack(p, how, snap, settings)
    request.addfinalizer(worker.close)
    # the database alone cannot tell: what is left is consistent in itself
    assert worker.audit.verify().ok
    args = ("--witness", wkey, "--no-pin") if anchor == "witness" else ()
    assert run_cli(monkeypatch, settings, "audit", "verify", *args) == 12
    err = capsys.readouterr().err
    source = "witness witness.test" if anchor == "witness" else "pinned"
    if how == "fork":
        assert "entries up to 120 differ from" in err and source in err, err
    else:
        left = {"wipe": 0, "truncate": 8, "rollback": 8}[how]
        assert f"the log holds {left} entries but" in err and "covers 120" in err and source in err, err
        assert f"first bad entry: {left}" in err
    if how == "fork":  # and the witness refuses to co-sign the forked log
        result = worker.witnessing.submit()
        assert next(iter(result.values())).startswith("failed")
        assert served.witness.state(p.audit.origin).size == 120


def test_verify_without_any_cosignature_is_refused(world, monkeypatch, capsys):
    p, served, wkey, settings = world
    fill(p.audit, 3)
    p.audit.checkpoint()  # never submitted: the witness knows nothing of this log
    capsys.readouterr()
    assert run_cli(monkeypatch, settings, "audit", "verify", "--witness", wkey, "--no-pin") == 12
    assert "no checkpoint co-signed by witness witness.test" in capsys.readouterr().err


@pytest.mark.both_databases
def test_two_log_workers_submitting_at_once_keep_the_witness_consistent(world, settings):
    """Two workers (two platforms on one database) append and submit concurrently: every answer is a
    valid cosignature, the witness's state ends at the latest checkpoint, and never went back."""
    p, served, wkey, settings = world
    other = Platform(settings)
    saved, save = [], served.witness._save

    def recording_save(st):  # the witness's successive states, in the order written
        saved.append(st.size)
        save(st)

    served.witness._save = recording_save
    try:
        errors, barrier = [], threading.Barrier(2)

        def work(platform):
            try:
                for _ in range(6):
                    fill(platform.audit, 3)
                    platform.audit.checkpoint()
                    barrier.wait()
                    platform.witnessing.submit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(x,)) for x in (p, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        p.witnessing.submit()
        with p.db.session() as s:
            latest = s.execute(select(func.max(AuditCheckpoint.size))).scalar_one()
            rows = s.execute(select(AuditCosignature, AuditCheckpoint.note).join(
                AuditCheckpoint, AuditCheckpoint.size == AuditCosignature.size)).all()
        assert latest == 36
        assert saved == sorted(saved), saved  # the witness never went back
        st = served.witness.state(p.audit.origin)
        with p.db.session() as s:
            assert (st.size, st.root) == (36, p.audit._sync(s).root(36))
        for row, note in rows:
            assert verify_cosignature(add_signature_lines(note, row.line), witness_key=wkey)
        assert p.witnessing.verify(witnesses=[wkey])[0].ok
    finally:
        other.close()


def test_a_failing_witness_never_blocks_logging_and_is_visible(make_settings, tmp_path):
    wkey = Witness.init(tmp_path / "w", "witness.test")
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    p = Platform(make_settings(audit_witnesses=[f"http://127.0.0.1:{dead.getsockname()[1]} {wkey}"],
                               audit_witness_timeout_seconds=1))
    try:
        fill(p.audit, 4)
        p.audit.checkpoint()
        result = p.witnessing.submit()
        assert next(iter(result.values())).startswith("failed")
        assert p.audit.append(actor="staff:1", action="reveal", org_id=1, subject="WB1") == 4
        status = p.witnessing.status()
        assert status["witnesses"][0]["behind"] == 4 and status["witnesses"][0]["last_error"]
        from postguard.audit.witnessing import WitnessMetrics

        metrics = {m.name: m for m in WitnessMetrics(p.witnessing).collect()}
        assert metrics["postguard_audit_witness_failures"].samples[0].value == 1
    finally:
        p.close()
        dead.close()


def test_citizen_proofs_carry_cosignatures_checked_offline(world, faker):
    import io

    from tests.conftest import csv_bytes

    p, served, wkey, settings = world
    p.orgs.create(code="VNP", name="Bưu điện")
    rows = list(faker.rows(1))
    rows[0]["recipient_phone"] = "0912345678"
    p.shipments.import_csv(p.orgs.principal("VNP", actor="test"), io.BytesIO(csv_bytes(rows)))
    p.privacy.my_data("+84912345678")
    witnessed(p, 1)
    answer = p.privacy.my_data("+84912345678")  # this view is logged: a newer, not yet co-signed checkpoint
    assert answer["witnessed"]["tree_size"] < answer["tree_size"]
    size, results = verify_bundle(answer, witnesses=[wkey])
    assert size == answer["tree_size"] and results and all(r.ok for r in results)
    stranger = Witness.init(settings.data_dir / "stranger", "stranger.test")
    with pytest.raises(AuditTampered):
        verify_bundle(answer, witnesses=[stranger])
    with pytest.raises(AuditTampered):
        verify_bundle({**answer, "witnessed": None}, witnesses=[wkey])
    forged = {**answer, "witnessed": {**answer["witnessed"], "consistency": answer["witnessed"]["consistency"][:-1]}}
    with pytest.raises(AuditTampered):
        verify_bundle(forged, witnesses=[wkey])
    # once co-signed, the checkpoint itself carries the cosignature
    p.witnessing.submit()
    with p.db.session() as s:
        cp = s.get(AuditCheckpoint, answer["tree_size"])
    direct = {**answer, "checkpoint": p.witnessing.cosigned_note(cp), "witnessed": None}
    assert all(r.ok for r in verify_bundle(direct, witnesses=[wkey])[1])


@pytest.mark.both_databases
def test_the_server_submits_new_checkpoints_by_itself(world):
    from starlette.testclient import TestClient

    from postguard.app import create_app

    p, served, wkey, settings = world
    fill(p.audit, 5)
    with TestClient(create_app(settings, platform=p)) as client:
        deadline = time.monotonic() + 15
        while p.witnessing.cosigned_size(p.witnessing.witnesses[0].ident) < 5:  # stored with the log
            assert time.monotonic() < deadline, "no checkpoint was co-signed"
            time.sleep(0.1)
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        note = client.get("/v1/audit/checkpoint").text
    assert 'postguard_audit_witness_cosignatures_total{witness="witness.test+' in metrics
    assert verify_cosignature(note, witness_key=wkey)  # the public checkpoint carries the cosignature
    assert served.witness.state(p.audit.origin).size == 5


def test_verify_anchors_on_the_witness_itself_never_on_cosignatures_kept_in_the_database(world, monkeypatch,
                                                                                         capsys):
    """An auditor without the witness configured: a rolled-back database still holds the (older)
    cosignatures that match it, so only the witness's own answer can catch the rollback."""
    p, served, wkey, settings = world
    witnessed(p, 3)
    snap = snapshot(p)
    witnessed(p, 3)  # 6 entries, co-signed
    restore(p, snap)  # the size-3 copy, with its valid cosignature
    monkeypatch.delenv("POSTGUARD_AUDIT_WITNESSES")  # this auditor has no witness configured
    url = settings.audit_witnesses[0].split()[0]
    capsys.readouterr()
    # a key alone, with no URL known for it: refused, never checked against the stored cosignatures
    assert run_cli(monkeypatch, settings, "audit", "verify", "--witness", wkey, "--no-pin") == 2
    err = capsys.readouterr().err
    assert "No URL is known for witness witness.test+" in err and "'<URL> <witness verifier key>'" in err, err
    # with the witness's URL: the witness answers size 6 and the rollback is caught
    assert run_cli(monkeypatch, settings, "audit", "verify", "--witness", f"{url} {wkey}", "--no-pin") == 12
    err = capsys.readouterr().err
    assert "the log holds 3 entries but the checkpoint witness witness.test" in err and "covers 6" in err, err
    # a configured witness's key alone is asked at its configured URL
    monkeypatch.setenv("POSTGUARD_AUDIT_WITNESSES", json.dumps(settings.audit_witnesses))
    assert run_cli(monkeypatch, settings, "audit", "verify", "--witness", wkey, "--no-pin") == 12
    assert "covers 6" in capsys.readouterr().err
    # a witness that is not a URL and a key is a clear error
    assert run_cli(monkeypatch, settings, "audit", "verify", "--witness", f"ftp://x {wkey}", "--no-pin") == 2
    assert "a witness is '<http(s) URL> <witness verifier key>'" in capsys.readouterr().err


@pytest.mark.both_databases
def test_a_log_started_afresh_under_a_new_key_is_caught_by_the_pin(world, monkeypatch, capsys, request):
    """Deleting the log with its signing and MAC keys makes a new log key: the default pin is named
    after the log's origin and database, not after that key, and records the key it pinned."""
    p, served, wkey, settings = world
    witnessed(p, 5)
    assert run_cli(monkeypatch, settings, "audit", "verify") == 0
    witnessed(p, 2)
    assert run_cli(monkeypatch, settings, "audit", "verify") == 0  # the pin moved to 7
    old_key = p.audit.verifier_key()
    with p.db.engine.begin() as c:
        for t in TABLES:
            c.execute(text(f"DELETE FROM {t}"))
        c.execute(text("DELETE FROM service_keys WHERE purpose IN ('audit-signing', 'audit-mac')"))
    capsys.readouterr()
    assert run_cli(monkeypatch, settings, "audit", "verify") == 12
    err = capsys.readouterr().err
    assert "the log's signing key changed since the pinned checkpoint" in err and old_key in err, err
    worker = Platform(settings)  # the log carries on under its new key
    request.addfinalizer(worker.close)
    fill(worker.audit, 2)
    worker.audit.checkpoint()
    assert worker.audit.verifier_key() != old_key and worker.audit.verify().ok
    assert run_cli(monkeypatch, settings, "audit", "verify") == 12  # still refused, the pin is unchanged
    assert "the log's signing key changed" in capsys.readouterr().err
    # the operator accepts the new key explicitly: pinned afresh, and checked against from then on
    assert run_cli(monkeypatch, settings, "audit", "verify", "--repin") == 0
    assert "re-pinned" in capsys.readouterr().out
    assert run_cli(monkeypatch, settings, "audit", "verify") == 0
    assert "(size 2)" in capsys.readouterr().out
    # --repin does not excuse a rollback under the same key
    with worker.db.engine.begin() as c:
        for t in TABLES:
            c.execute(text(f"DELETE FROM {t}"))
    assert run_cli(monkeypatch, settings, "audit", "verify", "--repin") == 12
    assert "the log holds 0 entries but" in capsys.readouterr().err
