"""Dossiers generated from the running system: the impact assessment lists every protected field the
models declare and every purpose the door knows, with the access log's figures; the breach notification
is filled from the incident with its 72-hour deadline; Markdown and PDF say the same; only the DPO (and
administrators, reading) make them, and each is logged."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from postguard.access.door import PURPOSES
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import Forbidden, InvalidInput, NotFound
from postguard.models import metadata
from postguard.privacy.dossiers import FIELD_WORDS, PURPOSE_WORDS

PASSWORD = "correct horse battery"
SEALED = [(t.name, c.name.removesuffix("_ct")) for t in metadata.sorted_tables for c in t.columns
          if c.name.endswith("_ct")]


def test_every_sealed_column_and_purpose_has_its_words():
    """A new protected field or purpose is not done until the dossiers can name it."""
    assert len(SEALED) >= 20
    assert [f for f in SEALED if f not in FIELD_WORDS] == []
    assert [p for p in PURPOSES if p not in PURPOSE_WORDS] == []


@pytest.fixture
def office(make_settings):
    from postguard.platform import Platform

    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    p.orgs.create(code="VNP", name="Bưu điện Thử", hotline="1900 54 54 81")
    dpo = p.staff.create(org_code="VNP", username="lan", display_name="Trần Thị Lan", role="dpo", password=PASSWORD)
    courier = p.staff.create(org_code="VNP", username="an", display_name="An", role="courier", password=PASSWORD)
    yield p, dpo, courier
    p.close()


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_impact_assessment_lists_every_protected_field_and_purpose(office):
    p, dpo, _ = office
    doc = p.privacy.make_dossier(dpo, "dpia")
    md = doc.render("md").decode()
    for table, column in SEALED:
        assert f"| {FIELD_WORDS[(table, column)]} | {table}.{column} |" in md
    for words in PURPOSE_WORDS.values():
        assert words in md
    assert "Trần Thị Lan" in md and "1900 54 54 81" in md and f"{p.settings.retention_days} ngày" in md
    pdf = doc.render("pdf")
    assert pdf.startswith(b"%PDF")
    text = " ".join(_text(pdf).split())
    assert "Hồ sơ đánh giá tác động xử lý dữ liệu cá nhân" in text and "Số điện thoại người nhận" in text


def test_the_breach_notification_is_filled_from_the_incident(office):
    p, dpo, _ = office
    detected = utcnow() - timedelta(hours=10)
    inc = p.privacy.create_incident(dpo, detected_at=detected, description="Lộ bảng kê giao hàng tại bưu cục A",
                                    affected_estimate=1234)
    md = p.privacy.make_dossier(dpo, "breach", ref=inc["ref"]).render("md").decode()
    assert "Lộ bảng kê giao hàng tại bưu cục A" in md and "| Số chủ thể dữ liệu ước tính bị ảnh hưởng | 1,234 |" in md
    assert "(còn 62 giờ)" in md
    with pytest.raises(NotFound):
        p.privacy.make_dossier(dpo, "breach", ref="INC-NOPE")


def test_only_the_dpo_and_administrators_make_dossiers_and_each_is_logged(office):
    p, dpo, courier = office
    with pytest.raises(Forbidden):
        p.privacy.make_dossier(courier, "dpia")
    with pytest.raises(InvalidInput):
        p.privacy.make_dossier(dpo, "novel")
    with pytest.raises(InvalidInput):
        p.privacy.make_dossier(dpo, "security").render("docx")
    admin = p.staff.create(org_code="VNP", username="root", display_name="Quản trị", role="admin", password=PASSWORD)
    md = p.privacy.make_dossier(admin, "security").render("md").decode()
    assert "| quản trị viên | 1 |" in md and "| cán bộ bảo vệ dữ liệu | 1 |" in md
    with p.db.session() as s:
        made = s.execute(select(AuditEntry.actor, AuditEntry.subject).where(AuditEntry.action == "dossier_made")).all()
    assert sorted(made) == [(dpo.actor, "dossier:security"), (admin.actor, "dossier:security")]


def test_the_command_writes_markdown_or_pdf_and_refuses_other_files(office, tmp_path, monkeypatch, capsys):
    from tests.conftest import run_cli

    p, *_ = office
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(p.settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(p.settings.database_url))
    code, out, err = run_cli(monkeypatch, capsys, "dossier", "dpia", "--org", "VNP", "--by", "lan",
                             "--out", str(tmp_path / "dpia.pdf"))
    assert code == 0, err
    assert (tmp_path / "dpia.pdf").read_bytes().startswith(b"%PDF") and "wrote" in out
    code, _, err = run_cli(monkeypatch, capsys, "dossier", "security", "--org", "VNP", "--by", "lan",
                           "--out", str(tmp_path / "x.docx"))
    assert code == 2 and "a file name ending in .md or .pdf" in err and not (tmp_path / "x.docx").exists()
    code, _, err = run_cli(monkeypatch, capsys, "dossier", "dpia", "--org", "VNP", "--by", "an",
                           "--out", str(tmp_path / "d.md"))
    assert code != 0 and "not an active data-protection officer" in err
