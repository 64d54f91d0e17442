"""Feedback on the message check, on a real database: a text sent twice is one case counted twice;
it is stored only sealed (never at rest in clear, never in the access log); reading it goes through
the door and is logged first; two reviewers deciding at once get one result; two people sending one
new text at once make one case; the retention purge deletes old cases whole; a key rotation keeps
the versions feedback is sealed under. Every test runs on SQLite and PostgreSQL: races, conditional
updates and what each database keeps at rest are the database's behaviour."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import Conflict, DecryptionFailed, Forbidden, InvalidInput, NotFound, RateLimited
from postguard.messages.models import FeedbackCase, FeedbackSubmission
from postguard.orgs.service import Principal
from postguard.platform import Platform

pytestmark = pytest.mark.both_databases

MARK = "Lan-SYNTHETIC-FEEDBACK"
GENUINE = (f"Chào cả nhà, mình là {MARK} ở tổ dân phố số 5. Tối nay họp lúc 7 giờ ở nhà văn hoá, "
           "ai bận thì gọi 0930000123 nhé.")
COMMENT = "COMMENT-SYNTHETIC: đây là tin của hàng xóm tôi"


@pytest.fixture
def fp(make_settings):
    p = Platform(make_settings(message_feedback_rate="1000/minute"))
    yield p
    p.close()


def reviewer(p: Platform, actor: str = "reviewer-1", scopes=("messages:review",), org: str | None = None) -> Principal:
    org_id = p.orgs.platform_org_id() if org is None else p.orgs.get(org).id
    return Principal(org_id=org_id, org_code=org or "PG-INTEL", actor=actor, scopes=frozenset(scopes))


def send(p: Platform, body: str = GENUINE, **kw) -> dict:
    args = {"label": "legit", "expected": "scam", "consent": True, "client": "198.51.100.7"} | kw
    return p.message_feedback.submit(text=body, **args)


def entries(p: Platform, action: str) -> list[dict]:
    """The access log's entries of ``action``, as logged (actor, subject, purpose, details)."""
    with p.db.read_session() as s:
        return [json.loads(e) for e in s.execute(select(AuditEntry.entry).where(AuditEntry.action == action)
                                                  .order_by(AuditEntry.idx)).scalars()]


def test_the_same_text_is_one_case_counted_twice_and_the_server_s_own_answer_is_kept(fp):
    first = send(fp, comment=COMMENT)
    again = send(fp, "  " + GENUINE.replace(" ", "   ") + "\n", label="scam", expected="suspicious")  # spaces differ
    assert first["new_case"] and not again["new_case"] and first["case"] == again["case"]
    assert again["submissions"] == 2 and first["system_label"] == "legit" and first["model_version"]
    view = fp.message_feedback.queue(reviewer(fp))[0]
    assert view["id"] == first["case"] and view["submissions"] == 2
    assert view["expected"] == {"scam": 1, "suspicious": 1, "legit": 0}
    assert "text" not in view and MARK not in str(view)
    with fp.db.read_session() as s:
        subs = s.execute(select(FeedbackSubmission).order_by(FeedbackSubmission.id)).scalars().all()
    # What the person said they were shown is kept beside what the server's own check answered.
    assert [(x.label, x.system_label) for x in subs] == [("legit", "legit"), ("scam", "legit")]
    assert subs[0].comment_ct is not None and subs[1].comment_ct is None
    assert all(x.submitted_by == "public" for x in subs)
    # A different text is another case.
    other = send(fp, GENUINE.replace("số 5", "số 6"))
    assert other["new_case"] and other["case"] != first["case"]


def test_nothing_is_kept_without_consent_or_when_there_is_nothing_to_correct(fp):
    for consent in (None, False, "true", 1):
        with pytest.raises(InvalidInput) as e:
            send(fp, consent=consent)
        assert [fe.code for fe in e.value.errors] == ["consent_required"]
    scam = ("VNPost: Bưu phẩm của bạn bị giữ do thiếu phí lưu kho 25.000đ. Thanh toán tại http://vnpost-vn.com/pay "
            "trong 24h để tránh bị hủy.")
    with pytest.raises(Conflict, match="nothing to correct"):
        send(fp, scam, label="legit", expected="scam")  # the check already says scam
    with pytest.raises(InvalidInput) as e:
        send(fp, "0912345678")  # one value, not a message
    assert e.value.errors[0].code == "not_a_message"
    with fp.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(FeedbackCase)).scalar_one() == 0
    assert entries(fp, "message_feedback_submit") == []


