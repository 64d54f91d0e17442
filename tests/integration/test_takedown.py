"""Takedown requests: recipients, the evidence pack and its letter, the state machine, sending through
the outbox and through a local SMTP server, failures, hostile input, and concurrent analysts (the
state machine and the races on both databases: every change is a conditional UPDATE whose behaviour
under concurrency is the database's)."""

from __future__ import annotations

import base64
import email
import hashlib
import io
import json
import socketserver
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
from sqlalchemy import func, select, update

from postguard.audit.models import AuditEntry
from postguard.errors import Conflict, Forbidden, InvalidInput, NotFound
from postguard.intel.models import Indicator, Report
from postguard.intel.service import Upload
from postguard.orgs.service import Principal
from postguard.platform import Platform
from postguard.takedown.facts import ScannerFacts
from postguard.takedown.models import TakedownEvent, TakedownRequest
from postguard.takedown.senders import OutboxSender, SendFailed, SmtpSender
from postguard.takedown.service import TRANSITIONS, ContactIn

PNG = b"\x89PNG\r\n\x1a\n" + b"synthetic screenshot of the scam page " * 8
PDF = b"%PDF-1.4\n% synthetic evidence document\n" * 4
CONTACT = "nguoibao.synthetic@example.org"
DESCRIPTION = "SYNTHETIC-DESCRIPTION-MARKER: trang yêu cầu nhập OTP"
HOSTING = ContactIn(name="Synthetic Hosting JSC", email="abuse@hosting.example")


class FakeFacts:
    def __init__(self, facts: ScannerFacts | None) -> None:
        self.value = facts

    def facts(self, session, indicator):
        return self.value


VNPOST = ScannerFacts(brand="VNPost", official_domains=("vnpost.vn",), technique="combosquatting",
                      reasons=("the name contains the brand vnpost",),
                      first_seen=datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc))


@pytest.fixture
def tp(make_settings, tmp_path):
    p = Platform(make_settings(intel_report_rate="1000/hour", takedown_outbox_dir=tmp_path / "outbox"))
    yield p
    p.close()


def analyst(p: Platform, actor: str = "analyst-1") -> Principal:
    return Principal(org_id=p.intel.key_org_id(), org_code="PG-INTEL", actor=actor, scopes=frozenset({"intel:analyst"}))


def confirmed(p: Platform, value: str, *, files=(PNG, PDF), reports: int = 1, confirm: bool = True) -> int:
    """A site reported ``reports`` times (the first with ``files``, a contact and a description) and confirmed."""
    for i in range(reports):
        p.intel.report(indicators=[value], category="fake_courier", description=DESCRIPTION,
                       contact=CONTACT, evidence=[Upload(f, None) for f in files] if i == 0 else None,
                       client=f"198.51.100.{i + 1}")
    with p.db.read_session() as s:
        ind_id = s.execute(select(Indicator.id).where(Indicator.type.in_(("domain", "url")))
                           .order_by(Indicator.id.desc()).limit(1)).scalar_one()
    if confirm:
        p.intel.decide(p.intel.cli_principal(), ind_id, action="confirm", note="checked the page")
    return ind_id


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def request_of(out: dict, kind: str) -> dict:
    return next(r for r in out["requests"] if r["recipient"]["kind"] == kind)


