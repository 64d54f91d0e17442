"""The CLI end to end, in process: commands, the error rendering and exit codes, the progress bar."""

import json

import pytest
from pypdf import PdfReader

from tests.conftest import csv_bytes, run_cli


@pytest.fixture
def run(settings, monkeypatch, capsys):
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))

    def call(*args, stdin: str | None = None):
        return run_cli(monkeypatch, capsys, *args, stdin=stdin)

    return call


@pytest.mark.both_databases
def test_operator_workflow(run, tmp_path, faker):
    assert run("orgs", "create", "vnpost", "--name", "Bưu điện Thử")[0] == 0
    code, out, _ = run("keys", "api", "create", "--org", "VNPOST", "--scope", "shipments:read")
    assert code == 0 and "pgk_" in out
    rows = list(faker.rows(12))
    rows[3]["sender_phone"] = "12"
    csv = tmp_path / "in.csv"
    csv.write_bytes(csv_bytes(rows, bom=True))
    code, out, err = run("shipments", "import", str(csv), "--org", "VNPOST", "--errors-out", str(tmp_path / "e.json"))
    assert code == 2 and "imported: 11" in out and "invalid: 1" in out
    line = next(x for x in err.splitlines() if "sender_phone" in x)
    assert line.strip() == "line 5: sender_phone: phone number has the wrong number of digits for Viet Nam"
    assert json.loads((tmp_path / "e.json").read_text())[0]["field"] == "sender_phone"
    code, out, _ = run("shipments", "import", str(csv), "--org", "VNPOST")
    assert "imported: 0" in out and "already present: 11" in out
    code, out, _ = run("shipments", "get", rows[0]["waybill"], "--org", "VNPOST")
    assert code == 0 and json.loads(out)["recipient"]["phone"].startswith("*******")
    code, out, _ = run("shipments", "search", "--org", "VNPOST", stdin=rows[0]["recipient_phone"] + "\n")
    assert code == 0 and rows[0]["waybill"] in out
    pdf = tmp_path / "labels.pdf"
    code, out, _ = run("labels", "print", rows[0]["waybill"], rows[1]["waybill"], "--org", "VNPOST", "--out", str(pdf))
    assert code == 0 and len(PdfReader(pdf).pages) == 2
    code, out, _ = run("keys", "rotate", "--org", "VNPOST")
    assert code == 0 and "re-wrapped 11 record keys" in out
    code, out, _ = run("shipments", "status", rows[0]["waybill"], "picked_up", "--org", "VNPOST")
    assert json.loads(out)["status"] == "picked_up"
    assert "shredded 0" in run("retention", "run")[1]
    assert run("db", "check")[0] == 0


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("shipments", "get", "NOPE1234", "--org", "NOSUCH"), 3, "error: No organisation with code NOSUCH."),
        (("orgs", "create", "!", "--name", "x"), 2, "code: 2-32 characters"),
        (("keys", "api", "create", "--org", "X", "--scope", "root"), 2, "scope: choose from"),
        (("nosuch",), 2, "No such command"),
    ],
)
def test_errors_are_one_line_and_an_exit_code(run, args, code, message):
    got, _, err = run(*args)
    assert got == code and message in err
    assert "Traceback" not in err


def test_import_reports_progress(platform, principal, faker, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(list(faker.rows(5000))))
    seen = []
    with path.open("rb") as f:
        platform.shipments.import_csv(principal, f, progress=seen.append)
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == path.stat().st_size


def test_demo_seed_is_idempotent_and_prints_a_key(run):
    code, out, _ = run("demo", "--shipments", "150")
    first = json.loads(out)
    assert code == 0 and first["imported"] == 150 and first["api_key"].startswith("pgk_")
    second = json.loads(run("demo", "--shipments", "150")[1])
    assert second["imported"] == 0 and second["already_present"] == 150 and second["api_key"] != first["api_key"]


