"""``postguard senders``: import sent notifications from a CSV (errors name the line and field), list and match."""

import json

from typer.testing import CliRunner

from postguard.cli.main import app
from postguard.intel.seed import seed_official
from postguard.platform import Platform
from postguard.senders.seed import seed_senders


def test_import_notifications_and_match(settings, tmp_path, monkeypatch):
    p = Platform(settings)
    seed_official(p.intel, p.orgs)
    seed_senders(p.senders, p.intel)
    t = p.senders.template_list(org_code="VIETTELPOST", status="verified")[1]
    p.close()
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    good = tmp_path / "sent.csv"
    good.write_text("template_id,phone,sent_at,waybill,time,date,hotline\n"
                    f"{t['id']},0912345678,2025-12-05T10:42:00+07:00,VTP123456789,10:42,06/12/2025,1900 8095\n"
                    f"{t['id']},0912345678,2025-12-05T10:42:00+07:00,VTP123456789,10:42,06/12/2025,1900 8095\n",
                    encoding="utf-8")
    r = runner.invoke(app, ["senders", "import-notifications", str(good), "--org", "VIETTELPOST"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"received": 2, "recorded": 1, "already_recorded": 1}
    bad = tmp_path / "bad.csv"
    bad.write_text(f"template_id,phone,sent_at,waybill,time,date,hotline\n{t['id']},12,2025-12-05T10:42:00+07:00,"
                   "VTP1,10:42,06/12/2025,1900 8095\n", encoding="utf-8")
    r = runner.invoke(app, ["senders", "import-notifications", str(bad), "--org", "VIETTELPOST"])
    assert r.exit_code != 0 and r.exception.errors[0].field == "line 2.phone"  # main() prints it, no traceback
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    r = runner.invoke(app, ["senders", "import-notifications", str(binary), "--org", "VIETTELPOST"])
    assert r.exit_code != 0 and r.exception.errors[0].field == "file"
    r = runner.invoke(app, ["senders", "match", "ViettelPost: chuyen khoan 30.000d phi luu kho"])
    assert r.exit_code == 0 and json.loads(r.output)["outcome"] == "suspicious"


def test_the_sender_on_the_command_line_and_template_status_changes(settings, monkeypatch):
    from postguard.errors import Conflict

    p = Platform(settings)
    seed_official(p.intel, p.orgs)
    seed_senders(p.senders, p.intel)
    t = p.senders.template_list(org_code="VIETTELPOST", status="verified")[0]
    p.close()
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    fake = "Don hang cua ban dang bi giu, vui long lien he lai de xac nhan dia chi giao hang."
    r = runner.invoke(app, ["messages", "check", "--text", fake, "--sender", "ViettelPost"])
    assert r.exit_code == 0, r.output
    answer = json.loads(r.output)
    assert answer["operator"]["outcome"] == "suspicious" and answer["operator"]["reasons"] == ["sender_no_template"]
    assert "operator_suspicious" in {x["code"] for x in answer["reasons"]}
    r = runner.invoke(app, ["messages", "check", "--text", fake, "--sender", "x" * 101])
    assert r.exit_code != 0 and r.exception.errors[0].field == "sender"  # main() prints it, no traceback
    r = runner.invoke(app, ["senders", "match", fake, "--sender", "ViettelPost"])
    assert r.exit_code == 0 and json.loads(r.output)["reasons"] == ["sender_no_template"]
    r = runner.invoke(app, ["senders", "template-verify", str(t["id"]), "--revoke"])
    assert r.exit_code == 0 and json.loads(r.output)["status"] == "revoked"
    r = runner.invoke(app, ["senders", "template-verify", str(t["id"])])  # revoked is final
    assert r.exit_code != 0 and isinstance(r.exception, Conflict)