def test_the_text_is_sealed_at_rest_and_the_log_never_holds_it(fp, backend, tmp_path):
    case = send(fp, comment=COMMENT)["case"]
    with fp.db.engine.connect() as c:
        for table in ("message_feedback_cases", "message_feedback_submissions"):
            for row in c.execute(text(f"SELECT * FROM {table}")):
                raw = b"".join(v if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
                assert MARK.encode() not in raw and b"COMMENT-SYNTHETIC" not in raw
    with fp.db.read_session() as s:
        logged = " ".join(s.execute(select(AuditEntry.entry)).scalars())
    assert f"message_feedback:{case}" in logged and MARK not in logged and "COMMENT-SYNTHETIC" not in logged
    if backend == "sqlite":
        data = b"".join(f.read_bytes() for f in (tmp_path / "data").glob("*.db*"))
        assert MARK.encode() not in data and "Chào cả nhà".encode() not in data


def test_showing_a_case_goes_through_the_door_and_is_logged_before_it_is_opened(fp, monkeypatch):
    case = send(fp, comment=COMMENT)["case"]
    fp.orgs.create(code="VNPOSTX", name="Bưu chính Thử")
    # A reviewer of any organisation with messages:review (as intelligence analysts are).
    who = reviewer(fp, "reviewer-op", org="VNPOSTX")
    shown = fp.message_feedback.show(who, case)
    assert shown["text"] == GENUINE and shown["submissions_detail"][0]["comment"] == COMMENT
    assert shown["check_now"]["label"] == "legit"
    [entry] = entries(fp, "message_feedback_reveal")
    assert (entry["actor"], entry["purpose"], entry["subject"]) == ("reviewer-op", "message_feedback_review",
                                                                    f"message_feedback:{case}")
    assert f"message_feedback:{case}" in entry["details"]["records"]
    # Without the scope: refused, logged, nothing opened (an intelligence analyst is not a reviewer).
    for scopes in (("intel:analyst",), ("shipments:read",)):
        with pytest.raises(Forbidden):
            fp.message_feedback.show(reviewer(fp, "analyst-x", scopes=scopes), case)
    assert len(entries(fp, "access_denied")) == 2 and len(entries(fp, "message_feedback_reveal")) == 1
    # Log before reveal: an append that fails opens nothing.
    from postguard.errors import AuditUnavailable

    def down(**_kw):
        raise AuditUnavailable("the access log is down")

    monkeypatch.setattr(fp.audit, "append", down)
    opened = []
    monkeypatch.setattr(type(fp.door._opener), "open_value", lambda *a: opened.append(a))
    with pytest.raises(AuditUnavailable):
        fp.message_feedback.show(who, case)
    assert opened == []
    with pytest.raises(NotFound):
        fp.message_feedback.show(reviewer(fp), "no-such-case")


def test_two_reviewers_deciding_at_once_get_one_result(fp):
    case = send(fp)["case"]
    n = 6
    go = threading.Barrier(n)
    choices = [("accept", "scam"), ("reject", None), ("accept", "suspicious")] * 2

    def attempt(i: int) -> tuple[str, str | None] | None:
        go.wait()
        decision, label = choices[i]
        try:
            out = fp.message_feedback.review(reviewer(fp, f"reviewer-{i}"), case, decision=decision, label=label)
        except Conflict:
            return None
        return out["status"], out["final_label"]

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(attempt, range(n)))
    won = [r for r in results if r is not None]
    assert len(won) == 1
    [view] = fp.message_feedback.queue(reviewer(fp), status=won[0][0])
    assert (view["status"], view["final_label"], view["version"]) == (won[0][0], won[0][1] or "legit", 2)
    assert len(entries(fp, "message_feedback_review")) == 1
    # A decided case changes only with the version the reviewer saw, once.
    with pytest.raises(Conflict, match="send its version"):
        fp.message_feedback.review(reviewer(fp), case, decision="accept", label="scam")
    with pytest.raises(Conflict, match="changed meanwhile"):
        fp.message_feedback.review(reviewer(fp), case, decision="accept", label="scam", version=1)
    go = threading.Barrier(n)

    def change(i: int) -> bool:
        go.wait()
        try:
            fp.message_feedback.review(reviewer(fp, f"second-{i}"), case, decision="accept", label="scam", version=2)
        except Conflict:
            return False
        return True

    with ThreadPoolExecutor(n) as pool:
        assert sum(pool.map(change, range(n))) == 1


def test_people_sending_one_new_text_at_once_make_one_case(fp):
    n = 6
    go = threading.Barrier(n)

    def attempt(i: int) -> dict:
        go.wait()
        return send(fp, client=f"198.51.100.{i + 10}")

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(attempt, range(n)))
    assert len({r["case"] for r in results}) == 1 and sum(r["new_case"] for r in results) == 1
    assert sorted(r["submissions"] for r in results) == list(range(1, n + 1))
    with fp.db.read_session() as s:
        assert s.execute(select(FeedbackCase.submissions)).scalar_one() == n
        assert s.execute(select(func.count()).select_from(FeedbackSubmission)).scalar_one() == n


