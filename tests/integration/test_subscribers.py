"""Carriers' subscriber records on a real database: the sealed import with its report, the audit on
generated data with planted junk SIMs, the scam database's numbers on top of the queue, the queue's
states (one winner when two clerks move a case at once) and what a suspension tells the scam check."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from postguard.audit.models import AuditEntry
from postguard.errors import Conflict, Forbidden, InvalidInput
from postguard.phones import normalize_phone
from postguard.subscribers.checks import measure
from postguard.subscribers.generate import generate, write_csv
from postguard.subscribers.models import Subscriber, SubscriberCase, SubscriberCaseEvent


def csv_of(rows) -> io.BytesIO:
    buf = io.StringIO()
    write_csv(rows, buf)
    return io.BytesIO(buf.getvalue().encode("utf-8"))


@pytest.mark.both_databases
def test_import_seals_reports_by_line_and_is_idempotent(platform, principal):
    made = generate(300, seed=11)
    rows = [dict(r) for r in made.rows]
    rows[4]["msisdn"] = "0912"  # line 6 (header is line 1)
    rows[9]["iccid"] = "12345"
    report = platform.subscribers.import_csv(principal, csv_of(rows))
    assert (report.rows, report.imported, report.invalid) == (300, 298, 2)
    assert [(e.row, e.field) for e in report.errors] == [(6, "msisdn"), (11, "iccid")]
    again = platform.subscribers.import_csv(principal, csv_of(rows))
    assert (again.imported, again.already_present, again.invalid) == (0, 298, 2)

    with platform.db.read_session() as s:
        sub = s.execute(select(Subscriber).where(Subscriber.iccid == rows[0]["iccid"])).scalar_one()
        assert sub.msisdn_ct and sub.id_number_ct and sub.full_name_ct and sub.date_of_birth_ct and sub.dek
        assert rows[0]["full_name"].encode() not in sub.full_name_ct
        assert sub.msisdn_last3 == rows[0]["msisdn"][-3:] and sub.name_masked != rows[0]["full_name"]


def test_a_header_that_is_not_the_format_is_refused(platform, principal):
    with pytest.raises(InvalidInput) as e:
        platform.subscribers.import_csv(principal, io.BytesIO(b"msisdn;cmnd\n0912345678;1\n"))
    assert {f.field for f in e.value.errors} >= {"iccid", "activated_at"}


def test_the_audit_finds_the_planted_junk_sims(platform, principal):
    made = generate(3000, seed=17)
    platform.subscribers.import_csv(principal, csv_of(made.rows))
    result = platform.subscribers.run_audit(principal)
    measured = measure(list(result.flagged_iccids), made.truth, result.flagged_iccids)
    assert measured["recall"] >= 0.95 and measured["precision"] >= 0.9, measured
    assert result.records == 3000 and result.cases_opened == result.flagged
    data = result.as_dict()
    assert "flagged_iccids" not in data and data["top_points_of_sale"][0]["flagged"] >= 10
    again = platform.subscribers.run_audit(principal)
    assert (again.cases_opened, again.cases_updated) == (0, result.flagged)
    queue = platform.subscribers.queue(principal, limit=500)
    assert [c["priority"] for c in queue] == sorted((c["priority"] for c in queue), reverse=True)
    assert all(c["reasons"] and c["reasons"][0]["vi"] and c["reasons"][0]["en"] for c in queue)
    summary = platform.subscribers.summary(principal)
    assert summary["cases"] == result.flagged and summary["by_state"] == {"flagged": result.flagged}


def _report_scam(platform, phone: str) -> None:
    analyst = platform.intel.cli_principal()
    platform.intel.report(indicators=[phone], category="fake_courier", description="Gọi giả shipper đòi phí.",
                          client="test-report")
    with platform.db.read_session() as s:
        from postguard.intel.models import Indicator

        ind = s.execute(select(func.max(Indicator.id))).scalar_one()
    platform.intel.decide(analyst, ind, action="confirm", note="verified")


def test_scam_numbers_come_first_and_a_suspension_is_told(platform, principal):
    made = generate(400, seed=23)
    clean = [r for r in made.rows if r["iccid"] not in made.truth]
    target = clean[0]
    e164 = normalize_phone(target["msisdn"])
    _report_scam(platform, e164)
    assert platform.scam_numbers().get(e164) == "confirmed"
    platform.subscribers.import_csv(principal, csv_of(made.rows))
    platform.subscribers.run_audit(principal)
    top = platform.subscribers.queue(principal, limit=1)[0]
    assert top["iccid"] == target["iccid"] and top["scam"] == "confirmed" and top["priority"] == 100
    assert top["reasons"][0]["code"] == "scam_confirmed"
    with platform.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "subscriber_scam_match")).scalar_one() == 1

    assert platform.subscribers.suspensions(target["msisdn"]) == []
    moved = platform.subscribers.transition(principal, top["case_id"], to="suspended", version=1, note="khóa 1 chiều")
    assert moved["state"] == "suspended" and moved["version"] == 2
    told = platform.subscribers.suspensions(target["msisdn"])
    assert [t["carrier"] for t in told] == [principal.org_code]
    answer = platform.intel.checks.check(target["msisdn"], client="test")
    assert answer["verdict"] == "confirmed"
    assert [c["carrier"] for c in answer["carrier_suspensions"]] == [principal.org_code]
    platform.subscribers.transition(principal, top["case_id"], to="reverified", version=2)
    assert platform.subscribers.suspensions(target["msisdn"]) == []
    assert "carrier_suspensions" not in platform.intel.checks.check(target["msisdn"], client="test2")


def _one_case(platform, principal) -> int:
    made = generate(200, seed=31)
    platform.subscribers.import_csv(principal, csv_of(made.rows))
    platform.subscribers.run_audit(principal)
    return platform.subscribers.queue(principal, limit=1)[0]["case_id"]


def test_only_allowed_transitions_and_a_reason_to_reveal(platform, principal):
    case_id = _one_case(platform, principal)
    with pytest.raises(Conflict, match="allowed: cleared, contacted, suspended"):
        platform.subscribers.transition(principal, case_id, to="reverified", version=1)
    with pytest.raises(InvalidInput):
        platform.subscribers.show(principal, case_id, reveal=True, reason=" ")
    shown = platform.subscribers.show(principal, case_id, reveal=True, reason="gọi xác minh")
    assert shown["holder"]["msisdn"].startswith("+84") and shown["holder"]["full_name"]
    with platform.db.read_session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "subscriber_reveal")).scalar_one()
    assert '"subscriber_reverify"' in entry.entry and entry.subject == shown["iccid"]
    done = platform.subscribers.transition(principal, case_id, to="contacted", version=1, note="đã gọi")
    assert done["state"] == "contacted" and done["deadline_at"] > shown["deadline_at"]
    assert platform.subscribers.show(principal, case_id)["history"][0]["to"] == "contacted"


def test_another_carrier_sees_no_case(platform, principal):
    case_id = _one_case(platform, principal)
    platform.orgs.create(code="OTHERTEL", name="Nhà mạng khác")
    other = platform.orgs.principal("OTHERTEL", actor="test")
    assert platform.subscribers.queue(other) == []
    with pytest.raises(Exception, match="No such case"):
        platform.subscribers.show(other, case_id)
    reader = platform.orgs.principal(principal.org_code, actor="test")
    limited = type(reader)(**{**reader.__dict__, "scopes": frozenset({"subscribers:audit"})})
    with pytest.raises(Forbidden):
        platform.subscribers.show(limited, case_id, reveal=True, reason="x")


@pytest.mark.both_databases
def test_two_clerks_moving_one_case_at_once_one_wins(platform, principal):
    case_id = _one_case(platform, principal)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def clerk(to: str) -> None:
        barrier.wait()
        try:
            platform.subscribers.transition(principal, case_id, to=to, version=1)
            outcomes.append("ok:" + to)
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=clerk, args=(to,)) for to in ("contacted", "cleared") * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [o for o in outcomes if o.startswith("ok:")]
    assert len(wins) == 1 and outcomes.count("conflict") == 5, outcomes
    with platform.db.read_session() as s:
        case = s.get(SubscriberCase, case_id)
        events = s.execute(select(SubscriberCaseEvent).where(SubscriberCaseEvent.case_id == case_id)).scalars().all()
    assert case.version == 2 and case.state == wins[0][3:] and len(events) == 1