def test_intel_export_import_and_warnings(run, tmp_path):
    from datetime import datetime, timedelta, timezone

    from stix2validator import ValidationOptions, validate_instance

    from postguard.intel.sharing import SharedIndicator, to_stix_bundle

    t = datetime.now(timezone.utc) - timedelta(days=3)
    bundle = to_stix_bundle([
        SharedIndicator("phone", "+84912345678", "confirmed", 0.9, t, t, 3, ("courier-impersonation",), "green"),
        SharedIndicator("bank_account", "970436:0123456789", "reported", 0.4, t, t, 1, (), "amber"),
    ], identity_name="partner")
    src = tmp_path / "in.json"
    src.write_text(json.dumps(bundle))
    assert run("orgs", "create", "BANKX", "--name", "Partner bank")[0] == 0
    code, out, _ = run("intel", "import", str(src), "--org", "BANKX")
    assert code == 0 and "added 2" in out
    assert "unchanged 2" in run("intel", "import", str(src), "--org", "BANKX")[1]
    stix = tmp_path / "out.json"
    code, out, _ = run("intel", "export", "--format", "stix", "--out", str(stix))
    assert code == 0 and "wrote 2 indicators" in out
    result = validate_instance(json.loads(stix.read_text()), ValidationOptions(version="2.1"))
    assert result.is_valid and not result.errors
    misp = tmp_path / "misp.json"
    assert run("intel", "export", "--format", "misp", "--out", str(misp))[0] == 0
    assert {o["name"] for o in json.loads(misp.read_text())["Event"]["Object"]} == {"phone-number", "bank-account"}
    assert run("intel", "export", "--format", "csv", "--out", str(misp))[0] != 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle"}')
    code, _, err = run("intel", "import", str(bad), "--org", "BANKX")
    assert code == 2 and "bundle" in err

    code, out, _ = run("warnings", "subscribe", "http://127.0.0.1:9/hook", "--label", "bank")
    assert code == 0 and "whsec_" in out
    (tmp_path / "vi.txt").write_text("Không chuyển tiền cho người lạ.", encoding="utf-8")
    (tmp_path / "en.txt").write_text("Do not send money to strangers.", encoding="utf-8")
    code, out, _ = run("warnings", "publish", "--category", "fake-fee", "--title-vi", "Phí giả", "--title-en",
                       "Fake fee", "--body-vi", str(tmp_path / "vi.txt"), "--body-en", str(tmp_path / "en.txt"),
                       "--author", "analyst")
    assert code == 0 and "published warning" in out
    code, out, _ = run("warnings", "deliver")
    assert code == 0 and "retrying 1" in out  # nothing listens on port 9
    code, out, _ = run("warnings", "subscribers")
    sub = json.loads(out)[0]
    assert run("warnings", "unsubscribe", sub["id"])[0] == 0
    code, out, _ = run("warnings", "publish", "--category", "nope", "--title-vi", "x", "--title-en", "x",
                       "--body-vi", str(tmp_path / "vi.txt"), "--body-en", str(tmp_path / "en.txt"),
                       "--author", "a")
    assert code == 2


def test_leak_detection_commands(run, tmp_path, faker):
    assert run("orgs", "create", "vnp", "--name", "Bưu điện")[0] == 0
    csv = tmp_path / "in.csv"
    csv.write_bytes(csv_bytes(list(faker.rows(3))))
    assert run("shipments", "import", str(csv), "--org", "VNP")[0] == 0
    numbers = [faker.phone_e164() for _ in range(2)]
    code, out, _ = run("canaries", "pool", "add", *numbers, "--org", "VNP")
    assert code == 0 and json.loads(out) == {"added": 2, "already_present": 0}
    code, out, err = run("canaries", "create", "--org", "VNP", "--channel", "courier:nobody")
    assert code == 2 and "channel: no courier staff named nobody" in err
    code, out, _ = run("canaries", "create", "--org", "VNP", "--channel", "export:march", "--phone", numbers[1])
    made = json.loads(out)
    assert code == 0 and made["channel"] == "export:march" and numbers[1] not in out
    listed = json.loads(run("canaries", "list", "--org", "VNP")[1])
    assert [(c["waybill"], c["channel"]) for c in listed] == [(made["waybill"], "export:march")]
    pool = json.loads(run("canaries", "pool", "list", "--org", "VNP")[1])
    assert [x["channel"] for x in pool] == [None, "export:march"] and numbers[0] not in json.dumps(pool)
    code, out, _ = run("anomalies", "scan", "--org", "VNP", "--since", "24h")
    assert code == 0 and json.loads(out) == []
    assert run("anomalies", "scan", "--org", "VNP", "--since", "yesterday")[0] == 2
    code, out, _ = run("leaks", "triangulate", made["waybill"], "--org", "VNP")
    assert code == 0 and json.loads(out)["candidates"] == []
    assert json.loads(run("alerts", "list", "--org", "VNP")[1])["items"] == []
    code, _, err = run("alerts", "ack", "99", "--org", "VNP")
    assert code == 3 and "No alert 99" in err


