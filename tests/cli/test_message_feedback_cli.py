"""``postguard messages feedback list | show | review | export | purge``: the reviewers' side on the
command line, logged under ``cli:<name>``, with clear errors and exit codes (422 → 2, 404 → 3, 409 → 4)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.messages.models import FeedbackCase
from postguard.platform import Platform
from tests.cli.test_cli import run  # noqa: F401  (the fixture)

TEXT = ("Chào cả nhà, tối nay tổ dân phố họp lúc 7 giờ ở nhà văn hoá, ai bận thì gọi 0930000123 hoặc "
        "chuyển khoản quỹ vào 1903456789012 nhé.")


def _case(settings) -> str:
    p = Platform(settings)
    try:
        return p.message_feedback.submit(text=TEXT, label="legit", expected="scam", consent=True,
                                         comment="tin thật", client="198.51.100.5")["case"]
    finally:
        p.close()


def test_list_show_review_export_and_purge(run, settings, tmp_path):  # noqa: F811
    case = _case(settings)
    code, out, _ = run("messages", "feedback", "list")
    [item] = json.loads(out)
    assert code == 0 and item["id"] == case and "text" not in item
    code, out, _ = run("messages", "feedback", "show", case, "--by", "lan")
    shown = json.loads(out)
    assert code == 0 and shown["text"] == TEXT and shown["submissions_detail"][0]["comment"] == "tin thật"
    code, _, err = run("messages", "feedback", "review", case, "--decision", "accept")
    assert code == 2 and "label" in err and "Traceback" not in err
    code, out, _ = run("messages", "feedback", "review", case, "--decision", "accept", "--label", "scam", "--by", "lan")
    assert code == 0 and json.loads(out)["status"] == "accepted"
    code, _, err = run("messages", "feedback", "review", case, "--decision", "reject", "--by", "minh")
    assert code == 4 and "version" in err
    code, out, _ = run("messages", "feedback", "review", case, "--decision", "reject", "--version", "2")
    assert code == 0 and json.loads(out)["status"] == "rejected"
    code, out, _ = run("messages", "feedback", "review", case, "--decision", "accept", "--label", "scam",
                       "--version", "3")
    assert code == 0
    out_file = tmp_path / "fb.tsv"
    code, out, _ = run("messages", "feedback", "export", "--out", str(out_file))
    assert code == 0 and json.loads(out)["rows"] == 1
    body = out_file.read_text(encoding="utf-8")
    assert body.startswith("label\tlanguage\ttext\tsource\tnote\n") and f"feedback:{case}" in body
    assert "093xxxxxxx" in body and "xxxxxxxxxxxxx" in body and "0930000123" not in body
    assert not (tmp_path / "fb.tsv.part").exists()
    p = Platform(settings)
    try:
        with p.db.read_session() as s:
            actors = {(a, x) for a, x in s.execute(select(AuditEntry.actor, AuditEntry.action))}
        assert {("cli:lan", "message_feedback_reveal"), ("cli:lan", "message_feedback_review"),
                ("cli", "message_feedback_export")} <= actors
        with p.db.session() as s:
            s.execute(update(FeedbackCase).values(last_submitted_at=utcnow() - timedelta(days=365)))
    finally:
        p.close()
    code, out, _ = run("messages", "feedback", "purge")
    assert code == 0 and json.loads(out) == {"deleted": 1}
    code, out, _ = run("messages", "feedback", "list", "--status", "accepted")
    assert json.loads(out) == []


def test_errors_are_clear(run, settings, tmp_path):  # noqa: F811
    code, _, err = run("messages", "feedback", "show", "no-such-case")
    assert code == 3 and "No such feedback case" in err
    code, _, err = run("messages", "feedback", "list", "--status", "everything")
    assert code == 2 and "status" in err
    code, _, err = run("messages", "feedback", "review", "no-such-case", "--decision", "perhaps")
    assert code == 2 and "decision" in err
    code, _, err = run("messages", "feedback", "export", "--out", str(tmp_path / "missing-dir" / "fb.tsv"))
    assert code != 0 and "--out" in err and "Traceback" not in err
    code, out, _ = run("messages", "feedback", "export", "--out", str(tmp_path / "empty.tsv"))
    assert code == 0 and json.loads(out)["rows"] == 0
    assert (tmp_path / "empty.tsv").read_text() == "label\tlanguage\ttext\tsource\tnote\n"
