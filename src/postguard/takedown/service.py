"""Takedown requests (``Platform.takedowns``): for a site analysts confirmed as a scam (an indicator
of type ``domain`` or ``url`` with the decision ``confirmed``), one request per recipient (registrar
or registry, hosting provider, platform), each with its evidence pack and letter, sent through a
pluggable ``Sender`` and tracked through its states:

    draft ──send──▶ sent ──▶ acknowledged ──▶ removed | refused
      │  ╲                ╲──────────────────▶ removed | refused
      │   ╲─send fails─▶ failed ──send again─▶ sent
      ╰── (sent by other means: set to sent by hand)

Every change is one conditional ``UPDATE`` (``WHERE id = ? AND version = ?``, or, to send, a claim
``WHERE status IN ('draft', 'failed') AND claim IS NULL``) in the transaction that writes its history
row, so two analysts acting on one request at once get one result, on SQLite and PostgreSQL alike: the
other is answered 409, and a request is sent once. Every change is appended to the access log after
it commits. Only analysts (``intel:analyst``) act here.

Evidence files and report texts are opened through the door (purposes ``takedown_evidence`` and
``takedown_report_text``) each time a pack is built: the pack is never stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound, PostguardError
from postguard.intel.models import Decision, Evidence, Indicator, Report, ReportIndicator
from postguard.intel.normalize import detect, norm_host
from postguard.takedown import contacts as contacts_mod
from postguard.takedown import pack as pack_mod
from postguard.takedown.contacts import Contact, Recipient
from postguard.takedown.facts import ScannerFacts, SiteFacts
from postguard.takedown.models import TakedownEvent, TakedownRequest
from postguard.takedown.senders import Sender, SendFailed, message_id

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.intel.grading import Grader
    from postguard.intel.store import IntelStore
    from postguard.orgs.service import OrgService
    from postguard.principals import Principal
    from postguard.settings import Settings

SCOPE = "intel:analyst"
STATUSES = ("draft", "sent", "acknowledged", "removed", "refused", "failed")
# What an analyst may set by hand (``send`` moves draft and failed to sent or failed).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("sent",),
    "failed": ("sent",),
    "sent": ("acknowledged", "removed", "refused"),
    "acknowledged": ("removed", "refused"),
    "removed": (),
    "refused": (),
}
SENDABLE = ("draft", "failed")
DATE_OF = {"sent": "sent_at", "acknowledged": "acknowledged_at", "removed": "removed_at", "refused": "refused_at",
           "failed": "failed_at"}
CLAIM_TTL = timedelta(minutes=10)  # a send that died mid-way (a crash) may be taken over after this
MAX_NOTE = 2000
MAX_REASON = 2000
MAX_SITE = 2048
MAX_INCLUDED_REPORTS = 20


def _bad(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput("The request was refused.", [FieldError(field, message, code=code)])


def _text(field: str, value: str | None, limit: int) -> str:
    """Free text an analyst wrote: at most ``limit`` characters, no NUL or other control characters
    than line breaks and tabs."""
    value = (value or "").strip()
    if len(value) > limit:
        raise _bad(field, f"at most {limit} characters", "too_long")
    if any(ord(c) < 32 and c not in "\n\r\t" or c == "\x7f" for c in value):
        raise _bad(field, "no control characters")
    return value


@dataclass(frozen=True)
class ContactIn:
    """An abuse contact as an analyst enters it (any of the three may be empty)."""

    name: str | None = None
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Site:
    indicator_id: int
    type: str
    value: str
    host: str
    path: str | None
    registrable: str | None


def site_of(ind: Indicator) -> Site:
    """The host (and a link's path) of a domain or url indicator; other types are refused."""
    if ind.type not in ("domain", "url") or ind.value is None:
        raise _bad("indicator", "takedowns are for domain and url indicators only", "not_a_site")
    if ind.type == "domain":
        return Site(ind.id, ind.type, ind.value, ind.value, None, ind.domain)
    netloc, _, rest = ind.value.partition("/")
    if netloc.startswith("["):
        host = netloc[: netloc.index("]") + 1]
    else:
        host = netloc.rsplit(":", 1)[0]
    return Site(ind.id, ind.type, ind.value, host, "/" + rest, ind.domain)


class TakedownService:
    def __init__(self, *, db: Database, settings: Settings, audit: AuditLog, orgs: OrgService, door: Door,
                 store: IntelStore, grader: Grader, facts: SiteFacts, sender: Sender) -> None:
        """``facts``: what the lookalike scanner knows about a site (``NoFacts`` until it is wired);
        ``sender``: how requests leave (``senders.build_sender``)."""
        self.db = db
        self.settings = settings
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.store = store
        self.grader = grader
        self.facts = facts
        self.sender = sender

    # -- creating --------------------------------------------------------------------------------
    def create(self, principal: Principal, *, indicator_id: int | None = None, site: str | None = None,
               reason: str = "", registrar: ContactIn | None = None, hosting: ContactIn | None = None,
               platform_contact: ContactIn | None = None, include_reports: Sequence[str] = ()) -> dict[str, Any]:
        """The takedown requests of a confirmed site (by indicator id, or by the site's domain or link),
        one per recipient. Idempotent: requests that exist are kept, and a draft still without a
        contact gets the one given now. ``include_reports``: public ids of reports on the site whose
        description goes into the pack (none by default; contacts never)."""
        self.orgs.require(principal, SCOPE, subject=f"indicator:{indicator_id}" if indicator_id else "takedowns")
        reason = _text("reason", reason, MAX_REASON)
        given = {kind: contacts_mod.analyst_contact(kind, name=c.name, email=c.email, url=c.url) if c else None
                 for kind, c in (("registrar", registrar), ("hosting", hosting), ("platform", platform_contact))}
        if len(include_reports) > MAX_INCLUDED_REPORTS:
            raise _bad("include_reports", f"at most {MAX_INCLUDED_REPORTS}", "too_many")
        if (indicator_id is None) == (site is None):
            raise _bad("indicator", "give an indicator id or a site, not both", "required")
        self.store.ready()
        with self.db.read_session() as s:
            ind = self._indicator(s, indicator_id=indicator_id, site=site)
            where = site_of(ind)
            if ind.decision != "confirmed":
                raise Conflict(f"Indicator {ind.id} is not confirmed as a scam: confirm it in the review first.")
            if where.type == "domain" and contacts_mod.is_platform_parent(where.host):
                raise _bad("site", "this is a hosting platform's own domain: ask for a site on it", "platform_parent")
            snapshot = self._snapshot(s, ind, where, include_reports)
        wanted = contacts_mod.recipients(host=where.host, registrable=where.registrable, path=where.path,
                                         registrar=given["registrar"], hosting=given["hosting"],
                                         platform_contact=given["platform"])
        created: list[str] = []
        kept: list[str] = []
        with self.db.session() as s:
            for r in wanted:
                row, new = self._upsert(s, principal, where, r, reason=reason, snapshot=snapshot)
                (created if new else kept).append(row.ref)
            rows = s.execute(select(TakedownRequest).where(TakedownRequest.indicator_id == where.indicator_id)
                             .order_by(TakedownRequest.id)).scalars().all()
            views = [self._view(r) for r in rows]
        self.audit.append(actor=principal.actor, action="takedown_create", org_id=principal.org_id,
                          subject=f"indicator:{where.indicator_id}",
                          details={"created": created, "kept": kept, "reports_included": len(snapshot["reports"])})
        return {"indicator": where.indicator_id, "site": where.value, "host": where.host, "created": created,
                "requests": views}

    def _indicator(self, s: Session, *, indicator_id: int | None, site: str | None) -> Indicator:
        if indicator_id is not None:
            return self.store.indicator(s, indicator_id)
        raw = site or ""
        if not raw.strip() or len(raw) > MAX_SITE:
            raise _bad("site", f"a domain or link of 1 to {MAX_SITE} characters")
        try:
            n = detect(raw)
        except InvalidInput:
            raise _bad("site", "not a domain or link", "invalid_site") from None
        if n.type not in ("domain", "url"):
            raise _bad("site", "takedowns are for domains and links only", "not_a_site")
        found = self.store.find(s, n)
        if found is None and n.type == "url" and n.host:  # a link to a domain that is itself the indicator
            try:
                found = self.store.find(s, detect(n.host, "domain"))
            except InvalidInput:  # an IP address: no domain indicator
                found = None
        if found is None:
            raise NotFound("No indicator for this site: report it and confirm it first.")
        return found

    def _snapshot(self, s: Session, ind: Indicator, where: Site, include_reports: Sequence[str]) -> dict[str, Any]:
        """What the pack is made of, fixed when the request is created: the evidence (within the caps),
        the report texts asked for, and the facts, verdict and decision of the time."""
        facts: ScannerFacts | None = self.facts.facts(s, ind)
        v = self.grader.grade(s, ind)
        reports = s.execute(select(Report.id, Report.public_id).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                            .where(ReportIndicator.indicator_id == ind.id, Report.status != "rejected")).all()
        by_public = {p: i for i, p in reports}
        chosen: list[str] = []
        for k, rid in enumerate(include_reports):
            if not isinstance(rid, str) or rid not in by_public:
                raise _bad(f"include_reports[{k}]", "not a report on this site", "unknown_report")
            if rid not in chosen:
                chosen.append(rid)
        files = s.execute(select(Evidence.id, Evidence.size, Evidence.media_type)
                          .where(Evidence.report_id.in_([i for i, _ in reports])).order_by(Evidence.id)).all() \
            if reports else []
        kept: list[int] = []
        left_out: list[dict[str, Any]] = []
        total = 0
        for eid, size, _media in files:
            if len(kept) >= self.settings.takedown_pack_max_files:
                left_out.append({"evidence": eid, "size": size, "reason": "over the file limit"})
            elif total + size > self.settings.takedown_pack_max_bytes:
                left_out.append({"evidence": eid, "size": size, "reason": "over the size limit"})
            else:
                kept.append(eid)
                total += size
        confirm = s.execute(select(Decision.actor, Decision.at).where(Decision.indicator_id == ind.id,
                                                                      Decision.action == "confirm")
                            .order_by(Decision.id.desc()).limit(1)).first()
        facts_d = facts.as_dict() if facts is not None else None
        first_seen = (facts_d or {}).get("first_seen") or ind.first_seen_at.isoformat()
        return {"evidence": kept, "left_out": left_out, "reports": chosen, "facts": facts_d,
                "site": {"type": where.type, "value": where.value, "host": where.host,
                         "registrable_domain": where.registrable, "first_seen": first_seen},
                "verdict": {"verdict": v.verdict, "reasons": [r.as_dict() for r in v.reasons]},
                "report_counts": {"count": v.reports, "distinct_reporters": v.reporters,
                                  "last_report_at": v.last_report_at.isoformat() if v.last_report_at else None},
                "decision": {"decision": ind.decision, "by": confirm.actor if confirm else None,
                             "at": (confirm.at if confirm else ind.decision_at or utcnow()).isoformat()}}

    def _upsert(self, s: Session, principal: Principal, where: Site, r: Recipient, *, reason: str,
                snapshot: dict[str, Any]) -> tuple[TakedownRequest, bool]:
        existing = self._for(s, where.indicator_id, r.kind)
        if existing is None:
            row = TakedownRequest(
                ref=f"TD-{secrets.token_hex(6).upper()}", indicator_id=where.indicator_id, site=where.value[:MAX_SITE],
                host=where.host[:253], recipient_kind=r.kind, recipient_name=r.name[:200], status="draft",
                reason=reason, facts=json.dumps(snapshot["facts"]), selection=json.dumps(snapshot, sort_keys=True),
                created_by=principal.actor, attempts=0, version=1)
            self._set_contact(row, r.contact)
            try:
                with s.begin_nested():  # another analyst may create the same request at this moment
                    s.add(row)
                    s.flush()
            except IntegrityError:
                existing = self._for(s, where.indicator_id, r.kind)
                if existing is None:
                    raise
                return existing, False
            s.add(TakedownEvent(request_id=row.id, from_status=None, to_status="draft", actor=principal.actor,
                                note=f"recipient: {r.kind}"))
            return row, True
        if existing.status == "draft" and r.contact is not None and (
                r.contact.source == "analyst" or not (existing.contact_email or existing.contact_url)):
            result = s.execute(update(TakedownRequest).where(TakedownRequest.id == existing.id,
                                                             TakedownRequest.version == existing.version,
                                                             TakedownRequest.status == "draft",
                                                             TakedownRequest.claim.is_(None))
                               .values(recipient_name=r.contact.name[:200], contact_email=r.contact.email,
                                       contact_url=r.contact.url, contact_source=r.contact.source[:60],
                                       reason=reason or existing.reason, version=existing.version + 1,
                                       updated_at=utcnow())
                               .execution_options(synchronize_session=False))
            if result.rowcount:  # type: ignore[attr-defined]
                s.add(TakedownEvent(request_id=existing.id, from_status="draft", to_status="draft",
                                    actor=principal.actor, note=f"contact: {r.contact.source}"))
                s.expire(existing)
        return existing, False

    @staticmethod
    def _set_contact(row: TakedownRequest, contact: Contact | None) -> None:
        if contact is None:
            row.contact_email = row.contact_url = None
            row.contact_source = "none"
        else:
            row.recipient_name = contact.name[:200]
            row.contact_email, row.contact_url, row.contact_source = contact.email, contact.url, contact.source[:60]

    @staticmethod
    def _for(s: Session, indicator_id: int, kind: str) -> TakedownRequest | None:
        return s.execute(select(TakedownRequest).where(TakedownRequest.indicator_id == indicator_id,
                                                       TakedownRequest.recipient_kind == kind)).scalar_one_or_none()

    # -- reading ---------------------------------------------------------------------------------
    def _row(self, s: Session, ref: str) -> TakedownRequest:
        if not isinstance(ref, str) or not 1 <= len(ref) <= 24:
            raise NotFound("No such takedown request.")
        row = s.execute(select(TakedownRequest).where(TakedownRequest.ref == ref.strip().upper())).scalar_one_or_none()
        if row is None:
            raise NotFound("No such takedown request.")
        return row

    def _overdue(self, row: TakedownRequest, now: datetime) -> bool:
        return row.status == "sent" and row.sent_at is not None and \
            row.sent_at < now - timedelta(days=self.settings.takedown_overdue_days)

    def _view(self, row: TakedownRequest, *, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        sel = json.loads(row.selection or "{}")

        def iso(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "ref": row.ref, "indicator": row.indicator_id, "site": row.site, "host": row.host,
            "recipient": {"kind": row.recipient_kind, "name": row.recipient_name, "email": row.contact_email,
                          "url": row.contact_url, "source": row.contact_source,
                          "needs_contact": not (row.contact_email or row.contact_url)},
            "status": row.status, "overdue": self._overdue(row, now), "sending": row.claim is not None,
            "created_by": row.created_by, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
            "sent_at": iso(row.sent_at), "acknowledged_at": iso(row.acknowledged_at), "removed_at": iso(row.removed_at),
            "refused_at": iso(row.refused_at), "failed_at": iso(row.failed_at), "attempts": row.attempts,
            "last_error": row.last_error, "pack_sha256": row.pack_sha256, "version": row.version,
            "evidence_files": len(sel.get("evidence", [])), "evidence_left_out": len(sel.get("left_out", [])),
            "reports_included": sel.get("reports", []),
        }

    def get(self, principal: Principal, ref: str) -> dict[str, Any]:
        """One request with its history."""
        self.orgs.require(principal, SCOPE, subject=f"takedown:{str(ref)[:24]}")
        with self.db.read_session() as s:
            row = self._row(s, ref)
            events = s.execute(select(TakedownEvent).where(TakedownEvent.request_id == row.id)
                               .order_by(TakedownEvent.id)).scalars().all()
            return {**self._view(row), "reason": row.reason,
                    "history": [{"from": e.from_status, "to": e.to_status, "actor": e.actor, "note": e.note,
                                 "at": e.at.isoformat()} for e in events]}

    def list(self, principal: Principal, *, status: str | None = None, site: str | None = None,
             overdue: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        """Requests, newest first: by ``status``, by ``site`` (a domain: its requests and those of names
        below it) and ``overdue`` (sent more than ``POSTGUARD_TAKEDOWN_OVERDUE_DAYS`` ago, no answer)."""
        self.orgs.require(principal, SCOPE, subject="takedowns")
        if status is not None and status not in STATUSES:
            raise _bad("status", f"one of {', '.join(STATUSES)}")
        if not 1 <= limit <= 500:
            raise _bad("limit", "between 1 and 500")
        now = utcnow()
        q = select(TakedownRequest)
        if status is not None:
            q = q.where(TakedownRequest.status == status)
        if site is not None:
            if len(site) > 253:
                raise _bad("site", "a domain name of at most 253 characters")
            try:
                host = norm_host(site)
            except InvalidInput:
                raise _bad("site", "a domain name such as example.com") from None
            q = q.where(or_(TakedownRequest.host == host, TakedownRequest.host.endswith("." + host, autoescape=True)))
        if overdue:
            q = q.where(TakedownRequest.status == "sent",
                        TakedownRequest.sent_at < now - timedelta(days=self.settings.takedown_overdue_days))
        with self.db.read_session() as s:
            rows = s.execute(q.order_by(TakedownRequest.id.desc()).limit(limit)).scalars().all()
            return [self._view(r, now=now) for r in rows]

    # -- the pack --------------------------------------------------------------------------------
    def pack(self, principal: Principal, ref: str) -> tuple[str, bytes]:
        """The request's evidence pack as a ZIP (file name, bytes); its evidence and report texts are
        opened through the door (logged first)."""
        self.orgs.require(principal, SCOPE, subject=f"takedown:{str(ref)[:24]}")
        self.store.ready()
        with self.db.read_session() as s:
            row = self._row(s, ref)
            data, _manifest, _letter = self._build(s, principal, row)
        return f"takedown-{row.ref}.zip", data

    def _build(self, s: Session, principal: Principal, row: TakedownRequest) -> tuple[bytes, dict[str, Any], str]:
        sel = json.loads(row.selection or "{}")
        ids: list[int] = [int(i) for i in sel.get("evidence", [])]
        left_out: list[dict[str, Any]] = list(sel.get("left_out", []))
        found = {e.id: e for e in s.execute(select(Evidence).where(Evidence.id.in_(ids))).scalars()} if ids else {}
        present = [found[i] for i in ids if i in found and found[i].content_ct is not None]
        left_out += [{"evidence": i, "reason": "no longer stored"} for i in ids
                     if i not in found or found[i].content_ct is None]
        subject = f"takedown:{row.ref}"
        files: list[pack_mod.PackFile] = []
        if present:
            opened = self.door.open_files(
                s, principal, "takedown_evidence",
                [self.store.sealed(e.content_ct, table="intel_evidence", column="content", record_id=e.id)
                 for e in present], subject=subject, details={"request": row.ref})
            for k, (e, data) in enumerate(zip(present, opened, strict=True), start=1):
                if data is None:
                    left_out.append({"evidence": e.id, "reason": "no longer stored"})
                    continue
                files.append(pack_mod.PackFile(pack_mod.evidence_name(k, e.id, e.media_type), e.media_type, data))
        chosen: list[str] = list(sel.get("reports", []))
        if chosen:
            reps = s.execute(select(Report).where(Report.public_id.in_(chosen))).scalars().all()
            by_id = {r.public_id: r for r in reps}
            order = [by_id[p] for p in chosen if p in by_id]
            texts = self.door.open(
                s, principal, "takedown_report_text",
                [self.store.sealed(r.description_ct, table="intel_reports", column="description", record_id=r.id)
                 for r in order], subject=subject, details={"request": row.ref}) if order else []
            for r, text in zip(order, texts, strict=True):
                files.append(pack_mod.PackFile(f"reports/{r.public_id}.txt", "text/plain",
                                               (text or "").encode("utf-8")))
        facts = sel.get("facts") or {}
        manifest: dict[str, Any] = {
            "format": pack_mod.FORMAT, "request": row.ref, "created_at": row.created_at.isoformat(),
            "recipient": {"kind": row.recipient_kind, "name": row.recipient_name, "email": row.contact_email,
                          "url": row.contact_url, "source": row.contact_source},
            "site": sel.get("site") or {"type": "domain", "value": row.site, "host": row.host},
            "brand": {"name": facts.get("brand"), "official_domains": facts.get("official_domains") or [],
                      "technique": facts.get("technique")} if facts else None,
            "reasons": {"scanner": facts.get("reasons") or [], "analyst": row.reason,
                        "verdict": (sel.get("verdict") or {}).get("reasons") or []},
            "reports": sel.get("report_counts") or {"count": 0, "distinct_reporters": 0},
            "decision": sel.get("decision") or {},
            "evidence_files": sum(1 for f in files if f.name.startswith("evidence/")),
            "left_out": left_out,
            "limits": {"max_files": self.settings.takedown_pack_max_files,
                       "max_bytes": self.settings.takedown_pack_max_bytes},
            "personal_data": ({"report_texts": chosen, "note": "report descriptions included at an analyst's request"}
                              if chosen else "none: no reporter's contact or text"),
        }
        letter = pack_mod.letter(manifest, sender_name=self.settings.takedown_from_name,
                                 sender_email=self.settings.takedown_from)
        data, full = pack_mod.build(manifest, files, letter_text=letter, when=row.created_at)
        return data, full, letter

    # -- sending ---------------------------------------------------------------------------------
    def send(self, principal: Principal, ref: str) -> dict[str, Any]:
        """Send a draft (or failed) request by e-mail through the configured sender, the pack attached.
        Sent once: a concurrent send is answered 409. A failure leaves it ``failed`` (retriable) and
        raises ``SendFailed``."""
        self.orgs.require(principal, SCOPE, subject=f"takedown:{str(ref)[:24]}")
        self.store.ready()
        with self.db.read_session() as s:
            row = self._row(s, ref)
        if row.status not in SENDABLE:
            raise Conflict(f"Request {row.ref} is {row.status}: only a draft or a failed request is sent.")
        if not row.contact_email:
            if row.contact_url:
                raise Conflict(f"Request {row.ref}'s recipient takes reports through a web form ({row.contact_url}): "
                               "submit the pack there, then set the status to sent.")
            raise Conflict(f"Request {row.ref} needs a contact: add the recipient's abuse address first.")
        token = secrets.token_hex(16)
        now = utcnow()
        with self.db.session() as s:
            claimed = s.execute(update(TakedownRequest).where(
                TakedownRequest.id == row.id, TakedownRequest.status.in_(SENDABLE),
                or_(TakedownRequest.claim.is_(None), TakedownRequest.claimed_at < now - CLAIM_TTL))
                .values(claim=token, claimed_at=now).execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if not claimed:
            raise Conflict(f"Request {row.ref} is being sent or was sent meanwhile.")
        try:
            with self.db.read_session() as s:
                row = self._row(s, ref)
                data, _manifest, letter = self._build(s, principal, row)
            msg = self._message(row, letter, data)
        except BaseException:
            self._release(row.id, token)
            raise
        try:
            via = self.sender.send(msg)
        except Exception as e:  # every failure of the sender leaves the request failed, retriable
            detail = e.detail if isinstance(e, PostguardError) else f"The sender failed ({type(e).__name__})."
            self._finish(row, token, principal, to="failed", note=detail[:300], error=detail[:300])
            raise SendFailed(f"Request {row.ref} could not be sent: {detail} It is marked failed; send it again.") from None
        digest = hashlib.sha256(data).hexdigest()
        self._finish(row, token, principal, to="sent", note=f"via {via}", pack_sha256=digest,
                     message_id=str(msg["Message-ID"]))
        with self.db.read_session() as s:
            return self._view(self._row(s, ref))

    def _message(self, row: TakedownRequest, letter: str, pack: bytes) -> EmailMessage:
        msg = EmailMessage()
        domain = self.settings.takedown_from.rsplit("@", 1)[-1]
        msg["From"] = formataddr((self.settings.takedown_from_name, self.settings.takedown_from))
        msg["To"] = str(row.contact_email)
        msg["Subject"] = f"[{row.ref}] Yêu cầu gỡ bỏ trang lừa đảo / Takedown request: {row.host}"
        msg["Date"] = format_datetime(utcnow())
        msg["Message-ID"] = message_id(domain)
        msg["X-Postguard-Takedown"] = row.ref
        msg.set_content(letter)
        msg.add_attachment(pack, maintype="application", subtype="zip", filename=f"takedown-{row.ref}.zip")
        return msg

    def _release(self, request_id: int, token: str) -> None:
        with self.db.session() as s:
            s.execute(update(TakedownRequest).where(TakedownRequest.id == request_id, TakedownRequest.claim == token)
                      .values(claim=None, claimed_at=None).execution_options(synchronize_session=False))

    def _finish(self, row: TakedownRequest, token: str, principal: Principal, *, to: str, note: str,
                error: str | None = None, pack_sha256: str | None = None, message_id: str | None = None) -> None:
        now = utcnow()
        values: dict[str, Any] = {"status": to, DATE_OF[to]: now, "claim": None, "claimed_at": None,
                                  "attempts": TakedownRequest.attempts + 1, "version": TakedownRequest.version + 1,
                                  "updated_at": now, "last_error": error}
        if pack_sha256:
            values.update(pack_sha256=pack_sha256, message_id=(message_id or "")[:250] or None)
        with self.db.session() as s:
            done = s.execute(update(TakedownRequest).where(TakedownRequest.id == row.id, TakedownRequest.claim == token)
                             .values(**values).execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
            if done:
                s.add(TakedownEvent(request_id=row.id, from_status=row.status, to_status=to, actor=principal.actor,
                                    note=note))
        self.audit.append(actor=principal.actor, action="takedown_sent" if to == "sent" else "takedown_send_failed",
                          org_id=principal.org_id, subject=f"takedown:{row.ref}",
                          details={"from": row.status, "to": to, "sender": self.sender.name,
                                   **({"pack_sha256": pack_sha256} if pack_sha256 else {})})

    # -- status ----------------------------------------------------------------------------------
    def set_status(self, principal: Principal, ref: str, *, status: str, note: str = "",
                   version: int | None = None) -> dict[str, Any]:
        """Record an answer (or a request sent by other means): one of ``TRANSITIONS``; anything else
        is 409. ``version``: the version the analyst saw (a change made meanwhile is then 409)."""
        self.orgs.require(principal, SCOPE, subject=f"takedown:{str(ref)[:24]}")
        if status not in DATE_OF or status == "failed":
            raise _bad("status", "one of sent, acknowledged, removed, refused")
        note = _text("note", note, MAX_NOTE)
        with self.db.read_session() as s:
            row = self._row(s, ref)
        if version is not None and version != row.version:
            raise Conflict(f"Request {row.ref} changed meanwhile (version {row.version}); reload it.")
        if status not in TRANSITIONS[row.status]:
            allowed = ", ".join(TRANSITIONS[row.status]) or "nothing: it is closed"
            raise Conflict(f"Request {row.ref} is {row.status}: it can go to {allowed}, not {status}.")
        now = utcnow()
        with self.db.session() as s:
            done = s.execute(update(TakedownRequest).where(
                TakedownRequest.id == row.id, TakedownRequest.version == row.version,
                TakedownRequest.status == row.status, TakedownRequest.claim.is_(None))
                .values(status=status, **{DATE_OF[status]: now}, version=row.version + 1, updated_at=now,
                        last_error=None).execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
            if done:
                s.add(TakedownEvent(request_id=row.id, from_status=row.status, to_status=status, actor=principal.actor,
                                    note=note))
        if not done:
            raise Conflict(f"Request {row.ref} changed meanwhile or is being sent; reload it.")
        self.audit.append(actor=principal.actor, action="takedown_status", org_id=principal.org_id,
                          subject=f"takedown:{row.ref}", details={"from": row.status, "to": status})
        with self.db.read_session() as s:
            return self._view(self._row(s, ref))