# -- the pack ----------------------------------------------------------------------------------------
def test_the_pack_holds_the_letter_the_evidence_and_a_manifest_with_every_hash(tp):
    tp.takedowns.facts = FakeFacts(VNPOST)
    ind = confirmed(tp, "giaohang-vnpost-xacnhan.com", reports=2)
    who = analyst(tp)
    out = tp.takedowns.create(who, indicator_id=ind, reason="Trang giả mạo yêu cầu nhập OTP.", hosting=HOSTING)
    assert [r["recipient"]["kind"] for r in out["requests"]] == ["registrar", "hosting"]
    registrar, hosting = request_of(out, "registrar"), request_of(out, "hosting")
    assert registrar["recipient"]["needs_contact"] and registrar["recipient"]["email"] is None  # .com: no WHOIS
    assert hosting["recipient"] == {"kind": "hosting", "name": "Synthetic Hosting JSC", "email": "abuse@hosting.example",
                                    "url": None, "source": "analyst", "needs_contact": False}
    name, data = tp.takedowns.pack(who, hosting["ref"])
    assert name == f"takedown-{hosting['ref']}.zip"
    files = unzip(data)
    assert sorted(files) == sorted(["letter.txt", "manifest.json", *[n for n in files if n.startswith("evidence/")]])
    manifest = json.loads(files["manifest.json"])
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for n, f in listed.items():
        assert f["sha256"] == hashlib.sha256(files[n]).hexdigest() and f["size"] == len(files[n])
    assert sorted(v for n, v in files.items() if n.startswith("evidence/")) == sorted([PNG, PDF])
    assert {f["media_type"] for n, f in listed.items() if n.startswith("evidence/")} == {"image/png", "application/pdf"}
    assert manifest["site"]["host"] == "giaohang-vnpost-xacnhan.com" and manifest["site"]["type"] == "domain"
    assert manifest["brand"] == {"name": "VNPost", "official_domains": ["vnpost.vn"], "technique": "combosquatting"}
    assert manifest["site"]["first_seen"].startswith("2026-11-30")
    assert manifest["reports"]["count"] == 2 and manifest["reports"]["distinct_reporters"] == 2
    assert manifest["decision"]["decision"] == "confirmed" and manifest["decision"]["by"] == "cli"
    assert "the name contains the brand vnpost" in manifest["reasons"]["scanner"]
    assert manifest["reasons"]["analyst"] == "Trang giả mạo yêu cầu nhập OTP."
    assert manifest["left_out"] == [] and manifest["personal_data"].startswith("none")
    letter = files["letter.txt"].decode()
    for needle in ("giaohang-vnpost-xacnhan.com", "VNPost", "vnpost.vn", "Giả mạo thương hiệu", "Imitates the brand",
                   hosting["ref"], "Synthetic Hosting JSC"):
        assert needle in letter
    # No reporter's personal data anywhere in the pack by default.
    blob = b"".join(files.values())
    assert CONTACT.encode() not in blob and b"SYNTHETIC-DESCRIPTION-MARKER" not in blob
    # Deterministic: the same request gives the same bytes.
    assert tp.takedowns.pack(who, hosting["ref"])[1] == data
    # Evidence was opened through the door, logged first with the purpose.
    with tp.db.read_session() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "takedown_evidence_open")).scalars().all()
    assert len(entries) == 2 and {json.loads(e.entry)["purpose"] for e in entries} == {"takedown_evidence"}
    assert all(e.actor == "analyst-1" and e.subject == f"takedown:{hosting['ref']}" for e in entries)


def test_without_scanner_facts_the_letter_says_the_brand_is_not_known(tp):
    ind = confirmed(tp, "nhan-buu-pham-ngay.com", files=())
    out = tp.takedowns.create(analyst(tp), indicator_id=ind, hosting=HOSTING)
    files = unzip(tp.takedowns.pack(analyst(tp), request_of(out, "hosting")["ref"])[1])
    manifest = json.loads(files["manifest.json"])
    assert manifest["brand"] is None and manifest["evidence_files"] == 0
    assert "Imitated brand: not determined" in files["letter.txt"].decode()
    assert [f["name"] for f in manifest["files"]] == ["letter.txt"]


def test_the_pack_is_bounded_and_says_what_it_left_out(make_settings, tmp_path):
    p = Platform(make_settings(intel_report_rate="1000/hour", takedown_pack_max_files=1,
                               takedown_outbox_dir=tmp_path / "o"))
    try:
        ind = confirmed(p, "vnpost-giaolai.com")
        out = p.takedowns.create(analyst(p), indicator_id=ind, hosting=HOSTING)
        manifest = json.loads(unzip(p.takedowns.pack(analyst(p), request_of(out, "hosting")["ref"])[1])["manifest.json"])
        assert manifest["evidence_files"] == 1
        assert [x["reason"] for x in manifest["left_out"]] == ["over the file limit"]
        assert manifest["limits"]["max_files"] == 1
    finally:
        p.close()