def test_the_retention_purge_deletes_old_cases_whole_and_keeps_recent_ones(fp):
    old = send(fp, comment=COMMENT)["case"]
    recent = send(fp, GENUINE.replace("số 5", "số 9"))["case"]
    days = fp.settings.message_feedback_retention_days
    with fp.db.session() as s:
        s.execute(update(FeedbackCase).where(FeedbackCase.public_id == old)
                  .values(last_submitted_at=utcnow() - timedelta(days=days, minutes=1)))
    fp.message_feedback.review(reviewer(fp), old, decision="accept", label="scam")  # reviewed or not
    assert fp.message_feedback.purge() == 1
    with fp.db.read_session() as s:
        assert s.execute(select(FeedbackCase.public_id)).scalars().all() == [recent]
        assert s.execute(select(func.count()).select_from(FeedbackSubmission)).scalar_one() == 1
    [entry] = entries(fp, "message_feedback_purge")
    assert entry["details"]["cases"] == 1
    assert fp.message_feedback.purge() == 0 and len(entries(fp, "message_feedback_purge")) == 1
    # A text sent again is kept from its latest submission: the purge after it leaves it.
    with fp.db.session() as s:
        s.execute(update(FeedbackCase).values(last_submitted_at=utcnow() - timedelta(days=days + 5)))
    send(fp, GENUINE.replace("số 5", "số 9"))
    assert fp.message_feedback.purge() == 0
    assert fp.message_feedback.queue(reviewer(fp))[0]["submissions"] == 2


def test_a_key_rotation_keeps_the_versions_feedback_is_sealed_under(fp):
    # An operator's rotation asks feedback which versions it needs, and creates nothing.
    fp.orgs.create(code="VNPOSTX", name="Bưu chính Thử")
    fp.orgs.rotate_data_key("VNPOSTX")
    assert fp.shipments.rewrap(fp.orgs.principal("VNPOSTX", actor="test"))["destroyed_versions"] == [1]
    assert [o.code for o in fp.orgs.list()] == ["VNPOSTX"]
    case = send(fp, comment=COMMENT)["case"]
    fp.orgs.rotate_data_key("PG-INTEL")
    out = fp.shipments.rewrap(fp.orgs.platform_principal(actor="test"))
    assert out["destroyed_versions"] == []  # version 1 still seals the feedback
    assert fp.message_feedback.show(reviewer(fp), case)["text"] == GENUINE
    with fp.db.session() as s:  # once nothing is sealed under it any more, it goes
        s.execute(text("DELETE FROM message_feedback_cases"))
    assert fp.shipments.rewrap(fp.orgs.platform_principal(actor="test"))["destroyed_versions"] == [1]


def test_submissions_are_limited_per_client(make_settings):
    p = Platform(make_settings(message_feedback_rate="2/hour"))
    try:
        send(p)
        send(p, GENUINE.replace("số 5", "số 7"))
        with pytest.raises(RateLimited):
            send(p, GENUINE.replace("số 5", "số 8"))
        send(p, GENUINE.replace("số 5", "số 8"), client="198.51.100.99")  # another address
    finally:
        p.close()


def test_a_tampered_ciphertext_is_refused_not_shown(fp):
    case = send(fp)["case"]
    with fp.db.session() as s:
        s.execute(update(FeedbackCase).where(FeedbackCase.public_id == case).values(
            text_ct=_flip(s.execute(select(FeedbackCase.text_ct)).scalar_one())))
    with pytest.raises(DecryptionFailed):
        fp.message_feedback.show(reviewer(fp), case)


def _flip(blob: bytes) -> bytes:
    return bytes(blob[:-1]) + bytes([blob[-1] ^ 1])


def test_a_qr_code_is_one_case_and_trains_on_its_message_only(fp):
    from postguard.messages import vietqr

    payload = vietqr.build("970436", "1122334455", amount=25000, message="phi luu kho buu pham")
    answer = fp.messages.check(None, qr=payload, client="", limit=False)["label"]
    expected = "legit" if answer != "legit" else "scam"
    out = send(fp, payload, label=answer, expected=expected)
    assert out["system_label"] == answer
    who = reviewer(fp)
    assert fp.message_feedback.show(who, out["case"])["kind"] == "qr"
    fp.message_feedback.review(who, out["case"], decision="accept", label=expected)
    [row] = fp.message_feedback.export(who)
    assert row["text"] == "phi luu kho buu pham" and "1122334455" not in str(row)
    [entry] = entries(fp, "message_feedback_export")
    assert entry["purpose"] == "message_feedback_export" and entry["details"]["cases"] == 1
