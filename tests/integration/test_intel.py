"""Scam intelligence on both databases: reports and lookups, brigading, duplicates, official channels,
moderation, appeals, decay, encryption at rest and the access log."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from postguard.db import migrate
from postguard.db.base import utcnow
from postguard.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from postguard.intel.models import Evidence, Indicator, Report, Reporter
from postguard.intel.service import Upload
from postguard.intel.store import get_row
from postguard.models import metadata
from postguard.platform import Platform

PNG = b"\x89PNG\r\n\x1a\n" + b"synthetic screenshot bytes " * 4


@pytest.fixture
def ip(make_settings):
    p = Platform(make_settings(intel_report_rate="1000/hour", intel_check_rate="1000/minute",
                               intel_appeal_rate="100/day"))
    yield p
    p.close()


@pytest.mark.both_databases
def test_schema_in_step(ip):
    assert migrate.pending_changes(ip.db.engine, metadata) == []


def test_report_then_check_and_clean_lookups_write_nothing(ip):
    before = ip.intel.check("0912 345 678", client="c1")
    assert before["verdict"] == "unknown" and "not mean it is safe" in before["headline"]
    with ip.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(Indicator)).scalar_one() == 0
    r = ip.intel.report(indicators=["0912 345 678", "Vietcombank 0123 456 789"], category="fake_courier",
                        description="gọi báo đơn hàng", contact="a@example.org", client="c1")
    assert r["status"] == "accepted" and r["reporter_kind"] == "citizen"
    out = ip.intel.check("+84912345678", client="c2")
    assert out["verdict"] == "reported" and out["display"] == "*******678"
    acct = ip.intel.check("970436:0123456789", client="c2")
    assert acct["verdict"] == "reported" and acct["notes"][0]["code"] == "holder_may_be_mule_or_victim"
    with ip.db.read_session() as s:
        ind = s.execute(select(Indicator).where(Indicator.type == "phone")).scalar_one()
        assert ind.value is None and ind.value_ct and ind.lookups == 1 and ind.display == "*******678"


def test_brigading_one_client_stays_reported(ip):
    for i in range(40):
        ip.intel.report(indicators=["0987 000 111"], category="fake_bank", description=f"lần {i}",
                        evidence=[Upload(PNG, "image/png")] if i < 3 else None, client="brigade")
    out = ip.intel.check("0987000111", client="x")
    assert out["verdict"] == "reported"
    reasons = {r["code"]: r.get("value") for r in out["reasons"]}
    assert reasons["reports"] == 1 and reasons["distinct_reporters"] == 1  # duplicates merged into one
    with ip.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(Report).where(Report.status == "merged")).scalar_one() == 39
        assert s.execute(select(func.count()).select_from(Evidence)).scalar_one() == 3


def test_distinct_identified_reporters_corroborate_and_analyst_confirms(ip, org):
    orgp = ip.orgs.principal(org.code, actor="test")
    ip.intel.report(indicators=["https://vnpost-phi.example.net/pay"], category="fake_courier", principal=orgp,
                    client="x")
    ip.intel.report(indicators=["http://VNPOST-PHI.example.net:80/pay#x"], category="fake_courier",
                    contact="b@example.org", client="c9")
    assert ip.intel.check("vnpost-phi.example.net/pay", client="q")["verdict"] == "corroborated"
    admin = ip.intel.cli_principal()
    queue = ip.intel.queue(admin)
    assert queue[0]["reason"] == "corroborated" and queue[0]["type"] == "url"
    res = ip.intel.decide(admin, queue[0]["indicator"], action="confirm", source="official_source", note="police notice")
    assert res == {"indicator": queue[0]["indicator"], "from": "corroborated", "verdict": "confirmed"}
    assert ip.intel.queue(admin) == []
    from postguard.audit.models import AuditEntry

    with ip.db.read_session() as s:
        last = s.execute(select(AuditEntry.action, AuditEntry.subject).order_by(AuditEntry.idx.desc()).limit(1)).one()
    assert tuple(last) == ("intel_confirm", f"indicator:{queue[0]['indicator']}")


def test_scopes(ip, principal):
    limited = type(principal)(org_id=principal.org_id, org_code=principal.org_code, actor="k",
                              scopes=frozenset({"shipments:read"}))
    with pytest.raises(Forbidden):
        ip.intel.queue(limited)
    with pytest.raises(Forbidden):
        ip.intel.report(indicators=["0912345678"], category="other", principal=limited, client="x")
    with pytest.raises(Forbidden):
        ip.intel.official_add(limited, kind="domain", value="example.com")


def test_official_channel_protection(ip, org):
    admin = ip.intel.cli_principal()
    hotline = ip.intel.official_add(admin, kind="hotline", value="1900 54 54 81", label="CSKH", org_code=org.code)
    domain = ip.intel.official_add(admin, kind="domain", value="vnpost.vn", org_code=org.code)
    with pytest.raises(Conflict):
        ip.intel.official_add(admin, kind="hotline", value="19005454 81", org_code="PG-INTEL")
    with pytest.raises(InvalidInput):
        ip.intel.official_add(admin, kind="domain", value="www.vnpost.vn", org_code=org.code)
    # pending channels are not protected (registering cannot shield a scam number)
    assert ip.intel.check("1900545481", client="c")["verdict"] == "unknown"
    for ch in (hotline, domain):
        ip.intel.official_set_status(admin, ch["id"], status="verified")
    out = ip.intel.check("1900 54 54 81", client="c")
    assert out["verdict"] == "official" and out["official"]["org"] == org.code
    assert ip.intel.check("https://tracuu.vnpost.vn/x?y=1", client="c")["verdict"] == "official"
    out = ip.intel.check("https://vnpost.vn.example.com/", client="c")  # vnpost.vn in front of example.com
    assert out["verdict"] == "lookalike" and out["official"] is None  # graver than suspicious: it names the brand
    assert out["lookalike"]["official"] == ["vnpost.vn"] and out["lookalike"]["technique"] == "fake_suffix"
    assert "link_embedded_domain" in {r["code"] for r in out["reasons"]}  # the link's own warning stays

    for i in range(5):
        r = ip.intel.report(indicators=["1900545481", "https://www.vnpost.vn/login"], category="fake_courier",
                            contact=f"x{i}@example.org", client=f"c{i}")
        assert r["status"] == "held"
    out = ip.intel.check("1900545481", client="c")
    assert out["verdict"] == "official"
    assert {r["code"]: r.get("value") for r in out["reasons"]}["reports_under_review"] == 5
    q = ip.intel.queue(admin)
    assert {x["reason"] for x in q} == {"official_reported"}
    with pytest.raises(Conflict):
        ip.intel.decide(admin, q[0]["indicator"], action="confirm")
    # revoking the channel releases the held reports
    ip.intel.official_set_status(admin, hotline["id"], status="revoked")
    assert ip.intel.check("1900545481", client="c")["verdict"] == "corroborated"


def test_appeal_flow_and_access_log(ip):
    for i in range(2):
        ip.intel.report(indicators=["MoMo 0912 888 777"], category="shopping", contact=f"r{i}@example.org",
                        client=f"r{i}")
    with pytest.raises(Conflict):
        ip.intel.appeal(value="0912888000", statement="không phải tôi", contact="o@example.org", client="o")
    with pytest.raises(InvalidInput):
        ip.intel.appeal(value="momo 0912888777", statement="", contact="", client="o")
    a = ip.intel.appeal(value="momo:+84912888777", statement="Tài khoản của tôi bị chiếm", contact="o@example.org",
                        client="o")
    assert a["verdict"] == "disputed"
    deadline = utcnow() + timedelta(days=ip.settings.intel_appeal_days)
    assert abs((deadline - datetime.fromisoformat(a["deadline_at"])).total_seconds()) < 60
    with pytest.raises(Conflict):
        ip.intel.appeal(value="momo:+84912888777", statement="again", contact="o@example.org", client="o")
    assert ip.intel.check("MoMo 0912888777", client="z")["verdict"] == "disputed"
    admin = ip.intel.cli_principal()
    q = ip.intel.queue(admin)
    assert q[0]["appeal"]["id"] == a["appeal"] and not q[0]["appeal"]["overdue"]
    detail = ip.intel.indicator(admin, a["indicator"], reveal=True)
    assert {r["contact"] for r in detail["reports_detail"]} == {"r0@example.org", "r1@example.org"}
    res = ip.intel.decide_appeal(admin, a["appeal"], uphold=True, note="verified owner")
    assert res["verdict"] == "delisted"
    assert ip.intel.check("MoMo 0912888777", client="z")["verdict"] == "delisted"
    with pytest.raises(Conflict):
        ip.intel.decide_appeal(admin, a["appeal"], uphold=False)
    # a new report after delisting counts again
    ip.intel.report(indicators=["MoMo 0912888777"], category="shopping", client="new")
    assert ip.intel.check("MoMo 0912888777", client="z")["verdict"] == "reported"
    with ip.db.read_session() as s:
        from postguard.audit.models import AuditEntry

        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.idx))]
    assert actions.index("intel_appeal_open") < actions.index("intel_report_reveal") < actions.index(
        "intel_appeal_upheld")


@pytest.mark.both_databases
def test_a_deleted_indicator_is_not_found_everywhere_analysts_reach_it(ip):
    """Rows read by id that are gone (deleted, with what cascades from them) give NotFound, never an
    AttributeError on None; the queue simply no longer lists them."""
    for i in range(2):
        ip.intel.report(indicators=["MoMo 0912 555 444"], category="shopping", client=f"d{i}")
    a = ip.intel.appeal(value="momo:+84912555444", statement="của tôi", contact="o@example.org", client="o")
    admin = ip.intel.cli_principal()
    assert [x["indicator"] for x in ip.intel.queue(admin)] == [a["indicator"]]
    with ip.db.session() as s:
        reporter_id = s.execute(select(Report.reporter_id)).scalars().first()
        s.delete(s.get(Indicator, a["indicator"]))
    assert ip.intel.queue(admin, reported=True) == []
    for call in (lambda: ip.intel.indicator(admin, a["indicator"], reveal=True),
                 lambda: ip.intel.reveal_value(admin, a["indicator"]),
                 lambda: ip.intel.decide(admin, a["indicator"], action="confirm")):
        with pytest.raises(NotFound, match=f"No indicator {a['indicator']}."):
            call()
    with pytest.raises(NotFound, match="No such appeal."):
        ip.intel.decide_appeal(admin, a["appeal"], uphold=True)
    with ip.db.session() as s:
        assert get_row(s, Reporter, reporter_id, "reporter").id == reporter_id
        s.delete(s.get(Reporter, reporter_id))
        s.flush()
        with pytest.raises(NotFound, match=f"No reporter {reporter_id}."):
            get_row(s, Reporter, reporter_id, "reporter")


def test_rejected_reports_stop_counting_and_cost_reputation(ip):
    r = ip.intel.report(indicators=["0933 111 222"], category="other", client="troll")
    admin = ip.intel.cli_principal()
    assert ip.intel.review_report(admin, r["report"], action="reject")["status"] == "rejected"
    assert ip.intel.check("0933111222", client="z")["verdict"] == "unknown"


def test_decay_without_new_reports(ip, org):
    ip.intel.report(indicators=["t.me/ScamBot_vn"], category="investment",
                    principal=ip.orgs.principal(org.code, actor="t"), client="x")
    ip.intel.report(indicators=["https://t.me/scambot_vn"], category="investment", contact="c@example.org",
                    client="y")
    now = utcnow()
    seen = [ip.intel.check("telegram:@scambot_vn", client="z", now=now + timedelta(days=d))["verdict"]
            for d in (0, 200, 2000)]
    assert seen == ["corroborated", "reported", "unknown"]


def test_report_validation_is_all_or_nothing(ip):
    with pytest.raises(InvalidInput) as e:
        ip.intel.report(indicators=["0912345678", "!!!"], category="fake_courier", client="v")
    assert e.value.errors[0].field == "indicators[1]"
    with pytest.raises(InvalidInput) as e:
        ip.intel.report(indicators=["0912345678"], category="nope", amount_lost_vnd=-1, occurred_on="2999-01-01",
                        client="v")
    assert {fe.field for fe in e.value.errors} == {"category", "amount_lost_vnd", "occurred_on"}
    with pytest.raises(InvalidInput):
        ip.intel.report(indicators=["0912345678"], category="other", evidence=[Upload(b"MZ\x90", None)], client="v")
    with pytest.raises(PayloadTooLarge):
        ip.intel.report(indicators=["0912345678"], category="other",
                        evidence=[Upload(PNG + b"\0" * ip.settings.intel_evidence_max_bytes, "image/png")], client="v")
    with ip.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Indicator)).scalar_one() == 0


def test_rate_limits(make_settings):
    p = Platform(make_settings(intel_check_rate="3/minute", intel_report_rate="2/hour"))
    try:
        for _ in range(3):
            p.intel.check("0912345678", client="same")
        with pytest.raises(RateLimited):
            p.intel.check("0912345678", client="same")
        p.intel.check("0912345678", client="other")
        for i in range(2):
            p.intel.report(indicators=[f"091234567{i}"], category="other", client="same")
        with pytest.raises(RateLimited):
            p.intel.report(indicators=["0912345679"], category="other", client="same")
    finally:
        p.close()


def test_nothing_personal_in_plaintext_at_rest(ip, backend, settings):
    secret_contact = "lienhe-bimat-0977123456@example.org"
    ip.intel.report(indicators=["0977 123 456", "Techcombank 1903 5555 7777"], category="fake_police",
                    description="Mô tả bí mật XYZZY-PLAINTEXT", contact=secret_contact,
                    evidence=[Upload(PNG + b"EVIDENCE-PLAINTEXT-MARKER", "image/png")], client="p")
    if backend != "sqlite":
        pytest.skip("file scan is for the embedded database")
    ip.close()
    raw = b"".join(f.read_bytes() for f in settings.data_dir.glob("postguard.db*"))
    for needle in (b"+84977123456", b"0977123456", b"190355557777", secret_contact.encode(),
                   b"XYZZY-PLAINTEXT", b"EVIDENCE-PLAINTEXT-MARKER"):
        assert needle not in raw, needle


@pytest.mark.both_databases
def test_known_index_sees_other_workers_and_its_own_writes_at_once(make_settings):
    a = Platform(make_settings(intel_report_rate="1000/hour", intel_check_rate="1000/minute",
                               intel_index_refresh_seconds=300))
    b = Platform(make_settings(intel_report_rate="1000/hour", intel_check_rate="1000/minute",
                               intel_index_refresh_seconds=0))
    try:
        assert a.intel.check("0912 000 111", client="x")["verdict"] == "unknown"
        assert b.intel.check("0912 000 111", client="x")["verdict"] == "unknown"
        a.intel.report(indicators=["0912 000 111"], category="fake_courier", client="r")
        assert a.intel.check("0912000111", client="x")["verdict"] == "reported"  # its own write: at once
        assert b.intel.check("0912000111", client="x")["verdict"] == "reported"  # refreshed on every lookup
        b.intel.report(indicators=["0912 000 222"], category="fake_courier", client="r")
        # a refreshes every 5 minutes by configuration: the documented window in which it says unknown
        assert a.intel.check("0912000222", client="x")["verdict"] == "unknown"
        a.intel.known._checked = float("-inf")
        assert a.intel.check("0912000222", client="x")["verdict"] == "reported"
        assert len(a.intel.known) >= 2
    finally:
        a.close()
        b.close()


@pytest.mark.both_databases
def test_known_answers_come_from_memory_until_anything_stored_changes(make_settings, monkeypatch):
    a = Platform(make_settings(intel_report_rate="1000/hour", intel_check_rate="1000/minute",
                               intel_index_refresh_seconds=300))
    b = Platform(make_settings(intel_report_rate="1000/hour", intel_check_rate="1000/minute",
                               intel_index_refresh_seconds=0))
    try:
        a.intel.report(indicators=["0912 000 333"], category="fake_courier", client="r1")
        first = a.intel.check("0912000333", client="x")
        stored = a.intel.checks.check_stored

        def no_database(*args, **kwargs):
            raise AssertionError("graded again although nothing changed")

        monkeypatch.setattr(a.intel.checks, "check_stored", no_database)
        assert a.intel.check("+84 912 000 333", client="x") == first  # kept: no query
        monkeypatch.setattr(a.intel.checks, "check_stored", stored)
        a.intel.report(indicators=["0912 000 333"], category="fake_courier", client="r2")  # its own write
        second = a.intel.check("0912000333", client="x")
        assert second["score"] > first["score"]
        b.intel.report(indicators=["0912 000 333"], category="fake_courier", client="r3")  # another worker's
        assert a.intel.check("0912000333", client="x") == second  # until a's refresh (5 minutes here)
        a.intel.known._checked = float("-inf")
        assert a.intel.check("0912000333", client="x")["score"] > second["score"]
        a.intel.flush_lookups()
        with a.db.read_session() as s:  # every lookup that found it is counted, from memory or not
            assert s.execute(select(Indicator.lookups)).scalar_one() == 5
    finally:
        a.close()
        b.close()


def test_the_direct_unknown_answer_is_the_graded_one(ip):
    from postguard.intel.answers import Graded, graded_answer, unknown_answer
    from postguard.intel.normalize import detect, norm_domain

    for raw in ("0912 345 678", "https://giao-hang-nhanh.example.com/phi", "Vietcombank 0123456789"):
        n = detect(raw)
        targets = [n] + ([norm_domain(n.host)] if n.type == "url" else [])
        assert unknown_answer(n, targets) == graded_answer(n, [Graded(t) for t in targets])


@pytest.mark.both_databases
def test_concurrent_lookups_of_one_known_value_grade_once(ip, monkeypatch):
    import asyncio
    import time as _time
    from concurrent.futures import ThreadPoolExecutor

    ip.intel.report(indicators=["0912 000 444"], category="fake_courier", client="r1")
    stored, calls = ip.intel.checks.check_stored, []

    def slow_grade(plan, **kw):
        calls.append(plan)
        _time.sleep(0.05)
        return stored(plan, **kw)

    monkeypatch.setattr(ip.intel.checks, "check_stored", slow_grade)
    plans = [ip.intel.checks.check_plan(raw, client="x") for raw in ["0912000444", "+84 912 000 444"] * 5]
    assert all(plan.answer is None for plan in plans)  # nothing kept yet: each would grade

    async def together():
        return await asyncio.gather(*[ip.intel.checks.grade_once(plan) for plan in plans])

    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever the test process's thread holds
        answers = pool.submit(asyncio.run, together()).result()
    assert len(calls) == 1 and all(a == answers[0] for a in answers) and answers[0]["verdict"] == "reported"
    assert ip.intel.checks.gradings_in_flight() == 0
    ip.intel.flush_lookups()
    with ip.db.read_session() as s:
        assert s.execute(select(Indicator.lookups)).scalar_one() == 10


def test_a_kept_answer_and_verdict_serve_for_less_than_thirty_seconds(ip, monkeypatch):
    """Nothing stored changes, yet an answer kept in memory serves for less than
    ``GRADE_CACHE_SECONDS``: then the lookup reads and grades again (decay, reputations)."""
    import time as _time

    from postguard.intel.kept import GRADE_CACHE_SECONDS

    ip.intel.report(indicators=["0912 000 555"], category="fake_courier", client="r1")
    checks, grader, calls = ip.intel.checks, ip.intel.grader, []
    stored, graded = checks.check_stored, grader.grade
    monkeypatch.setattr(checks, "check_stored", lambda plan, **kw: calls.append("read") or stored(plan, **kw))
    monkeypatch.setattr(grader, "grade", lambda s, ind, **kw: calls.append("grade") or graded(s, ind, **kw))
    start = _time.monotonic()
    clock = iter([start, start + GRADE_CACHE_SECONDS - 0.01, start + GRADE_CACHE_SECONDS + 0.01])
    now = next(clock)
    monkeypatch.setattr(_time, "monotonic", lambda: now)
    first = ip.intel.check("0912000555", client="x")
    assert calls == ["read", "grade"]
    now = next(clock)
    assert ip.intel.check("0912000555", client="x") == first and calls == ["read", "grade"]
    now = next(clock)
    assert ip.intel.check("0912000555", client="x") == first and calls == ["read", "grade", "read", "grade"]


def test_a_failed_grading_leaves_nothing_in_flight_and_each_waiter_meets_the_error(ip, monkeypatch):
    import asyncio
    import time as _time
    from concurrent.futures import ThreadPoolExecutor

    ip.intel.report(indicators=["0912 000 666"], category="fake_courier", client="r1")
    calls = []

    def broken(plan, **kw):
        calls.append(plan)
        _time.sleep(0.05)
        raise RuntimeError("the database is away")

    monkeypatch.setattr(ip.intel.checks, "check_stored", broken)
    plans = [ip.intel.checks.check_plan("0912000666", client="x") for _ in range(4)]

    async def together():
        return await asyncio.gather(*[ip.intel.checks.grade_once(plan) for plan in plans], return_exceptions=True)

    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, together()).result()
    assert all(isinstance(r, RuntimeError) for r in results) and len(calls) == 4  # one, then each waiter
    assert ip.intel.checks.gradings_in_flight() == 0


@pytest.mark.both_databases
def test_the_server_regrades_on_its_schedule_and_writes_only_what_moved(make_settings, monkeypatch):
    import time as _time

    from fastapi.testclient import TestClient

    from postguard.app import create_app

    settings = make_settings(intel_report_rate="1000/hour", intel_regrade_interval_seconds=1,
                             anomaly_scan_interval_seconds=0)
    p = Platform(settings)
    try:
        p.intel.report(indicators=["0912 000 555"], category="fake_courier", client="r1")
        assert p.intel.regrade_all() == {"graded": 1, "changed": 0}  # nothing moved: nothing written
        with p.db.session() as s:  # as if graded long ago with a higher score
            ind = s.execute(select(Indicator)).scalar_one()
            ind.score += 7
        runs = []
        real = p.intel.regrade_all
        monkeypatch.setattr(p.intel, "regrade_all", lambda: runs.append(real()))
        with TestClient(create_app(settings, platform=p)):
            deadline = _time.monotonic() + 10
            while not runs and _time.monotonic() < deadline:
                _time.sleep(0.1)
        assert runs and runs[0] == {"graded": 1, "changed": 1}
    finally:
        p.close()


@pytest.mark.both_databases
def test_known_index_catches_rows_committed_out_of_id_order(make_settings, monkeypatch):
    """A row that becomes visible below the highest id a worker knows (a PostgreSQL transaction
    that took its id early and committed late) is found by the next polls while rows arrive, and
    after that by the periodic count."""
    import os as _os

    from sqlalchemy import update

    from postguard.intel import known as known_mod

    a = Platform(make_settings(intel_index_refresh_seconds=300))
    try:
        idx = a.intel.known
        a.intel.report(indicators=["0912 000 666"], category="fake_courier", client="r")
        idx.refresh()

        def stored(n: int) -> bytes:
            digest = _os.urandom(32)
            with a.db.session() as s:
                s.add(Indicator(type="domain", digest=digest, display=f"synthetic-{n}.example"))
            return digest

        late, seen = stored(1), stored(2)
        with a.db.session() as s:  # not committed yet, as far as readers can tell: out of sight
            late_id = s.execute(select(Indicator.id).where(Indicator.digest == late)).scalar_one()
            s.execute(update(Indicator).where(Indicator.digest == late).values(id=-10**6))
        idx.refresh()
        assert idx.may_know(seen) and not idx.may_know(late)
        with a.db.session() as s:  # its commit becomes visible, below the highest id known
            s.execute(update(Indicator).where(Indicator.digest == late).values(id=late_id))
        idx.refresh()
        assert idx.may_know(late)

        monkeypatch.setattr(known_mod, "STRAGGLER_SECONDS", 0.0)  # later than the polls look back
        later = stored(3)
        with a.db.session() as s:
            s.execute(update(Indicator).where(Indicator.digest == later).values(id=-10**6 - 1))
        idx.refresh()
        assert not idx.may_know(later)
        idx._reconciled = float("-inf")  # the minute is up: the count disagrees, everything is reloaded
        idx.refresh()
        assert idx.may_know(later) and len(idx) == 4
    finally:
        a.close()


def _at_once(n: int, fn) -> list:
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


@pytest.mark.both_databases
def test_first_reports_from_one_client_at_once_share_one_reporter(ip):
    """12 first reports from one new client at the same moment: all accepted, one reporter row counting 12."""
    out = _at_once(12, lambda i: ip.intel.report(indicators=[f"0987 654 {i:03d}"], category="fake_courier",
                                                 client="203.0.113.7"))
    assert [r["status"] for r in out] == ["accepted"] * 12
    with ip.db.read_session() as s:
        assert s.execute(select(Reporter.reports)).scalars().all() == [12]


@pytest.mark.both_databases
def test_many_clients_reporting_one_new_number_at_once(ip):
    """12 clients report the same new number at once: all accepted, one indicator, 12 reporters."""
    out = _at_once(12, lambda i: ip.intel.report(indicators=["0966 100 200"], category="fake_bank",
                                                 client=f"198.51.100.{i}"))
    assert [r["status"] for r in out] == ["accepted"] * 12
    with ip.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(Indicator)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Reporter)).scalar_one() == 12
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 12


@pytest.mark.both_databases
def test_reports_naming_the_same_new_numbers_in_another_order_at_once(ip):
    """Two reports at once naming the same three new numbers in opposite orders, round after round:
    both accepted every time (they used to deadlock on PostgreSQL and answer 500)."""
    for r in range(12):
        numbers = [f"0955 {r:03d} 111", f"0944 {r:03d} 222", f"0933 {r:03d} 333"]
        out = _at_once(2, lambda i: ip.intel.report(indicators=numbers if i == 0 else numbers[::-1],  # noqa: B023  run within the round
                                                    category="fake_bank", client=f"198.51.100.{2 * r + i}"))  # noqa: B023
        assert [o["status"] for o in out] == ["accepted", "accepted"]
    with ip.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(Indicator)).scalar_one() == 36


def test_a_rotation_of_the_platform_key_keeps_intelligence_readable(ip):
    """Reported personal values, reporters' contacts and descriptions are sealed under the platform
    organisation's data key; a rotation's rewrap used to destroy the old version under them."""
    ip.intel.report(indicators=["0912 345 678"], category="fake_courier", description="gọi báo đơn hàng",
                    contact="a@example.org", client="c1")
    system = ip.intel.cli_principal()
    with ip.db.session() as s:
        ip.vault.rotate(s, org_id=system.org_id)
    assert ip.shipments.rewrap(system)["destroyed_versions"] == []
    with ip.db.read_session() as s:
        ind = s.execute(select(Indicator).where(Indicator.type == "phone")).scalar_one()
        assert ip.intel.store.values_of(s, [ind], purpose="lookup_index") == ["+84912345678"]
