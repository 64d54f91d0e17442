"""``postguard shipments import`` says how it read a file and what it did not print: the separator and
encoding it used, a file with no rows, and how many errors and rows are left after the first 20."""

from __future__ import annotations

import json

import pytest

from postguard.shipments.validation import COLUMNS
from tests.conftest import csv_bytes, run_cli
from tests.integration.test_import import cp1258, delimited


@pytest.fixture
def run(settings, monkeypatch, capsys):
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("COLUMNS", "200")

    def call(*args):
        return run_cli(monkeypatch, capsys, *args)

    assert call("orgs", "create", "vnpost", "--name", "Bưu điện Thử")[0] == 0
    return call


def test_cli_import_prints_how_many_errors_it_did_not_show(run, tmp_path, faker):
    """Finding: only 20 errors printed, with no word of the rest."""
    rows = list(faker.rows(30))
    for r in rows[:25]:  # 25 invalid rows, two errors each: 20 shown, 30 more in 15 more rows
        r["sender_phone"], r["weight_grams"] = "12", ""
    (tmp_path / "bad.csv").write_bytes(csv_bytes(rows))
    code, out, err = run("shipments", "import", str(tmp_path / "bad.csv"), "--org", "VNPOST")
    assert code == 2 and "imported: 5" in out and "invalid: 25" in out
    assert err.count("  line ") == 20
    assert "… and 30 more errors in 15 more invalid rows (use --errors-out FILE to see them)" in err
    code, _, err = run("shipments", "import", str(tmp_path / "bad.csv"), "--org", "VNPOST",
                       "--errors-out", str(tmp_path / "errors.json"))
    assert f"… and 30 more errors in 15 more invalid rows (written to {tmp_path / 'errors.json'})" in err
    assert len(json.loads((tmp_path / "errors.json").read_text())) == 50


def test_cli_import_says_no_rows_and_how_it_read_the_file(run, tmp_path, faker):
    """Findings: a header-only file exited silently; a ';'-separated Windows-1258 file was refused."""
    (tmp_path / "empty.csv").write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    code, out, err = run("shipments", "import", str(tmp_path / "empty.csv"), "--org", "VNPOST")
    assert code == 0 and "rows: 0" in out and "note: No rows: the file has a header row and nothing after it." in err
    rows = list(faker.rows(3))
    rows[0]["recipient_name"] = "Trần Thị Tuyết"
    (tmp_path / "excel.csv").write_bytes(cp1258(delimited(rows, ";")))
    code, out, err = run("shipments", "import", str(tmp_path / "excel.csv"), "--org", "VNPOST")
    assert code == 0 and "imported: 3" in out, err
    assert "note: The file is not UTF-8: it was read as Windows-1258" in err and "save it as 'CSV UTF-8'" in err
    assert "note: Fields are separated by ';'; read as such." in err


def test_cli_import_prints_how_former_ward_names_were_read(run, tmp_path, faker):
    rows = list(faker.rows(2))
    rows[1]["recipient_province"], rows[1]["recipient_ward"] = "Hà Nội", "Hàng Bạc"
    (tmp_path / "old.csv").write_bytes(csv_bytes(rows))
    code, out, err = run("shipments", "import", str(tmp_path / "old.csv"), "--org", "VNPOST")
    assert code == 0 and "imported: 2" in out
    assert ("note: 1 row named a province or ward as before the 2025 reorganisation; recorded under the 2025 "
            "units.\n  line 3: 'Phường Hàng Bạc, Quận Hoàn Kiếm, Thành phố Hà Nội' (before 2025) is now "
            "Phường Hoàn Kiếm\n") in err
