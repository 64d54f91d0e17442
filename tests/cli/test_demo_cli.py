"""The command line as someone trying the demo meets it: a command run where there is no data
directory stops instead of starting a new, empty installation (``init`` makes one on purpose, and
``serve --demo`` its own), the sample CSV the README imports, counts in the right number, and the
demo's numbers to try printed at start."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys

import pytest

from postguard.demo import DEMO_RECIPIENT
from tests.conftest import run_cli


def _postguard(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POSTGUARD_") or "PASSWORD" in k}
    return subprocess.run([sys.executable, "-m", "postguard", *args], cwd=cwd, env={**environ, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def test_a_command_where_there_is_no_data_directory_creates_nothing_until_init(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args in (("orgs", "list"), ("shipments", "stats", "--org", "DEMO"), ("serve", "--port", "1"), ("demo",)):
        refused = _postguard(*args, cwd=elsewhere)
        assert refused.returncode == 8, (args, refused.stderr)
        assert f"no postguard data directory at {elsewhere / 'var'}" in refused.stderr and "postguard init" in refused.stderr
        assert "Traceback" not in refused.stderr and list(elsewhere.iterdir()) == []  # nothing created
    made = _postguard("init", cwd=elsewhere)
    assert made.returncode == 0 and f"created a new postguard data directory at {elsewhere / 'var'}" in made.stdout
    assert {p.name for p in (elsewhere / "var").iterdir()} >= {"postguard.db", "kek.json"}
    assert (elsewhere / "var").stat().st_mode & 0o777 == 0o700
    assert _postguard("orgs", "list", cwd=elsewhere).returncode == 0
    again = _postguard("init", cwd=elsewhere)
    assert again.returncode == 0 and "is ready" in again.stdout  # nothing replaced
    other = tmp_path / "other-data"
    assert _postguard("orgs", "list", cwd=tmp_path, env={"POSTGUARD_DATA_DIR": str(other)}).returncode == 8
    assert not other.exists()


def test_serve_demo_makes_its_own_data_directory_and_prints_what_to_try(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("POSTGUARD_") and "PASSWORD" not in k]:
        monkeypatch.delenv(name)
    served = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: served.append(kw))
    code, out, err = run_cli(monkeypatch, capsys, "serve", "--demo", "--port", "8123")
    assert code == 0 and served and served[0]["port"] == 8123, err
    assert f"Created a new demo data directory at {tmp_path / 'var'}." in out
    assert "http://127.0.0.1:8123/kiem-tra-cuoc-goi" in out  # the address it serves on
    for what in ("reported scam number:", "official operator hotline:", "registered courier number:",
                 "printed on this console"):
        assert what in out, what
    assert re.search(rf"recipient of DM000000000: +{DEMO_RECIPIENT}", out)
    assert "3,000 shipments imported" in out
    code, out, _ = run_cli(monkeypatch, capsys, "serve", "--demo", "--port", "8123")
    assert code == 0 and "Created" not in out and "0 shipments imported (3,000 already present)" in out


@pytest.fixture
def run(settings, monkeypatch, capsys):
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))
    return lambda *args: run_cli(monkeypatch, capsys, *args)


def test_the_readme_sample_csv_imports_and_counts_read_right(run, tmp_path):
    sample = tmp_path / "shipments.csv"
    code, out, _ = run("shipments", "sample", str(sample))
    assert code == 0 and out.strip() == f"wrote 20 synthetic shipments to {sample}"
    rows = list(csv.DictReader(sample.open(encoding="utf-8")))
    assert [r["waybill"] for r in rows] == [f"DS{i:09d}" for i in range(20)]
    assert run("shipments", "sample", str(sample))[0] == 4  # not overwritten without --force
    assert run("shipments", "sample", str(sample), "--rows", "1", "--force")[0] == 0
    assert run("shipments", "sample", str(tmp_path / "x.csv"), "--prefix", "D/../S")[0] == 2
    run("shipments", "sample", str(sample), "--force")
    assert run("orgs", "create", "demo", "--name", "Bưu chính Thử", "--hotline", "1900 0000")[0] == 0
    code, out, _ = run("shipments", "import", str(sample), "--org", "DEMO")
    assert code == 0 and "imported: 20" in out and "invalid: 0" in out
    code, out, _ = run("labels", "print", "DS000000000", "--org", "DEMO", "--out", str(tmp_path / "l.pdf"))
    assert code == 0 and out.strip() == f"wrote 1 label to {tmp_path / 'l.pdf'}"
    code, out, _ = run("labels", "print", "DS000000000", "DS000000001", "--org", "DEMO", "--out",
                       str(tmp_path / "l.pdf"), "--site", "https://nhan.example.vn")
    assert code == 0 and out.strip() == f"wrote 2 labels to {tmp_path / 'l.pdf'}"
    for bad in ("javascript:alert(1)", "https://a b", "nhan.example.vn"):
        code, _, err = run("labels", "print", "DS000000000", "--org", "DEMO", "--site", bad)
        assert code == 2 and "--site" in err