def test_a_report_text_goes_in_only_when_an_analyst_includes_it_and_never_a_contact(tp):
    ind = confirmed(tp, "phi-luu-kho-vnpost.com")
    with tp.db.read_session() as s:
        public_id = s.execute(select(Report.public_id)).scalar_one()
    with pytest.raises(InvalidInput) as e:
        tp.takedowns.create(analyst(tp), indicator_id=ind, hosting=HOSTING, include_reports=["R-NOT-HERE"])
    assert e.value.errors[0].field == "include_reports[0]"
    out = tp.takedowns.create(analyst(tp), indicator_id=ind, hosting=HOSTING, include_reports=[public_id])
    files = unzip(tp.takedowns.pack(analyst(tp), request_of(out, "hosting")["ref"])[1])
    assert files[f"reports/{public_id}.txt"].decode() == DESCRIPTION
    assert CONTACT.encode() not in b"".join(files.values())
    assert json.loads(files["manifest.json"])["personal_data"]["report_texts"] == [public_id]
    with tp.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "takedown_report_open")).scalar_one() == 1


# -- recipients --------------------------------------------------------------------------------------
def test_recipients_vnnic_for_vn_platforms_for_hosted_sites_and_needs_a_contact_otherwise(tp):
    who = analyst(tp)
    vn = tp.takedowns.create(who, indicator_id=confirmed(tp, "vnpost-tracking.vn", files=()))
    reg = request_of(vn, "registrar")
    assert reg["recipient"]["url"] == "https://baocaolamdungdns.vnnic.vn/" and "VNNIC" in reg["recipient"]["name"]
    assert reg["recipient"]["source"] == "builtin:registry:vn"
    assert request_of(vn, "hosting")["recipient"]["needs_contact"]
    with pytest.raises(Conflict, match="web form"):
        tp.takedowns.send(who, reg["ref"])
    with pytest.raises(Conflict, match="needs a contact"):
        tp.takedowns.send(who, request_of(vn, "hosting")["ref"])
    # An analyst's contact fills in a draft that had none (create is idempotent).
    again = tp.takedowns.create(who, indicator_id=vn["indicator"], hosting=HOSTING)
    assert again["created"] == [] and request_of(again, "hosting")["recipient"]["email"] == "abuse@hosting.example"

    ind = confirmed(tp, "theo-doi-don-hang.vercel.app", files=())
    hosted = tp.takedowns.create(who, site="theo-doi-don-hang.vercel.app")
    assert hosted["indicator"] == ind
    assert [(r["recipient"]["kind"], r["recipient"]["email"]) for r in hosted["requests"]] == [
        ("platform", "abuse@vercel.com")]
    confirmed(tp, "https://sites.google.com/view/vnpost-hoan-tien", files=())
    google = tp.takedowns.create(who, site="https://sites.google.com/view/vnpost-hoan-tien")
    assert [r["recipient"]["source"] for r in google["requests"]] == ["builtin:platform:sites.google.com"]
    confirmed(tp, "http://203.0.113.9/vnpost/login", files=())
    bare = tp.takedowns.create(who, site="http://203.0.113.9/vnpost/login")
    assert [(r["recipient"]["kind"], r["recipient"]["needs_contact"]) for r in bare["requests"]] == [("hosting", True)]


