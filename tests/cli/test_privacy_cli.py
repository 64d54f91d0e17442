"""The DPO's commands end to end: requests (list, ack, export, complete with a receipt), incidents,
and checking downloaded proofs offline."""

import io
import json
import stat

import pytest

from postguard.platform import Platform
from tests.cli.test_cli import run  # noqa: F401 (fixture)
from tests.conftest import csv_bytes

ME = "+84912345678"


@pytest.fixture
def setup(settings, faker, capsys):
    p = Platform(settings)
    p.orgs.create(code="VNP", name="Bưu điện")
    p.staff.create(org_code="VNP", username="dpo", display_name="Lê Thị Hoa", role="dpo", password="x" * 12)
    p.staff.create(org_code="VNP", username="boss", display_name="Trần Văn Nam", role="admin", password="x" * 12)
    system = p.orgs.principal("VNP", actor="test")
    rows = list(faker.rows(3))
    rows[0]["recipient_phone"] = "0912345678"
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    p.shipments.set_status(system, rows[0]["waybill"], "cancelled")
    access = p.privacy.file_request(ME, org_code="VNP", kind="access")["ref"]
    deletion = p.privacy.file_request(ME, org_code="VNP", kind="deletion")["ref"]
    capsys.readouterr()  # the set-up's log lines are not the commands' output
    yield p, rows, access, deletion
    p.close()


def test_requests_and_receipt_proofs(run, setup, tmp_path):  # noqa: F811
    _, rows, access, deletion = setup
    code, out, _ = run("dsr", "list", "--org", "VNP", "--by", "dpo")
    assert code == 0 and {r["ref"] for r in json.loads(out)} == {access, deletion}
    code, out, _ = run("dsr", "ack", access, "--org", "VNP", "--by", "dpo")
    assert code == 0 and json.loads(out)["status"] == "acknowledged"
    assert run("dsr", "ack", access, "--org", "VNP", "--by", "dpo")[0] == 4  # already acknowledged
    assert run("dsr", "ack", deletion, "--org", "VNP", "--by", "boss")[0] == 6  # not the DPO

    target = tmp_path / "export.json"
    code, out, _ = run("dsr", "export", access, "--org", "VNP", "--by", "dpo", "--out", str(target))
    assert code == 0 and stat.S_IMODE(target.stat().st_mode) == 0o600
    export = json.loads(target.read_text())
    assert export["shipments"][0]["personal_data"]["recipient_name"] == rows[0]["recipient_name"]
    code, out, _ = run("audit", "check-proofs", str(target))
    assert code == 0 and out.startswith("ok:")

    code, out, _ = run("dsr", "complete", deletion, "--org", "VNP", "--by", "dpo")
    done = json.loads(out)
    assert code == 0 and done["status"] == "completed" and done["receipt"]["waybills"] == [rows[0]["waybill"]]
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(done["receipt"]["proof"]))
    code, out, _ = run("audit", "check-proofs", str(receipt))
    assert code == 0 and "1 proof verified" in out
    forged = dict(done["receipt"]["proof"])
    forged["entry"] = {**forged["entry"], "details": {**forged["entry"]["details"], "waybills": []}}
    receipt.write_text(json.dumps(forged))
    code, _, err = run("audit", "check-proofs", str(receipt))
    assert code == 12 and "does not match its leaf hash" in err


def test_incidents(run, setup):  # noqa: F811
    code, out, _ = run("incidents", "create", "--org", "VNP", "--by", "dpo", "--detected-at", "2026-01-05T08:00",
                       "--description", "Lộ danh sách giao hàng", "--affected", "250")
    created = json.loads(out)
    assert code == 0 and created["detected_at"] == "2026-01-05T01:00:00+00:00" and created["overdue"]
    code, out, _ = run("incidents", "list", "--org", "VNP", "--by", "dpo")
    assert [i["ref"] for i in json.loads(out)] == [created["ref"]]
    code, out, _ = run("incidents", "notify", created["ref"], "--org", "VNP", "--by", "dpo")
    assert code == 0 and json.loads(out)["clock"] == "late"
    code, _, err = run("incidents", "create", "--org", "VNP", "--by", "dpo", "--detected-at", "soon",
                       "--description", "x")
    assert code == 2 and "detected_at" in err
