"""``postguard takedown …`` end to end, in process: create, list, show, pack, send (the outbox), status,
and errors naming the field with their exit codes."""

import json
import os
import zipfile

from sqlalchemy import create_engine, text

from tests.cli import test_cli

run = test_cli.run  # the fixture


def test_takedown_workflow(run, tmp_path, monkeypatch):
    monkeypatch.setenv("POSTGUARD_TAKEDOWN_OUTBOX_DIR", str(tmp_path / "outbox"))
    png = tmp_path / "s.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"synthetic" * 10)
    code, _, err = run("intel", "report", "--value", "https://vnpost-phat-lai.com/otp", "--category", "fake_courier",
                       "--evidence", str(png), "--contact", "synthetic@example.org")
    assert code == 0, err
    code, out, err = run("takedown", "create", "--site", "https://vnpost-phat-lai.com/otp")
    assert code == 4 and "not confirmed" in err
    engine = create_engine(os.environ["POSTGUARD_DATABASE_URL"])  # the url indicator is the only one
    with engine.connect() as c:
        indicator = c.execute(text("SELECT id FROM intel_indicators WHERE type = 'url'")).scalar_one()
    engine.dispose()
    assert run("intel", "decide", str(indicator), "--action", "confirm")[0] == 0
    code, out, err = run("takedown", "create", "--indicator", str(indicator), "--hosting-email", "abuse@hosting.example",
                         "--reason", "Trang thu OTP giả mạo", "--by", "phantich")
    assert code == 0, err
    made = json.loads(out)
    ref = next(r["ref"] for r in made["requests"] if r["recipient"]["kind"] == "hosting")
    code, out, _ = run("takedown", "list", "--status", "draft")
    assert ref in {r["ref"] for r in json.loads(out)}
    pack = tmp_path / "pack.zip"
    code, out, err = run("takedown", "pack", ref, "--out", str(pack), "--by", "phantich")
    assert code == 0, err
    assert oct(pack.stat().st_mode & 0o777) == "0o600"
    assert "manifest.json" in zipfile.ZipFile(pack).namelist()
    code, out, err = run("takedown", "send", ref, "--by", "phantich")
    assert code == 0 and json.loads(out)["status"] == "sent", err
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    code, out, err = run("takedown", "status", ref, "draft")
    assert code == 2 and "status" in err
    code, out, err = run("takedown", "status", ref, "removed", "--note", "đã gỡ", "--by", "phantich")
    assert code == 0 and json.loads(out)["status"] == "removed"
    code, out, err = run("takedown", "status", ref, "refused")
    assert code == 4 and "is removed" in err
    code, out, _ = run("takedown", "show", ref)
    history = json.loads(out)["history"]
    assert [h["to"] for h in history] == ["draft", "sent", "removed"] and history[-1]["actor"] == "cli:phantich"
    code, out, err = run("takedown", "show", "TD-NOPE")
    assert code == 3
    code, out, err = run("takedown", "create", "--site", "0912 345 678")
    assert code == 2 and "site" in err and "Traceback" not in err