def test_hostile_and_wrong_input_is_a_clear_4xx(tp):
    who = analyst(tp)
    ind = confirmed(tp, "xac-nhan-cod-vnpost.com", files=())
    phone = tp.intel.report(indicators=["0912 345 678"], category="fake_courier", client="203.0.113.7")
    with tp.db.read_session() as s:
        phone_id = s.execute(select(Indicator.id).where(Indicator.type == "phone")).scalar_one()
    assert phone["status"] == "accepted"
    tp.intel.decide(tp.intel.cli_principal(), phone_id, action="confirm")

    def refused(field: str, **kw) -> None:
        with pytest.raises(InvalidInput) as e:
            tp.takedowns.create(who, **kw)
        assert e.value.errors[0].field == field, e.value.errors

    refused("indicator", indicator_id=phone_id)  # not a site
    refused("site", site="0912 345 678")
    refused("site", site="exa mple..com")
    refused("site", site="x" * 5000)
    refused("site", site="vercel.app")  # the platform itself, once confirmed
    refused("reason", indicator_id=ind, reason="x" * 2001)
    refused("reason", indicator_id=ind, reason="bad\x00byte")
    refused("hosting.email", indicator_id=ind, hosting=ContactIn(email="abuse@example.com\r\nBcc: x@example.com"))
    refused("hosting.email", indicator_id=ind, hosting=ContactIn(name="Only a name"))
    refused("registrar.url", indicator_id=ind, registrar=ContactIn(url="javascript:alert(1)"))
    refused("indicator", indicator_id=ind, site="xac-nhan-cod-vnpost.com")
    with pytest.raises(NotFound):
        tp.takedowns.create(who, site="never-reported.example.com")
    with pytest.raises(NotFound):
        tp.takedowns.create(who, indicator_id=10**12)
    unconfirmed = confirmed(tp, "chua-xac-nhan.com", files=(), confirm=False)
    with pytest.raises(Conflict, match="not confirmed"):
        tp.takedowns.create(who, indicator_id=unconfirmed)
    ref = request_of(tp.takedowns.create(who, indicator_id=ind, hosting=HOSTING), "hosting")["ref"]
    with pytest.raises(InvalidInput) as e:
        tp.takedowns.set_status(who, ref, status="sent", note="n" * 2001)
    assert e.value.errors[0].field == "note"
    with pytest.raises(InvalidInput):
        tp.takedowns.set_status(who, ref, status="failed")
    with pytest.raises(InvalidInput):
        tp.takedowns.list(who, status="nonsense")
    with pytest.raises(InvalidInput):
        tp.takedowns.list(who, site="bad host!")
    with pytest.raises(NotFound):
        tp.takedowns.get(who, "TD-" + "F" * 40)
    # Without the analyst scope nothing is done, and the refusal is logged.
    operator = Principal(org_id=who.org_id, org_code="PG-INTEL", actor="reader", scopes=frozenset({"intel:read"}))
    with pytest.raises(Forbidden):
        tp.takedowns.pack(operator, ref)
    with tp.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor == "reader", AuditEntry.action == "access_denied")).scalar_one() == 1


# -- the state machine (both databases) --------------------------------------------------------------
def _drive(p: Platform, ref: str, state: str) -> None:
    who = analyst(p)
    if state == "failed":
        p.takedowns.sender = Broken()
        with pytest.raises(SendFailed):
            p.takedowns.send(who, ref)
        return
    path = {"draft": [], "sent": ["sent"], "acknowledged": ["sent", "acknowledged"], "removed": ["sent", "removed"],
            "refused": ["sent", "acknowledged", "refused"]}[state]
    for step in path:
        p.takedowns.set_status(who, ref, status=step, note=f"to {step}")


class Broken:
    name = "broken"

    def send(self, message):
        raise SendFailed("The SMTP server answered 451 (SMTPDataError).")


