"""Shared indicators, warnings and webhooks against real databases (SQLite and PostgreSQL), with a
loopback HTTP server as the webhook subscriber."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from postguard.alerts import webhooks
from postguard.audit.models import AuditEntry
from postguard.db import migrate
from postguard.errors import InvalidInput
from postguard.intel.models import Indicator
from postguard.intel.sharing import SharedIndicator, to_stix_bundle
from postguard.models import metadata
from postguard.orgs.service import Principal

T0 = datetime(2025, 6, 1, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def ind(value="+84912345678", kind="phone", **kw):
    base = dict(type=kind, value=value, verdict="confirmed", score=0.9, first_seen=T0, last_seen=T0, reports=4,
                categories=("courier-impersonation",), tlp="green")
    base.update(kw)
    return SharedIndicator(**base)


def warning(platform, **kw):
    base = dict(category="courier-impersonation", title_vi="Giả danh shipper đòi phí",
                title_en="Fake courier asks for a fee", body_vi="Shipper thật không thu phí lưu kho.",
                body_en="Real couriers never charge storage fees.", author="analyst-1")
    base.update(kw)
    return platform.warnings.publish(**base)


@pytest.mark.both_databases
def test_schema_in_step(platform):
    assert migrate.pending_changes(platform.db.engine, metadata) == []


def partner(platform, code="BANKX"):
    org = platform.orgs.create(code=code, name=f"Partner {code}")
    return Principal(org_id=org.id, org_code=org.code, actor=f"{code.lower()}-feed")


def test_stix_import_becomes_partner_reports_and_the_feed_is_the_intel_store(platform):
    now = datetime.now(UTC).replace(microsecond=0)
    seen = now - timedelta(days=2)
    bank = partner(platform)
    inds = [ind(first_seen=seen - timedelta(days=5), last_seen=seen),
            ind("970436:0123456789", "bank_account", categories=("fake_bank",), first_seen=seen, last_seen=seen),
            ind("https://giao-hang-vnpost.com/phi?ma=1", "url", categories=(), first_seen=seen, last_seen=seen)]
    bundle = to_stix_bundle(inds, identity_name="partner")
    assert platform.sharing.import_stix(json.dumps(bundle), principal=bank, source="partner.json") == {
        "added": 3, "updated": 0, "unchanged": 0, "withdrawn": 0}
    feed = {i.value: i for i in platform.intel_feed()}
    assert set(feed) == {"+84912345678", "970436:0123456789", "https://giao-hang-vnpost.com/phi?ma=1"}
    phone = feed["+84912345678"]
    # one organisation's word: reported (not the partner's "confirmed"), graded like any report
    assert (phone.verdict, phone.reports, phone.categories, phone.tlp) == ("reported", 1, ("fake_courier",), "amber")
    assert phone.first_seen == seen - timedelta(days=5) and phone.last_seen == seen
    assert feed["970436:0123456789"].tlp == "amber" and feed["970436:0123456789"].categories == ("fake_bank",)
    assert feed["https://giao-hang-vnpost.com/phi?ma=1"].tlp == "green"
    # the same bundle again changes nothing; a newer sighting adds a newer report
    assert platform.sharing.import_stix(bundle, principal=bank)["unchanged"] == 3
    newer = to_stix_bundle([ind(first_seen=seen, last_seen=now - timedelta(hours=1))], identity_name="p")
    assert platform.sharing.import_stix(newer, principal=bank)["updated"] == 1
    assert platform.intel_lookup("phone", "+84912345678").reports == 2
    # a second, independent organisation corroborates it
    other = partner(platform, "TELCOY")
    platform.intel.report(indicators=["0912 345 678"], category="fake_courier", principal=other, client="x")
    assert platform.intel_lookup("phone", "+84912345678").verdict == "corroborated"
    # the partner's delisting withdraws its reports (they stop counting)
    gone = to_stix_bundle([ind(verdict="delisted", first_seen=seen, last_seen=now)], identity_name="p")
    assert platform.sharing.import_stix(gone, principal=bank)["withdrawn"] == 1
    after = platform.intel_lookup("phone", "+84912345678")
    assert (after.verdict, after.reports) == ("reported", 1)
    # a bad indicator refuses the whole bundle: nothing is half-written
    bad = to_stix_bundle([ind("+84987654321")], identity_name="p")
    [i] = [o for o in bad["objects"] if o["type"] == "indicator"]
    next(iter(i["extensions"].values()))["verdict"] = "maybe"
    with pytest.raises(InvalidInput):
        platform.sharing.import_stix(bad, principal=bank)
    unreadable = to_stix_bundle([ind("+84987654321", last_seen=now, first_seen=now),
                                 ind("https://shop.example/x", "url", last_seen=now, first_seen=now)],
                                identity_name="p")
    with pytest.raises(InvalidInput) as e:
        platform.sharing.import_stix(unreadable, principal=bank)
    assert [fe.field for fe in e.value.errors] == ["indicators[1]"]
    assert platform.intel_lookup("phone", "+84987654321") is None
    assert "+84987654321" not in {i.value for i in platform.intel_feed()}


def test_feed_never_shares_unknown_or_official_and_marks_delisted(platform):
    admin = platform.intel.cli_principal()
    org = partner(platform, "VNPX")
    ch = platform.intel.official_add(admin, kind="hotline", value="1900 545 481", org_code=org.org_code)
    platform.intel.official_set_status(admin, ch["id"], status="verified")
    platform.intel.report(indicators=["0987 111 222", "android:com.giaohang.fake"], category="malware_app",
                          principal=org, client="x")
    assert platform.intel_lookup("phone", "+841900545481") is None  # official
    assert platform.intel_lookup("phone", "+84900000001") is None  # unknown
    assert {i.value for i in platform.intel_feed()} == {"+84987111222"}  # apps have no STIX form
    with platform.db.read_session() as s:
        iid = s.execute(select(Indicator.id).where(Indicator.type == "phone", Indicator.verdict == "reported")
                        ).scalar_one()
    platform.intel.decide(admin, iid, action="delist")
    [gone] = platform.intel_feed()
    assert gone.verdict == "delisted"
    assert platform.intel_lookup("phone", "+84987111222").verdict == "delisted"


def test_export_is_logged_before_values_leave(platform):
    platform.intel.report(indicators=["0987 111 333"], category="fake_courier", client="c", contact="a@b.vn")
    who = Principal(org_id=partner(platform).org_id, org_code="BANKX", actor="reader",
                    scopes=frozenset({"intel:read", "intel:amber"}))
    with platform.db.read_session() as s:
        before = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    bundle = platform.sharing.export_stix(who)
    assert "+84987111333" in json.dumps(bundle)
    with platform.db.read_session() as s:
        export, opened = s.execute(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(2)).scalars().all()[::-1]
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before + 2
    assert (export.action, export.actor) == ("intel_export", "reader")
    # then the platform opens the personal values through the door, logged too
    assert (opened.action, opened.actor, json.loads(opened.entry)["purpose"]) == ("open", "postguard:intel", "indicator_share")


def test_published_warnings_make_a_valid_atom_feed(platform):
    first = warning(platform)
    second = warning(platform, category="otp-theft", title_vi="Lừa lấy mã OTP", title_en="OTP theft")
    assert [w.id for w in platform.warnings.list()] == [second.id, first.id]
    for lang, title in (("vi", "Lừa lấy mã OTP"), ("en", "OTP theft")):
        root = ET.fromstring(platform.warnings.atom(lang=lang))
        assert root.tag == f"{ATOM}feed"
        for required in ("id", "title", "updated", "author"):
            assert root.find(f"{ATOM}{required}") is not None, required
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 2
        for e in entries:
            for required in ("id", "title", "updated", "content", "link", "category"):
                assert e.find(f"{ATOM}{required}") is not None, required
            assert e.find(f"{ATOM}id").text.startswith("urn:uuid:")
            datetime.fromisoformat(e.find(f"{ATOM}updated").text)
        assert entries[0].find(f"{ATOM}title").text == title


@pytest.mark.both_databases
def test_warning_input_is_checked(platform):
    with pytest.raises(InvalidInput) as e:
        warning(platform, category="nope", title_en=" ", body_vi="x\x00y")
    assert {fe.field for fe in e.value.errors} == {"category", "title_en", "body_vi"}
    assert platform.warnings.list() == []


class Receiver:
    """A loopback subscriber: answers with the queued statuses (then 204) and records requests."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 204
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        r = Receiver(statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.mark.both_databases
def test_webhook_delivery_is_signed_and_retried_with_backoff(platform, receiver):
    hook = receiver([500, 302, 503])
    sub = platform.webhooks.subscribe(url=hook.url, label="bank")
    other = platform.webhooks.subscribe(url=hook.url, label="telco")
    assert sub.secret.startswith("whsec_") and sub.secret != other.secret
    w = warning(platform)
    now = datetime.now(UTC)
    first = platform.webhooks.deliver_due(now=now)
    assert first == {"delivered": 0, "retrying": 2, "failed": 0}
    # nothing is due again before the backoff has passed
    assert platform.webhooks.deliver_due(now=now + timedelta(seconds=4)) == {"delivered": 0, "retrying": 0,
                                                                              "failed": 0}
    second = platform.webhooks.deliver_due(now=now + webhooks.backoff(1))
    assert second == {"delivered": 1, "retrying": 1, "failed": 0}  # the redirect was not followed
    third = platform.webhooks.deliver_due(now=now + webhooks.backoff(1) + webhooks.backoff(2))
    assert third == {"delivered": 1, "retrying": 0, "failed": 0}
    assert len(hook.requests) == 5
    secrets = {sub.secret, other.secret}
    ids = set()
    for headers, body in hook.requests:
        payload = json.loads(body)
        assert payload["type"] == "warning.published" and payload["data"]["id"] == w.id
        assert payload["data"]["title"] == {"vi": w.title["vi"], "en": w.title["en"]}
        ok = [s for s in secrets if webhooks.verify(s, headers=headers, body=body)]
        assert len(ok) == 1, "signed with exactly one subscriber's secret"
        assert not webhooks.verify(ok[0], headers=headers, body=body + b" ")
        assert not webhooks.verify(ok[0], headers=headers, body=body, now=int(headers["webhook-timestamp"]) + 301)
        ids.add(headers["webhook-id"])
    assert len(ids) == 2  # retries keep their message id
    assert sorted(d["status"] for d in platform.webhooks.deliveries()) == ["delivered", "delivered"]


@pytest.mark.both_databases
def test_webhook_gives_up_after_max_attempts(make_settings, receiver):
    from postguard.platform import Platform

    p = Platform(make_settings(webhook_max_attempts=2))
    try:
        hook = receiver([503, 503, 503])
        p.webhooks.subscribe(url=hook.url)
        warning(p)
        now = datetime.now(UTC)
        assert p.webhooks.deliver_due(now=now)["retrying"] == 1
        assert p.webhooks.deliver_due(now=now + timedelta(days=1))["failed"] == 1
        assert p.webhooks.deliver_due(now=now + timedelta(days=9)) == {"delivered": 0, "retrying": 0, "failed": 0}
        assert [(d["status"], d["attempts"], d["last_status"]) for d in p.webhooks.deliveries()] == [
            ("failed", 2, 503)]
    finally:
        p.close()


@pytest.mark.both_databases
def test_unreachable_subscriber_is_retried(platform):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    platform.webhooks.subscribe(url=f"http://127.0.0.1:{port}/x")
    warning(platform)
    assert platform.webhooks.deliver_due()["retrying"] == 1
    [d] = platform.webhooks.deliveries()
    assert d["attempts"] == 1 and d["last_status"] is None


def test_subscription_url_is_checked(platform):
    for bad in ("ftp://x.example/", "http://user:pw@x.example/", "not a url"):
        with pytest.raises(InvalidInput):
            platform.webhooks.subscribe(url=bad)


def test_screening_uses_intel_verdicts(platform):
    clean = platform.screening.screen(bank="VCB", account="0123456789", amount=500_000, ip="14.160.0.1",
                                      account_type="personal", new_payee=False)
    assert clean.risk == "low"
    platform.intel.report(indicators=["Vietcombank 0123456789"], category="fake_courier",
                          principal=partner(platform), client="x")
    reported = platform.screening.screen(bank="970436", account="0123 456 789", amount=500_000, ip="14.160.0.1",
                                         account_type="personal", new_payee=False)
    assert reported.risk == "medium" and reported.reasons[0].code == "reported_payee"
    with platform.db.read_session() as s:
        iid = s.execute(select(Indicator.id).where(Indicator.type == "bank_account")).scalar_one()
    platform.intel.decide(platform.intel.cli_principal(), iid, action="confirm")
    hit = platform.screening.screen(bank="970436", account="0123 456 789", amount=500_000, ip="14.160.0.1",
                                    account_type="personal", new_payee=False)
    assert hit.risk == "high" and hit.reasons[0].code == "reported_payee"
    with pytest.raises(InvalidInput) as e:
        platform.screening.screen(bank="VCB", account="1", amount=0, ip="nope", account_type="other",
                                  new_payee=True)
    assert {fe.field for fe in e.value.errors} == {"payee.account", "amount", "payer.ip", "payer.account_type"}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/plain,x"])
def test_the_webhook_opener_speaks_http_alone(url):
    """Deliveries go through an opener with no file:, ftp: or data: handler, whatever reaches it."""
    import urllib.error

    from postguard.alerts.webhooks import _opener

    with pytest.raises(urllib.error.URLError, match="unknown url type"):
        _opener.open(url, timeout=1)