def test_triangulation_weighs_a_deletion_request_lookup_down_and_says_why(run, settings, faker):
    """The DPO completes a deletion request from the command line after the parcel was delivered: the
    lookup is listed below the courier's ordinary reveal, with its legal basis in the output."""
    import io
    from datetime import timedelta

    from postguard.db.base import utcnow
    from postguard.platform import Platform

    p = Platform(settings)
    try:
        p.orgs.create(code="VNP", name="Bưu điện")
        system = p.orgs.principal("VNP", actor="test")
        staff = {u: p.staff.create(org_code="VNP", username=u, display_name=u, role=r, password="mật khẩu đủ dài 123")
                 for u, r in [("hub", "hub"), ("binh", "courier"), ("dpo", "dpo")]}
        (row,) = faker.rows(1)
        p.shipments.import_csv(system, io.BytesIO(csv_bytes([row])))
        w = row["waybill"]
        for status in ("picked_up", "in_transit", "out_for_delivery"):
            p.shipments.set_status(system, w, status)
        now = utcnow()
        p.access.assign(staff["hub"], waybill=w, courier="binh", window_start=now - timedelta(hours=1),
                        window_end=now + timedelta(hours=1))
        p.access.reveal(staff["binh"], waybill=w, purpose="delivery")
        p.shipments.set_status(system, w, "delivered")
        ref = p.privacy.file_request(row["recipient_phone"], org_code="VNP", kind="deletion")["ref"]
    finally:
        p.close()
    assert run("dsr", "complete", ref, "--org", "VNP", "--by", "dpo")[0] == 0
    code, out, _ = run("leaks", "triangulate", w, "--org", "VNP")
    assert code == 0
    ranked = json.loads(out)["candidates"]
    assert [(c["username"], c["rank"], c["why"]) for c in ranked] == [
        ("binh", 1, "courier in the delivery window"),
        ("dpo", 2, ("lawful after delivery: data-subject request: the data-protection officer finding the "
                    f"person's shipments (request {ref}); weighted down"))]
    assert ranked[1]["accesses"][0]["lawful_basis"].endswith(f"(request {ref})")


def test_staff_accounts_from_the_command_line(run, settings):
    """An administrator creates staff (password from stdin, never an argument), an analyst at the
    platform organisation, refusals name the field; suspending ends sign-in; both are logged."""
    from sqlalchemy import select

    from postguard.audit.models import AuditEntry
    from postguard.errors import Unauthenticated
    from postguard.platform import Platform

    assert run("orgs", "create", "ghn", "--name", "Giao Hàng Thử")[0] == 0
    code, out, _ = run("staff", "create", "--org", "GHN", "--username", "Lan.Tran", "--name", "Trần Thị Lan",
                       "--role", "courier", "--password-stdin", stdin="mật khẩu đủ dài 123\n")
    assert code == 0 and "created courier lan.tran at GHN" in out
    code, out, _ = run("staff", "create", "--org", "PG-INTEL", "--username", "phan", "--name", "Phan Văn Minh",
                       "--role", "analyst", "--password-stdin", stdin="mật khẩu đủ dài 456\n")
    assert code == 0, out
    code, _, err = run("staff", "create", "--org", "GHN", "--username", "x", "--name", " ", "--role", "boss",
                       "--password-stdin", stdin="short\n")
    assert code == 2 and "username" in err and "role" in err and "password" in err and "display_name" in err
    code, _, err = run("staff", "create", "--org", "GHN", "--username", "lan.tran", "--name", "Lan",
                       "--role", "cs", "--password-stdin", stdin="mật khẩu đủ dài 789\n")
    assert code != 0 and "already exists" in err
    p = Platform(settings)
    try:
        assert p.staff.sign_in(org_code="GHN", username="lan.tran", password="mật khẩu đủ dài 123")
        assert run("staff", "status", "--org", "ghn", "--username", "lan.tran", "suspended")[0] == 0
        with pytest.raises(Unauthenticated):
            p.staff.sign_in(org_code="GHN", username="lan.tran", password="mật khẩu đủ dài 123")
        with p.db.read_session() as s:
            actions = [a for a in s.execute(select(AuditEntry.action)).scalars() if a.startswith("staff_")]
        assert actions == ["staff_created", "staff_created", "staff_status"]
    finally:
        p.close()