@pytest.mark.both_databases
def test_every_transition_is_allowed_or_refused_as_the_table_says(tp):
    who = analyst(tp)
    for n, state in enumerate(TRANSITIONS):
        ind = confirmed(tp, f"buoc-{n}-vnpost.com", files=())
        ref = request_of(tp.takedowns.create(who, indicator_id=ind, hosting=HOSTING), "hosting")["ref"]
        _drive(tp, ref, state)
        assert tp.takedowns.get(who, ref)["status"] == state
        for target in ("sent", "acknowledged", "removed", "refused"):
            if target in TRANSITIONS[state]:
                continue
            before = tp.takedowns.get(who, ref)
            with pytest.raises(Conflict, match=f"is {state}"):
                tp.takedowns.set_status(who, ref, status=target)
            assert tp.takedowns.get(who, ref) == before  # nothing changed
        if TRANSITIONS[state]:
            target = TRANSITIONS[state][-1]
            view = tp.takedowns.set_status(who, ref, status=target, note="answer received")
            assert view["status"] == target and view[f"{target}_at"] is not None
    # The history and the access log hold every change, with who.
    with tp.db.read_session() as s:
        events = s.execute(select(TakedownEvent)).scalars().all()
        logged = s.execute(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.action.in_(("takedown_status", "takedown_send_failed")))).scalar_one()
    changes = [e for e in events if e.from_status is not None and e.from_status != e.to_status]
    assert logged == len(changes) and all(e.actor == "analyst-1" for e in changes)


@pytest.mark.both_databases
def test_a_stale_version_is_refused(tp):
    who = analyst(tp)
    ref = request_of(tp.takedowns.create(who, indicator_id=confirmed(tp, "cu-vnpost.com", files=()), hosting=HOSTING),
                     "hosting")["ref"]
    v = tp.takedowns.get(who, ref)["version"]
    tp.takedowns.set_status(who, ref, status="sent", version=v)
    with pytest.raises(Conflict, match="changed meanwhile"):
        tp.takedowns.set_status(who, ref, status="acknowledged", version=v)


# -- sending -----------------------------------------------------------------------------------------
def test_send_through_the_outbox_writes_one_eml_with_the_pack_attached(tp, tmp_path):
    who = analyst(tp)
    tp.takedowns.facts = FakeFacts(VNPOST)
    ind = confirmed(tp, "vnpost-hoantien.com")
    ref = request_of(tp.takedowns.create(who, indicator_id=ind, hosting=HOSTING), "hosting")["ref"]
    view = tp.takedowns.send(who, ref)
    assert view["status"] == "sent" and view["attempts"] == 1 and view["sent_at"]
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["To"] == "abuse@hosting.example" and ref in msg["Subject"] and "vnpost-hoantien.com" in msg["Subject"]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "VNPost" in body and "vnpost.vn" in body and "vnpost-hoantien.com" in body
    (attachment,) = list(msg.iter_attachments())
    pack = attachment.get_content()
    assert attachment.get_filename() == f"takedown-{ref}.zip"
    assert hashlib.sha256(pack).hexdigest() == view["pack_sha256"]
    assert tp.takedowns.pack(who, ref)[1] == pack  # what was sent can be downloaded again, byte for byte
    with pytest.raises(Conflict, match="is sent"):
        tp.takedowns.send(who, ref)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    with tp.db.read_session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "takedown_sent")).scalar_one()
    assert entry.subject == f"takedown:{ref}"


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for one client: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        srv = self.server
        self.reply("220 synthetic.test ESMTP")
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-synthetic.test")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                _authzid, user, password = base64.b64decode(line.split()[2]).split(b"\0")
                srv.logins.append((user.decode(), password.decode()))
                self.reply("235 ok")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                if verb == "RCPT":
                    srv.rcpt.append(line)
                self.reply("250 ok")
            elif verb == "DATA":
                if srv.fail_data:
                    self.reply("554 synthetic refusal")
                    continue
                self.reply("354 go on")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                srv.messages.append(b"".join(data))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    srv.daemon_threads = True
    srv.messages, srv.logins, srv.rcpt, srv.fail_data = [], [], [], False
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_send_through_a_local_smtp_server_and_a_failure_leaves_it_failed_and_retriable(tp, smtp, caplog):
    who = analyst(tp)
    ind = confirmed(tp, "dich-vu-buu-chinh-vnpost.com")
    ref = request_of(tp.takedowns.create(who, indicator_id=ind, hosting=HOSTING), "hosting")["ref"]
    port = smtp.server_address[1]
    secret = "synthetic-smtp-password-7f3a"
    from pydantic import SecretStr

    # 1. STARTTLS is required by default and this server does not offer it: failed, nothing sent.
    tp.takedowns.sender = SmtpSender(host="127.0.0.1", port=port, security="starttls", user="relay",
                                     password=SecretStr(secret), timeout=5)
    with pytest.raises(SendFailed, match="STARTTLS"):
        tp.takedowns.send(who, ref)
    view = tp.takedowns.get(who, ref)
    assert view["status"] == "failed" and view["attempts"] == 1 and "STARTTLS" in view["last_error"]
    assert smtp.messages == [] and smtp.logins == []
    # 2. The server refuses the message: still failed, the code recorded.
    tp.takedowns.sender = SmtpSender(host="127.0.0.1", port=port, security="none", user="relay",
                                     password=SecretStr(secret), timeout=5)
    smtp.fail_data = True
    with pytest.raises(SendFailed, match="554"):
        tp.takedowns.send(who, ref)
    assert tp.takedowns.get(who, ref)["status"] == "failed"
    # 3. Retried: sent once, with the login and the pack.
    smtp.fail_data = False
    view = tp.takedowns.send(who, ref)
    assert view["status"] == "sent" and view["attempts"] == 3 and view["last_error"] is None
    assert smtp.logins[-1] == ("relay", secret) and len(smtp.messages) == 1
    msg = email.message_from_bytes(smtp.messages[0], policy=policy.default)
    (attachment,) = list(msg.iter_attachments())
    assert hashlib.sha256(attachment.get_content()).hexdigest() == view["pack_sha256"]
    history = tp.takedowns.get(who, ref)["history"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "draft"), ("draft", "failed"), ("failed", "failed"),
                                                       ("failed", "sent")]
    # The password is nowhere: not in the database, the access log, the logs or the sender's repr.
    assert secret not in repr(tp.takedowns.sender) and secret not in caplog.text
    with tp.db.read_session() as s:
        rows = s.execute(select(TakedownRequest)).scalars().all() + s.execute(select(AuditEntry)).scalars().all()
    assert secret not in repr([r.__dict__ for r in rows])


