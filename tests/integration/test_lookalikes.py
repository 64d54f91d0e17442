"""The lookalike scanner's intake and the signed blocklist, on both databases: hits become reported
domain indicators (one report per host, dismissed hosts skipped for good), analysts confirm and
dismiss them, confirmed domains and links are published (RPZ, hosts, JSON; signed) and withdrawn,
every worker sees a decision within its refresh interval, and concurrent decisions and intakes end in
one consistent row."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import func, select

from postguard.audit.models import AuditEntry
from postguard.blocklist.models import BlocklistEntry, BlocklistVersion
from postguard.blocklist.service import HOST, verify
from postguard.db.base import utcnow
from postguard.errors import Forbidden, InvalidInput, NotFound
from postguard.intel.models import Indicator, LookalikeHit, Report, ReportIndicator
from postguard.intel.scanner import MAX_BATCH
from postguard.platform import Platform
from postguard.principals import ApiKeyPrincipal

pytestmark = pytest.mark.both_databases  # races, locks and upserts behave differently on each database


def ago(**delta) -> str:
    return (utcnow() - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def hit(host: str, **over) -> dict:
    from postguard.intel.normalize import registrable

    out = {"host": host, "domain": registrable(host), "brand": "Vietnam Post",
           "official": ["vnpost.vn", "vietnampost.vn"], "technique": "combosquat", "score": 82,
           "reasons": [{"code": "brand_token", "points": 45, "text": "contains the brand vnpost as a word"},
                       {"code": "scam_word", "points": 15, "text": "scam word cskh"}],
           "campaign": "{vnpost}-<w>.com", "seen": ago(days=2)}
    out.update(over)
    return out


@pytest.fixture
def lp(make_settings):
    p = Platform(make_settings(intel_check_rate="10000/minute", blocklist_rate="10000/minute",
                               blocklist_refresh_seconds=0))
    yield p
    p.close()


def analyst(p: Platform, actor: str = "analyst-1") -> ApiKeyPrincipal:
    return ApiKeyPrincipal(org_id=p.orgs.platform_org_id(), org_code="PG-INTEL", actor=actor,
                           scopes=frozenset({"intel:analyst"}))


def scanner(p: Platform) -> ApiKeyPrincipal:
    return ApiKeyPrincipal(org_id=p.orgs.platform_org_id(), org_code="PG-INTEL", actor="scanner-key",
                           scopes=frozenset({"intel:scanner"}))


def verdict(p: Platform, value: str) -> str:
    return p.intel.check(value, client="t")["verdict"]


def test_intake_reports_once_then_counts_and_dismissed_hosts_are_skipped_for_good(lp):
    sc = scanner(lp)
    out = lp.intel.scanner.ingest(sc, [hit("vnpost-vn.com"), hit("cskh-vnpost.com", campaign=None)])
    assert out == {"new": 2, "updated": 0, "skipped_dismissed": 0, "invalid": 0, "errors": []}
    assert verdict(lp, "vnpost-vn.com") == "reported"
    again = lp.intel.scanner.ingest(sc, [hit("VNPOST-VN.com", score=90, seen=ago(hours=1))])
    assert again["updated"] == 1 and again["new"] == 0, again
    with lp.db.read_session() as s:
        h = s.execute(select(LookalikeHit).where(LookalikeHit.host == "vnpost-vn.com")).scalar_one()
        assert (h.times_seen, h.score, h.status) == (2, 90, "new")
        assert utcnow() - h.last_seen < timedelta(hours=2) and utcnow() - h.first_seen > timedelta(days=1)
        reports = s.execute(select(Report).join(ReportIndicator).where(ReportIndicator.indicator_id == h.indicator_id)
                            ).scalars().all()
        assert [(r.reporter_kind, r.category) for r in reports] == [("scanner", "fake_website")]
    # the analyst view names the scanner as the source
    view = lp.intel.indicator(analyst(lp), h.indicator_id)
    assert [r["reporter_kind"] for r in view["reports_detail"]] == ["scanner"]

    dismissed = lp.intel.scanner.dismiss(analyst(lp), "vnpost-vn.com", note="a real shop")
    assert dismissed["status"] == "dismissed" and dismissed["decided_by"] == "analyst-1"
    assert verdict(lp, "vnpost-vn.com") == "delisted"
    later = lp.intel.scanner.ingest(sc, [hit("vnpost-vn.com", brand="Viettel Post", score=99)])
    assert later == {"new": 0, "updated": 0, "skipped_dismissed": 1, "invalid": 0, "errors": []}
    assert verdict(lp, "vnpost-vn.com") == "delisted"
    with lp.db.read_session() as s:
        h = s.execute(select(LookalikeHit).where(LookalikeHit.host == "vnpost-vn.com")).scalar_one()
        assert (h.brand, h.score, h.times_seen) == ("Vietnam Post", 90, 2)
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 2
    listed = lp.intel.scanner.hits(analyst(lp), status="new")
    assert [i["host"] for i in listed["items"]] == ["cskh-vnpost.com"]
    assert listed["campaigns"] == [{"campaign": None, "hits": 1, "new": 1}]
    entries = lp.db.read_session
    with entries() as s:
        actions = s.execute(select(AuditEntry.action)).scalars().all()
    assert "intel_scanner_ingest" in actions and "intel_delist" in actions


def test_hostile_hits_are_reported_by_index_and_field_and_good_ones_land(lp):
    bad = [
        "not an object", None, [], {"host": "x"},
        hit("vnpost-vn.com", score=101), hit("a.com", score=True), hit("b.com", technique="phish"),
        hit("vnpost.vn"), hit("shop.vnpost.vn", domain="vnpost.vn"),  # the brand's own domains
        hit("c.com", domain="d.com"), hit("1.2.3.4", domain="1.2.3.4"), hit("com.vn", domain="com.vn"),
        hit("e.com", reasons=[{"code": "x", "points": 1, "text": "t"}] * 21),
        hit("f.com", reasons=[{"code": "x", "points": 1, "text": "t" * 301}]),
        hit("g.com", reasons=[{"code": "X Y", "points": 1, "text": "t"}]),
        hit("h.com", reasons=[{"code": "x", "points": 1, "text": "t", "extra": {"deep": [[[]]]}}]),
        hit("i.com", campaign="c" * 201), hit("j.com", brand=""), hit("k.com", brand="b\x00rand"),
        hit("l.com", seen="yesterday"), hit("m.com", seen="2999-01-01T00:00:00Z"), hit("n.com", seen="2026-12-07T02:00:00"),
        hit("o.com", evil=1), hit("p" * 300 + ".com", domain="x.com"), hit("q.com", official="vnpost.vn"),
        hit("r.com", official=[1]), hit("s.com", score=10**30), hit("t.com", brand=["x"]),
        hit("ư.com", domain="xn--yia.com", seen=None),  # fine: an IDN, no time
        hit("good-vnpost.com"),
    ]
    out = lp.intel.scanner.ingest(scanner(lp), bad)
    assert out["new"] == 2 and out["invalid"] == len(bad) - 2, out["errors"][-5:]
    by_index = {}
    for e in out["errors"]:
        by_index.setdefault(e["index"], set()).add(e["field"])
    assert set(by_index) == set(range(len(bad) - 2))
    assert by_index[4] == {"score"} and by_index[6] == {"technique"} and by_index[7] == {"host"}
    assert by_index[9] == {"domain"} and by_index[12] == {"reasons"} and by_index[13] == {"reasons[0].text"}
    assert by_index[16] == {"campaign"} and by_index[22] == {"evil"} and by_index[24] == {"official"}
    with lp.db.read_session() as s:
        assert sorted(s.execute(select(LookalikeHit.host)).scalars()) == ["good-vnpost.com", "xn--yia.com"]
    with pytest.raises(InvalidInput) as e:
        lp.intel.scanner.ingest(scanner(lp), (hit("x.com") for _ in range(MAX_BATCH + 1)))
    assert e.value.errors[0].field == "hits"
    with pytest.raises(Forbidden):
        lp.intel.scanner.ingest(ApiKeyPrincipal(org_id=1, org_code="X", actor="k", scopes=frozenset({"intel:read"})),
                                [hit("y.com")])
    with pytest.raises(Forbidden):
        lp.intel.scanner.confirm(scanner(lp), "good-vnpost.com")  # the scanner's key sends hits, nothing else
    with pytest.raises(NotFound):
        lp.intel.scanner.confirm(analyst(lp), "nothing-here.com")


def test_confirm_publishes_delist_withdraws_and_the_list_is_signed(lp):
    lp.intel.scanner.ingest(scanner(lp), [hit("vnpost-vn.com"), hit("cskh-vnpost.net")])
    first = lp.blocklist.published()
    confirmed = lp.intel.scanner.confirm(analyst(lp), "vnpost-vn.com", note="login form")
    assert confirmed["status"] == "confirmed" and confirmed["verdict"] == "confirmed"
    # a link on a shared host: in JSON only; its host is not blocked
    link = lp.intel.report(indicators=["https://sites.google.com/view/vnpost-phat-hang"], category="fake_website",
                           client="c1")
    assert link["status"] == "accepted"
    with lp.db.read_session() as s:
        link_id = s.execute(select(Indicator.id).where(Indicator.type == "url")).scalar_one()
    lp.intel.decide(analyst(lp), link_id, action="confirm")
    pub = lp.blocklist.published()
    assert pub.serial == first.serial + 2
    rpz, hosts, js = (pub.formats[f].body.decode() for f in ("rpz", "hosts", "json"))
    assert "vnpost-vn.com CNAME ." in rpz and "*.vnpost-vn.com CNAME ." in rpz
    assert "sites.google.com" not in rpz and "sites.google.com" not in hosts and "cskh-vnpost.net" not in rpz
    assert "0.0.0.0 vnpost-vn.com" in hosts.splitlines()
    doc = orjson.loads(js)
    assert doc["version"] == pub.serial
    assert {(e["type"], e["value"], e["brand"]) for e in doc["entries"]} == {
        ("domain", "vnpost-vn.com", "Vietnam Post"), ("url", "sites.google.com/view/vnpost-phat-hang", None)}
    key = lp.blocklist.public_key()
    for r in pub.formats.values():
        assert verify(r.body, r.signature, key)
        assert not verify(r.body.replace(b"vnpost-vn", b"vnpost-vm"), r.signature, key)
        assert not verify(r.body + b"\n", r.signature, key)
    # withdrawal: delisting removes it, the serial goes up, the next version omits it
    lp.intel.scanner.dismiss(analyst(lp), "vnpost-vn.com")
    after = lp.blocklist.published()
    assert after.serial == pub.serial + 1
    assert b"vnpost-vn.com" not in after.formats["rpz"].body and b"vnpost-vn.com" not in after.formats["json"].body
    # clearing the link's confirmation withdraws it too; a dispute of an unlisted one changes nothing
    lp.intel.decide(analyst(lp), link_id, action="clear")
    lp.intel.decide(analyst(lp), link_id, action="dispute")
    final = lp.blocklist.published()
    assert final.serial == after.serial + 1 and orjson.loads(final.formats["json"].body)["entries"] == []
    assert "sites.google.com" not in final.formats["json"].body.decode()


def test_a_decision_on_one_worker_shows_on_another_within_its_refresh(make_settings):
    settings = make_settings(blocklist_refresh_seconds=0.3, intel_check_rate="10000/minute")
    a, b = Platform(settings), Platform(settings)
    try:
        a.intel.scanner.ingest(scanner(a), [hit("vnpost-vn.com")])
        before = b.blocklist.published()
        a.intel.scanner.confirm(analyst(a), "vnpost-vn.com")
        assert a.blocklist.published().serial == before.serial + 1  # the deciding worker at once
        time.sleep(0.35)
        seen = b.blocklist.published()
        assert seen.serial == before.serial + 1 and b"vnpost-vn.com CNAME ." in seen.formats["rpz"].body
        # both workers serve the same bytes for a version, signed by the same key
        assert seen.formats["json"].body == a.blocklist.published().formats["json"].body
        assert seen.formats["rpz"].etag == a.blocklist.published().formats["rpz"].etag
        assert a.blocklist.public_key() == b.blocklist.public_key()
        b.intel.scanner.dismiss(analyst(b), "vnpost-vn.com")
        time.sleep(0.35)
        assert b"vnpost-vn.com" not in a.blocklist.published().formats["hosts"].body
    finally:
        a.close()
        b.close()


def test_two_analysts_deciding_at_once_end_in_one_consistent_row(lp):
    lp.intel.scanner.ingest(scanner(lp), [hit(f"vnpost-{i}.com") for i in range(4)])
    for i in range(4):
        barrier = threading.Barrier(2)

        def decide(action: str, n: int, i=i, barrier=barrier):
            barrier.wait()
            who = analyst(lp, f"analyst-{n}")
            host = f"vnpost-{i}.com"
            return (lp.intel.scanner.confirm if action == "confirm" else lp.intel.scanner.dismiss)(who, host)

        with ThreadPoolExecutor(2) as ex:
            results = list(ex.map(decide, ["confirm", "dismiss"], [1, 2]))
        assert len(results) == 2
        with lp.db.read_session() as s:
            h = s.execute(select(LookalikeHit).where(LookalikeHit.host == f"vnpost-{i}.com")).scalar_one()
            ind = s.get(Indicator, h.indicator_id)
            listed = s.execute(select(func.count()).select_from(BlocklistEntry)
                               .where(BlocklistEntry.indicator_id == ind.id)).scalar_one()
        assert (ind.decision, h.status, listed) in (("confirmed", "confirmed", 1), ("delisted", "dismissed", 0))
        assert h.decided_by == ("analyst-1" if h.status == "confirmed" else "analyst-2")


def test_two_intakes_of_one_host_at_once_make_one_row_and_one_report(lp):
    hosts = [f"cskh-vnpost-{i}.com" for i in range(30)]
    barrier = threading.Barrier(3)

    def send(order):
        barrier.wait()
        return lp.intel.scanner.ingest(scanner(lp), [hit(h) for h in order])

    with ThreadPoolExecutor(3) as ex:
        outs = list(ex.map(send, [hosts, hosts[::-1], hosts[10:] + hosts[:10]]))
    assert sum(o["new"] for o in outs) == 30 and sum(o["updated"] for o in outs) == 60
    with lp.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(LookalikeHit)).scalar_one() == 30
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 30
        assert set(s.execute(select(LookalikeHit.times_seen)).scalars()) == {3}


def test_concurrent_confirmations_each_raise_the_serial_once(lp):
    lp.intel.scanner.ingest(scanner(lp), [hit(f"vnpost-{i}.com") for i in range(6)])
    start = lp.blocklist.published().serial
    with ThreadPoolExecutor(3) as ex:
        list(ex.map(lambda i: lp.intel.scanner.confirm(analyst(lp), f"vnpost-{i}.com"), range(6)))
    pub = lp.blocklist.published()
    assert pub.serial == start + 6
    names = [ln.split()[0] for ln in pub.formats["rpz"].body.decode().splitlines() if ln.endswith("CNAME .")]
    assert sorted(names) == sorted([f"vnpost-{i}.com" for i in range(6)] + [f"*.vnpost-{i}.com" for i in range(6)])
    assert all(HOST.match(n.removeprefix("*.")) for n in names)
    with lp.db.read_session() as s:
        assert s.get(BlocklistVersion, 1).serial == start + 6


def test_a_sealed_value_is_opened_once_through_the_door_and_reconcile_repairs(lp):
    lp.intel.scanner.ingest(scanner(lp), [hit("vnpost-vn.com")])
    with lp.db.session() as s:  # a value stored sealed (none is today): only the door opens it
        ind = s.execute(select(Indicator).where(Indicator.value == "vnpost-vn.com")).scalar_one()
        ind.value_ct = lp.intel.store.seal(s, ind.value, table="intel_indicators", column="value", record_id=ind.id)
        ind.value = None
    lp.intel.scanner.confirm(analyst(lp), "vnpost-vn.com")
    for _ in range(3):
        assert b"vnpost-vn.com CNAME ." in lp.blocklist.published().formats["rpz"].body
    with lp.db.read_session() as s:
        opened = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "blocklist_publish")).all()
    assert len(opened) == 1
    # a publication lost (the entry removed behind its back) comes back at the next reconcile
    with lp.db.session() as s:
        s.execute(BlocklistEntry.__table__.delete())
    assert lp.blocklist.reconcile() == {"listed": 1, "added": 1, "withdrawn": 0}
    assert lp.blocklist.reconcile() == {"listed": 1, "added": 0, "withdrawn": 0}