def test_an_unreachable_server_is_a_failure_too(tp):
    who = analyst(tp)
    ref = request_of(tp.takedowns.create(who, indicator_id=confirmed(tp, "khong-toi.com", files=()), hosting=HOSTING),
                     "hosting")["ref"]
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]
    tp.takedowns.sender = SmtpSender(host="127.0.0.1", port=port, security="none", user=None, password=None, timeout=2)
    with pytest.raises(SendFailed, match="could not be reached"):
        tp.takedowns.send(who, ref)
    assert tp.takedowns.get(who, ref)["status"] == "failed"


def test_a_crashed_send_can_be_taken_over_after_the_claim_expires(tp):
    who = analyst(tp)
    ref = request_of(tp.takedowns.create(who, indicator_id=confirmed(tp, "treo.com", files=()), hosting=HOSTING),
                     "hosting")["ref"]
    with tp.db.session() as s:  # a sender that claimed it and died
        s.execute(update(TakedownRequest).values(claim="dead", claimed_at=datetime.now(timezone.utc)))
    with pytest.raises(Conflict, match="being sent"):
        tp.takedowns.send(who, ref)
    with pytest.raises(Conflict, match="being sent"):
        tp.takedowns.set_status(who, ref, status="sent")
    with tp.db.session() as s:
        s.execute(update(TakedownRequest).values(claimed_at=datetime.now(timezone.utc) - timedelta(minutes=11)))
    assert tp.takedowns.send(who, ref)["status"] == "sent"


# -- listing -------------------------------------------------------------------------------------------
def test_listing_by_status_site_and_overdue(tp):
    who = analyst(tp)
    a = request_of(tp.takedowns.create(who, indicator_id=confirmed(tp, "shop.lua-dao.com", files=()), hosting=HOSTING),
                   "hosting")["ref"]
    b = request_of(tp.takedowns.create(who, indicator_id=confirmed(tp, "khac.com", files=()), hosting=HOSTING),
                   "hosting")["ref"]
    tp.takedowns.send(who, a)
    tp.takedowns.send(who, b)
    with tp.db.session() as s:
        s.execute(update(TakedownRequest).where(TakedownRequest.ref == a)
                  .values(sent_at=datetime.now(timezone.utc) - timedelta(days=6)))
    assert [r["ref"] for r in tp.takedowns.list(who, overdue=True)] == [a]
    assert tp.takedowns.get(who, a)["overdue"] is True and tp.takedowns.get(who, b)["overdue"] is False
    assert {r["host"] for r in tp.takedowns.list(who, site="lua-dao.com")} == {"shop.lua-dao.com"}
    assert {r["ref"] for r in tp.takedowns.list(who, status="sent")} == {a, b}
    assert {r["status"] for r in tp.takedowns.list(who, status="draft")} == {"draft"}
    assert tp.takedowns.list(who, site="dao.com") == []  # whole labels only


# -- concurrency (both databases) --------------------------------------------------------------------
@pytest.mark.both_databases
def test_two_analysts_sending_at_once_send_once(tp, tmp_path):
    ref = request_of(tp.takedowns.create(analyst(tp), indicator_id=confirmed(tp, "dong-thoi.com", files=(PNG,)),
                                         hosting=HOSTING), "hosting")["ref"]
    n = 6
    go = threading.Barrier(n)

    def attempt(i: int) -> str:
        go.wait()
        try:
            tp.takedowns.send(analyst(tp, f"analyst-{i}"), ref)
            return "sent"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(attempt, range(n)))
    assert sorted(results) == ["conflict"] * (n - 1) + ["sent"]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    view = tp.takedowns.get(analyst(tp), ref)
    assert view["status"] == "sent" and view["attempts"] == 1 and not view["sending"]
    assert [(h["from"], h["to"]) for h in view["history"]] == [(None, "draft"), ("draft", "sent")]


@pytest.mark.both_databases
def test_two_analysts_changing_the_status_at_once_get_one_result(tp):
    who = analyst(tp)
    ref = request_of(tp.takedowns.create(who, indicator_id=confirmed(tp, "tranh-chap.com", files=()), hosting=HOSTING),
                     "hosting")["ref"]
    tp.takedowns.send(who, ref)
    n = 6
    go = threading.Barrier(n)
    targets = ["acknowledged", "removed", "refused"] * 2

    def attempt(i: int) -> str | None:
        go.wait()
        try:
            return tp.takedowns.set_status(analyst(tp, f"analyst-{i}"), ref, status=targets[i])["status"]
        except Conflict:
            return None

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(attempt, range(n)))
    won = [r for r in results if r is not None]
    assert len(won) >= 1
    view = tp.takedowns.get(who, ref)
    changes = [(h["from"], h["to"]) for h in view["history"]][2:]
    # Every accepted change is a legal step from the state before it, and the last one is where it ends.
    state = "sent"
    for frm, to in changes:
        assert frm == state and to in TRANSITIONS[state]
        state = to
    assert view["status"] == state and len(changes) == len(won)


@pytest.mark.both_databases
def test_two_analysts_creating_at_once_make_one_set_of_requests(tp):
    ind = confirmed(tp, "tao-cung-luc.com", files=())
    n = 4
    go = threading.Barrier(n)

    def attempt(i: int) -> list[str]:
        go.wait()
        return [r["ref"] for r in tp.takedowns.create(analyst(tp, f"analyst-{i}"), indicator_id=ind,
                                                       hosting=HOSTING)["requests"]]

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(attempt, range(n)))
    assert all(r == results[0] for r in results) and len(results[0]) == 2
    with tp.db.read_session() as s:
        assert s.execute(select(func.count()).select_from(TakedownRequest)).scalar_one() == 2


def test_outbox_sender_failure_is_reported_without_a_traceback(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    msg = email.message.EmailMessage()
    msg["X-Postguard-Takedown"] = "TD-1"
    msg.set_content("x")
    with pytest.raises(SendFailed, match="outbox could not be written"):
        OutboxSender(blocked / "sub").send(msg)
