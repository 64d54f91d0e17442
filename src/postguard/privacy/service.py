"""Transparency for the people whose data it is, and the data-protection officer's work.

- ``my_data``: a person who proved their phone number sees, across every operator, the shipments
  where it is the sender's or recipient's phone (masked), and for each one who accessed it, when, for
  what purpose — every entry with an RFC 9162 inclusion proof against the latest signed checkpoint,
  checked here before it is shown. Finding the shipments decrypts the phones of blind-index
  candidates through the door (purpose ``data_subject``), so the person's own view is logged.
- Data-subject requests (access export, deletion, correction) with their legal clocks; the DPO
  acknowledges and completes them. Deletion crypto-shreds the person's finished shipments at once
  (parcels still travelling are shredded once delivered, returned or cancelled: the courier needs the
  address to finish the delivery) and appends a receipt to the access log.
- Breach incidents with the 72-hour notification clock.

Nothing here imports a web framework; errors are ``postguard.errors``.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postguard import places
from postguard.access.models import Staff
from postguard.audit import merkle
from postguard.audit.checkpoint import open_checkpoint
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PostguardError,
)
from postguard.logging import get_logger
from postguard.orgs.models import Organisation
from postguard.phones import phone_field
from postguard.principals import DataSubject, StaffPrincipal
from postguard.privacy import deadlines
from postguard.privacy.models import (
    AuditMention,
    AuditMentionCursor,
    BreachIncident,
    DataSubjectRequest,
)
from postguard.shipments.models import Shipment, ShipmentEvent
from postguard.shipments.service import TERMINAL, masked_view
from postguard.vault.masking import mask_name
from postguard.vault.service import SealedValue

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.audit.witnessing import Witnessing
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.ratelimit import RateLimiter
    from postguard.shipments.service import ShipmentService
    from postguard.vault.service import Vault

KINDS = ("access", "deletion", "correction")
STATUSES = ("received", "acknowledged", "completed")
INCIDENT_STATUSES = ("open", "notified")
SIDES = {
    "sender": ("sender_name", "sender_phone", "sender_address"),
    "recipient": ("recipient_name", "recipient_phone", "recipient_address"),
}
PHONES = ("sender_phone", "recipient_phone")
DPO_READERS = ("dpo", "admin")  # administrators may read the lists; only the DPO acts
MAX_DESCRIPTION = 2000
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_WAYBILL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$")  # as postguard.shipments.validation
DSR_CONTACT = "dsr-contact"  # the platform secret requesters' numbers are sealed under
_MENTIONS_LOCK = 0x6D656E74696F6E73  # "mentions"
log = get_logger("postguard.privacy")


def _ref(prefix: str) -> str:
    return prefix + "-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))


def _iso(d: datetime | None) -> str | None:
    return d.astimezone(UTC).isoformat() if d else None


def _call_check(entry: dict, private: bool) -> dict | None:
    """What a call-check entry says in words: ``{"kind": "call"|"spoken_code", "caller": "…678"}``
    (the caller's last three digits; withheld with the entry when it also names other parcels); None
    for other entries."""
    if entry.get("action") != "call_check" and entry.get("purpose") != "call_check":
        return None
    details = entry.get("details") or {}
    if details.get("check") == "spoken_code":
        return {"kind": "spoken_code", "caller": None}
    caller = details.get("caller")
    return {"kind": "call", "caller": caller if isinstance(caller, str) and not private else None}


def _sealed_contact(org_id: int, ref: str, blob: bytes) -> SealedValue:
    """A request's contact number as sealed by ``file_request`` (under the platform secret ``dsr-contact``)."""
    return SealedValue(org_id=org_id, table="data_subject_requests", column="contact", record_id=ref, blob=blob,
                       service=DSR_CONTACT)


def _b64(b: bytes) -> str:
    import base64

    return base64.b64encode(b).decode("ascii")


class SmsSender(Protocol):
    """Where notices to the person go (``postguard.notify.Notifier``, a peer: handed in by the wiring)."""

    def send_sms(self, phone: str, text: str) -> None: ...


class CodeChallenges(Protocol):
    """One-time-code challenges sent to a number (``postguard.otp.OtpService``, a peer)."""

    def forget(self, session: Session, e164: str) -> int: ...


class PrivacyService:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, witnessing: Witnessing, orgs: OrgService,
                 door: Door, limiter: RateLimiter, shipments: ShipmentService, otp: CodeChallenges,
                 notifier: SmsSender) -> None:
        self.db = db
        self.vault = vault
        self.audit = audit
        self.witnessing = witnessing
        self.orgs = orgs
        self.door = door
        self.limiter = limiter
        self.shipments = shipments
        self.otp = otp
        self.notifier = notifier

    # -- who ---------------------------------------------------------------------------------
    @staticmethod
    def phone(raw: str) -> str:
        return phone_field(raw, "phone")

    def _digest(self, session: Session, e164: str) -> bytes:
        return self.vault.keyed_digest(session, purpose="privacy-subject")(e164)

    def subject_digest(self, e164: str) -> bytes:
        """The keyed digest that stands for the person (in its own transaction: the first call
        creates the key, and nothing may be written before an access-log append on SQLite)."""
        with self.db.session() as s:
            return self._digest(s, e164)

    def subject_actor(self, e164: str) -> str:
        return DataSubject(0, self.subject_digest(self.phone(e164))).actor

    def dpo(self, org_code: str, username: str) -> StaffPrincipal:
        """An active DPO account (the command line acts in a named DPO's name)."""
        org = self.orgs.get(org_code)
        with self.db.read_session() as s:
            st = s.execute(select(Staff).where(Staff.org_id == org.id, Staff.username == username.strip().lower(),
                                               Staff.status == "active")).scalar_one_or_none()
        who = StaffPrincipal(st.id, org.id, org.code, st.username, st.role) if st is not None else \
            self.orgs.principal(org.code, actor="cli")
        return self._need_dpo(who, message=f"{username} is not an active data-protection officer at {org.code}.")

    def _need_dpo(self, principal, *, read: bool = False, message: str | None = None):
        """Only the DPO acts; administrators may also read the lists. Through the one logged check:
        API keys and data subjects are refused too."""
        return self.orgs.require(principal, None, roles=DPO_READERS if read else ("dpo",), subject="privacy:dpo",
                                   message=message or "Only the data-protection officer may do this.")

    # -- finding a person's shipments ----------------------------------------------------------
    def _match(self, session: Session, org: Organisation, principal, e164: str, purpose: str,
               request: str | None = None):
        """``(shipment, roles)`` for the shipments of ``org`` where ``e164`` is a party: candidates by
        blind index, their phones opened through the door (logged once, naming the request answered),
        filtered here."""
        b = self.vault.blind_indexer(session, org_id=org.id, bits=org.blind_index_bits)(e164)
        candidates = session.execute(
            select(Shipment).where(Shipment.org_id == org.id,
                                   or_(Shipment.recipient_phone_bidx == b, Shipment.sender_phone_bidx == b))
            .order_by(Shipment.waybill)
        ).scalars().all()
        if not candidates:
            return []
        opened = self.door.open_shipments(session, principal=principal, shipments=candidates, columns=PHONES,
                                            purpose=purpose, details={"request": request} if request else None)
        out = []
        for sh, phones in zip(candidates, opened, strict=True):
            roles = tuple(r for r in ("sender", "recipient") if phones[f"{r}_phone"] == e164)
            if roles:
                out.append((sh, roles))
        return out

    def _orgs(self, session: Session, org_id: int | None = None) -> list[Organisation]:
        q = select(Organisation).order_by(Organisation.code)
        if org_id is not None:
            q = q.where(Organisation.id == org_id)
        return list(session.execute(q).scalars())

    # -- access history with proofs ------------------------------------------------------------
    def _actors(self, session: Session, entries: list[AuditEntry]) -> dict[int, Staff]:
        ids = {int(e.actor.split(":", 1)[1]) for e in entries
               if e.actor.startswith("staff:") and e.actor.split(":", 1)[1].isdigit()}
        if not ids:
            return {}
        return {st.id: st for st in session.execute(select(Staff).where(Staff.id.in_(ids))).scalars()}

    @staticmethod
    def _who(actor: str, me: str, staff: dict[int, Staff]) -> dict:
        kind, _, rest = actor.partition(":")
        if actor == me:
            return {"kind": "you"}
        if kind == "staff" and rest.isdigit() and int(rest) in staff:
            st = staff[int(rest)]
            return {"kind": "staff", "role": st.role, "name": mask_name(st.display_name)}
        if kind == "subject":
            return {"kind": "data_subject"}  # another person's self-service lookup matched a candidate
        if kind == "citizen":
            return {"kind": "citizen"}  # a call check by someone who proved their number
        return {"kind": "system"}

    def index_mentions(self, *, batch: int = 5000) -> int:
        """Bring ``audit_mentions`` up to the end of the log (each entry is read once, ever); returns
        how many entries were read. Several workers may call it at once: the cursor moves only
        forward, and an entry indexed twice is harmless."""
        total = 0
        while True:
            with self.db.session() as s:
                conn = s.connection()
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MENTIONS_LOCK})
                start = s.execute(select(AuditMentionCursor.size).where(AuditMentionCursor.id == 1)).scalar_one()
                rows = s.execute(select(AuditEntry.idx, AuditEntry.org_id, AuditEntry.subject, AuditEntry.entry)
                                 .where(AuditEntry.idx >= start).order_by(AuditEntry.idx).limit(batch)).all()
                if not rows:
                    return total
                mentions = []
                for idx, org_id, subject, entry in rows:
                    if org_id is None:
                        continue
                    named = (json.loads(entry).get("details") or {}).get("waybills")
                    names = {w for w in ([subject] + (named if isinstance(named, list) else []))
                             if isinstance(w, str) and _WAYBILL.match(w)}
                    mentions += [{"org_id": org_id, "waybill": w, "idx": idx} for w in names]
                if mentions:
                    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
                        AuditMention.__table__)
                    s.execute(ins.on_conflict_do_nothing(), mentions)
                s.execute(update(AuditMentionCursor).where(AuditMentionCursor.id == 1,
                                                           AuditMentionCursor.size < rows[-1].idx + 1)
                          .values(size=rows[-1].idx + 1))
                total += len(rows)

    def _history(self, session: Session, *, org_id: int, waybills: set[str], me: str, tree,
                 size: int) -> dict[str, list[dict]]:
        """Access-log entries about each of ``waybills`` (named as subject or listed in the details),
        each with its inclusion proof in the tree of ``size`` entries, checked. Call
        ``index_mentions`` first."""
        out: dict[str, list[dict]] = {w: [] for w in waybills}
        if not waybills:
            return out
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.idx.in_(
                select(AuditMention.idx).where(AuditMention.org_id == org_id,
                                               AuditMention.waybill.in_(sorted(waybills)))),
                AuditEntry.org_id == org_id, AuditEntry.idx < size)
            .order_by(AuditEntry.idx)
        ).scalars().all()
        staff = self._actors(session, rows)
        for row in rows:
            entry = json.loads(row.entry)
            named = set((entry.get("details") or {}).get("waybills") or [])
            about = ({row.subject} | named) & waybills
            if not about:
                continue
            leaf_ok = merkle.leaf_hash(row.entry.encode("utf-8")) == row.leaf_hash
            proof = tree.inclusion_proof(row.idx, size)
            verified = leaf_ok and merkle.verify_inclusion(leaf_hash=row.leaf_hash, index=row.idx, tree_size=size,
                                                           proof=proof, root=tree.root(size))
            # An entry that also names other people's parcels is shown without its content (the leaf
            # hash still proves it is in the log).
            private = bool(named - waybills)
            item = {
                "index": row.idx, "at": entry.get("at"), "action": row.action, "purpose": entry.get("purpose"),
                "actor": self._who(row.actor, me, staff), "call_check": _call_check(entry, private),
                "proof": {"index": row.idx, "tree_size": size, "leaf_hash": _b64(row.leaf_hash),
                          "proof": [_b64(h) for h in proof], "entry": None if private else entry,
                          "entry_withheld": private, "verified": verified},
            }
            for w in about:
                out[w].append(item)
        return out

    def _checkpoint(self):
        """The latest signed checkpoint covering everything logged so far, its verified size and root."""
        cp = self.audit.checkpoint() or self.audit.latest_checkpoint()
        vkey = self.audit.verifier_key()
        body = open_checkpoint(cp.note, verifier_key=vkey)  # refuses a checkpoint that does not verify
        return cp, vkey, body

    # -- the person's own view -----------------------------------------------------------------
    def my_data(self, e164: str) -> dict:
        """The person's shipments at every operator (masked) with who accessed them; logged."""
        e164 = self.phone(e164)
        found = []
        digest = self.subject_digest(e164)
        with self.db.session() as s:
            for org in self._orgs(s):
                me = DataSubject(org.id, digest)
                for sh, roles in self._match(s, org, me, e164, "data_subject"):
                    found.append((org, sh, roles))
        cp, vkey, body = self._checkpoint()
        self.index_mentions()
        with self.db.session() as s:  # the primary: a replica may not have the newest entries yet
            tree = self.audit.synced_tree(s)
            items = []
            by_org: dict[int, list] = {}
            for org, sh, roles in found:
                by_org.setdefault(org.id, []).append((org, sh, roles))
            for org_id, group in by_org.items():
                hist = self._history(s, org_id=org_id, waybills={sh.waybill for _, sh, _ in group},
                                     me=DataSubject(org_id, digest).actor, tree=tree, size=cp.size)
                for org, sh, roles in group:
                    items.append({"organisation": {"code": org.code, "name": org.name, "hotline": org.hotline},
                                  **masked_view(sh), "matched_as": list(roles), "accesses": hist[sh.waybill]})
            witnessed = self.witnessing.latest_cosigned()
            proof = tree.consistency_proof(witnessed[0].size, cp.size) \
                if witnessed and 0 < witnessed[0].size < cp.size else None
        out = {"shipments": items, "checkpoint": self.witnessing.cosigned_note(cp), "tree_size": cp.size,
               "root": _b64(body.root), "verifier_key": vkey,
               "all_verified": all(a["proof"]["verified"] for i in items for a in i["accesses"])}
        if proof is not None:  # the newest checkpoint is not co-signed yet: the latest that is, and the way to it
            out["witnessed"] = {"checkpoint": witnessed[1], "tree_size": witnessed[0].size,
                                "consistency": [_b64(h) for h in proof]}
        return out

    # -- data-subject requests -----------------------------------------------------------------
    def _view(self, r: DataSubjectRequest, org: Organisation, now: datetime) -> dict:
        ack_due, done_due = deadlines.acknowledge_due(r.received_at), deadlines.complete_due(r.received_at)
        ack_clock = deadlines.clock(ack_due, r.acknowledged_at, now)
        done_clock = deadlines.clock(done_due, r.completed_at, now)
        shredded = json.loads(r.shredded) if r.shredded else []
        return {
            "ref": r.ref, "kind": r.kind, "status": r.status, "organisation": org.code,
            "subject": f"subject:{r.subject_digest[:8].hex()}",
            "received_at": _iso(r.received_at), "acknowledged_at": _iso(r.acknowledged_at),
            "completed_at": _iso(r.completed_at), "acknowledge_due": _iso(ack_due), "complete_due": _iso(done_due),
            "acknowledge_clock": ack_clock, "complete_clock": done_clock,
            "overdue": ack_clock in ("overdue", "late") or done_clock in ("overdue", "late"),
            "shredded": len(shredded), "waiting_for_delivery": r.deferred, "receipt_index": r.receipt_index,
        }

    def file_request(self, e164: str, *, org_code: str, kind: str, now: datetime | None = None) -> dict:
        """A person (phone proven) asks an operator for an export, a deletion or a correction."""
        e164 = self.phone(e164)
        errors = []
        if kind not in KINDS:
            errors.append(FieldError("kind", f"one of {', '.join(KINDS)}"))
        org = None
        with self.db.read_session() as s:
            org = s.execute(select(Organisation).where(Organisation.code == (org_code or "").strip().upper())
                            ).scalar_one_or_none()
        if org is None:
            errors.append(FieldError("org", "no such organisation"))
        if errors:
            raise InvalidInput("The request was not filed.", errors)
        with self.db.session() as s:
            digest = self._digest(s, e164)
            self.limiter.hit("5/day", "dsr-file", digest.hex(),
                               message="Too many requests filed for this number today.")
            open_same = s.execute(select(DataSubjectRequest).where(
                DataSubjectRequest.org_id == org.id, DataSubjectRequest.subject_digest == digest,
                DataSubjectRequest.kind == kind, DataSubjectRequest.status != "completed")).scalars().first()
            if open_same is not None:
                raise Conflict(f"Request {open_same.ref} of this kind is already open.")
            ref = _ref("DSR")
            r = DataSubjectRequest(ref=ref, org_id=org.id, kind=kind, status="received", subject_digest=digest,
                                   received_at=now or utcnow(), deferred=0,
                                   contact_ct=self.vault.seal_service(e164, session=s, purpose=DSR_CONTACT,
                                                                        record_id=ref))
            s.add(r)
            s.flush()
            view = self._view(r, org, utcnow())
        self.audit.append(actor=DataSubject(org.id, digest).actor, action="dsr_received", org_id=org.id,
                            subject=f"dsr:{ref}", details={"kind": kind})
        return view

    def my_requests(self, e164: str) -> list[dict]:
        e164 = self.phone(e164)
        now = utcnow()
        digest = self.subject_digest(e164)
        with self.db.read_session() as s:
            rows = s.execute(select(DataSubjectRequest, Organisation)
                             .join(Organisation, Organisation.id == DataSubjectRequest.org_id)
                             .where(DataSubjectRequest.subject_digest == digest)
                             .order_by(DataSubjectRequest.received_at.desc())).all()
            return [self._view(r, o, now) for r, o in rows]

    def list_requests(self, principal, *, status: str | None = None, now: datetime | None = None) -> list[dict]:
        """An operator's requests, oldest deadline first, with their clocks (DPO; admins read)."""
        self._need_dpo(principal, read=True)
        if status is not None and status not in STATUSES:
            raise InvalidInput("Unknown status.", [FieldError("status", f"one of {', '.join(STATUSES)}")])
        now = now or utcnow()
        q = select(DataSubjectRequest).where(DataSubjectRequest.org_id == principal.org_id)
        if status:
            q = q.where(DataSubjectRequest.status == status)
        with self.db.read_session() as s:
            org = s.get(Organisation, principal.org_id)
            rows = s.execute(q.order_by(DataSubjectRequest.received_at)).scalars().all()
            return [self._view(r, org, now) for r in rows]

    def _request(self, session: Session, principal, ref: str) -> DataSubjectRequest:
        r = session.execute(select(DataSubjectRequest).where(
            DataSubjectRequest.ref == (ref or "").strip().upper(),
            DataSubjectRequest.org_id == principal.org_id)).scalar_one_or_none()
        if r is None:
            raise NotFound(f"No request {ref}.")
        return r

    def _notify(self, principal, ref: str, contact: bytes | None, text: str) -> None:
        """Text the requester (the DPO's action; the number is opened through the door, purpose
        ``dsr_notice``, and goes to the SMS gateway only). A notice that cannot be sent is logged here
        and leaves the request as it is."""
        if contact is None:
            return
        try:
            with self.db.read_session() as s:
                (phone,) = self.door.open(s, principal, "dsr_notice", [_sealed_contact(principal.org_id, ref, contact)],
                                            subject=f"dsr:{ref}")
            self.notifier.send_sms(phone, text)
        except PostguardError:
            log.warning("request notice not sent", ref=ref)

    def acknowledge(self, principal, ref: str) -> dict:
        self._need_dpo(principal)
        with self.db.session() as s:
            r = self._request(s, principal, ref)
            if r.status != "received":
                raise Conflict(f"Request {r.ref} is already {r.status}.")
            r.status, r.acknowledged_at, r.acknowledged_by = "acknowledged", utcnow(), principal.actor
            s.flush()
            view, contact = self._view(r, s.get(Organisation, r.org_id), utcnow()), r.contact_ct
        self.audit.append(actor=principal.actor, action="dsr_acknowledged", org_id=principal.org_id,
                            subject=f"dsr:{view['ref']}", details={"kind": view["kind"]})
        self._notify(principal, view["ref"], contact, f"postguard: yeu cau {view['ref']} da duoc tiep nhan; "
                                           f"han hoan thanh {view['complete_due'][:10]}.")
        return view

    def complete(self, principal, ref: str) -> dict:
        """Finish a request. Deletion shreds the person's finished shipments and logs a receipt; it
        stays open while parcels are still travelling (run it again once they are delivered)."""
        self._need_dpo(principal)
        with self.db.read_session() as s:
            r = self._request(s, principal, ref)
            if r.status == "completed":
                raise Conflict(f"Request {r.ref} is already completed.")
            kind, ref = r.kind, r.ref
        receipt = None
        if kind == "deletion":
            receipt = self._delete(principal, ref)
            if receipt["waiting_for_delivery"]:
                with self.db.session() as s:
                    r = self._request(s, principal, ref)
                    if r.status == "received":
                        r.status, r.acknowledged_at, r.acknowledged_by = "acknowledged", utcnow(), principal.actor
                    s.flush()
                    return {**self._view(r, s.get(Organisation, r.org_id), utcnow()), "receipt": receipt}
        now = utcnow()
        with self.db.session() as s:
            r = self._request(s, principal, ref)
            if r.acknowledged_at is None:
                r.acknowledged_at, r.acknowledged_by = now, principal.actor
            r.status, r.completed_at, r.completed_by = "completed", now, principal.actor
            contact, r.contact_ct = r.contact_ct, None  # the number is not kept once the request is answered
            s.flush()
            view = self._view(r, s.get(Organisation, r.org_id), now)
        self.audit.append(actor=principal.actor, action="dsr_completed", org_id=principal.org_id,
                            subject=f"dsr:{ref}", details={"kind": kind})
        self._notify(principal, ref, contact, f"postguard: yeu cau {ref} da hoan thanh.")
        return {**view, "receipt": receipt}

    def _contact(self, session: Session, principal, r: DataSubjectRequest) -> str:
        """The requester's number, opened through the door for the DPO (purpose ``dsr_contact``)."""
        if r.contact_ct is None:
            raise Conflict(f"Request {r.ref} no longer holds the person's number.")
        (e164,) = self.door.open(session, principal, "dsr_contact", [_sealed_contact(r.org_id, r.ref, r.contact_ct)],
                                   subject=f"dsr:{r.ref}")
        return e164

    def _delete(self, principal, ref: str) -> dict:
        with self.db.session() as s:
            r = self._request(s, principal, ref)
            e164 = self._contact(s, principal, r)
            org = s.get(Organisation, principal.org_id)
            matched = self._match(s, org, principal, e164, "dsr_match", request=r.ref)
        done = [sh for sh, _ in matched if sh.status in TERMINAL and sh.shredded_at is None]
        waiting = sorted(sh.waybill for sh, _ in matched if sh.status not in TERMINAL and sh.shredded_at is None)
        with self.db.session() as s:
            r = self._request(s, principal, ref)
            items = json.loads(r.shredded) if r.shredded else []
            fresh = s.execute(select(Shipment).where(Shipment.id.in_([sh.id for sh in done]),
                                                     Shipment.shredded_at.is_(None))).scalars().all()
            for sh in fresh:
                key_id = next((k for k in (self.vault.record_key_id(getattr(sh, f"{c}_ct")) for c in PHONES) if k),
                              None)
                items.append({"waybill": sh.waybill, "key_id": key_id, "receipt": None})
            self.shipments.shred_ids(s, [sh.id for sh in fresh])
            # The person's one-time-code challenges (a keyed digest of the number, with times) go too.
            self.otp.forget(s, e164)
            r.shredded, r.deferred = json.dumps(items), len(waiting)
        if fresh:
            self.shipments.compact()
        pending = [i for i in items if i["receipt"] is None]
        index = None
        if pending or not waiting:
            index = self.audit.append(
                actor=principal.actor, action="dsr_deletion_receipt", org_id=principal.org_id, subject=f"dsr:{ref}",
                details={"request": ref, "waybills": [i["waybill"] for i in pending],
                         "key_ids": [i["key_id"] for i in pending], "waiting_for_delivery": waiting},
            )
            with self.db.session() as s:
                r = self._request(s, principal, ref)
                items = json.loads(r.shredded) if r.shredded else []
                for i in items:
                    if i["receipt"] is None:
                        i["receipt"] = index
                r.shredded, r.receipt_index = json.dumps(items), index
        return {"index": index, "waybills": [i["waybill"] for i in pending],
                "key_ids": [i["key_id"] for i in pending], "waiting_for_delivery": len(waiting),
                "proof": {**self.audit.inclusion(index, org_id=principal.org_id),
                          "verifier_key": self.audit.verifier_key()} if index is not None else None}

    def receipt(self, principal, ref: str) -> dict:
        """The deletion receipt entry and its inclusion proof."""
        with self.db.read_session() as s:
            r = self._request(s, principal, ref)
            index = r.receipt_index
        if index is None:
            raise NotFound(f"Request {ref} has no deletion receipt yet.")
        return {**self.audit.inclusion(index, org_id=r.org_id), "verifier_key": self.audit.verifier_key()}

    def receipt_for_subject(self, e164: str, ref: str) -> dict:
        """The deletion receipt of the person's own request, with its inclusion proof."""
        digest = self.subject_digest(self.phone(e164))
        with self.db.read_session() as s:
            r = s.execute(select(DataSubjectRequest).where(
                DataSubjectRequest.ref == (ref or "").strip().upper(),
                DataSubjectRequest.subject_digest == digest)).scalar_one_or_none()
        if r is None or r.receipt_index is None:
            raise NotFound(f"No deletion receipt for request {ref}.")
        return {**self.audit.inclusion(r.receipt_index, org_id=r.org_id), "verifier_key": self.audit.verifier_key()}

    # -- export --------------------------------------------------------------------------------
    def _export(self, session: Session, org: Organisation, principal, e164: str, *, match_purpose: str,
                open_purpose: str, request: DataSubjectRequest, me: str) -> dict:
        matched = self._match(session, org, principal, e164, match_purpose,
                              request=request.ref if match_purpose == "dsr_match" else None)
        groups: dict[tuple[str, ...], list] = {}
        for sh, roles in matched:
            if sh.dek is not None:
                groups.setdefault(roles, []).append(sh)
        opened: dict[str, dict] = {}
        for roles, shs in groups.items():
            columns = tuple(c for r in roles for c in SIDES[r]) + ("goods_description",)
            for sh, values in zip(shs, self.door.open_shipments(
                    session, principal=principal, shipments=shs, columns=columns, purpose=open_purpose,
                    details={"request": request.ref}), strict=True):
                opened[sh.waybill] = values
        events: dict[int, list] = {}
        if matched:
            for ev in session.execute(select(ShipmentEvent).where(
                    ShipmentEvent.shipment_id.in_([sh.id for sh, _ in matched])).order_by(ShipmentEvent.id)).scalars():
                events.setdefault(ev.shipment_id, []).append(
                    {"from": ev.from_status, "to": ev.to_status, "at": _iso(ev.at)})
        cp, vkey, body = self._checkpoint()
        self.index_mentions()
        tree = self.audit.synced_tree(session)
        hist = self._history(session, org_id=org.id, waybills={sh.waybill for sh, _ in matched}, me=me, tree=tree,
                             size=cp.size)
        shipments = []
        for sh, roles in matched:
            prov, ward = places.province(sh.recipient_province_code), places.ward(sh.recipient_ward_code)
            shipments.append({
                "waybill": sh.waybill, "you_are": list(roles), "status": sh.status,
                "created_at": _iso(sh.created_at), "status_changed_at": _iso(sh.status_changed_at),
                "status_history": events.get(sh.id, []), "recipient_ward": ward.name, "recipient_province": prov.name,
                "cod_amount_vnd": sh.cod_amount_vnd, "weight_grams": sh.weight_grams,
                "personal_data": opened.get(sh.waybill, "shredded"), "accesses": hist[sh.waybill],
            })
        return {
            "format": "postguard-dsr-export/1", "request": request.ref, "generated_at": _iso(utcnow()),
            "organisation": {"code": org.code, "name": org.name}, "subject": {"phone": e164},
            "shipments": shipments, "checkpoint": cp.note, "tree_size": cp.size, "root": _b64(body.root),
            "verifier_key": vkey,
        }

    def export(self, principal, ref: str) -> dict:
        """The access export of a request, for the DPO to deliver (decrypted through the door, logged)."""
        self._need_dpo(principal)
        with self.db.session() as s:
            r = self._request(s, principal, ref)
            if r.kind != "access":
                raise Conflict(f"Request {r.ref} is a {r.kind} request, not an access request.")
            e164 = self._contact(s, principal, r)
            org = s.get(Organisation, r.org_id)
            return self._export(s, org, principal, e164, match_purpose="dsr_match", open_purpose="dsr_export",
                                request=r, me="")

    def export_for_subject(self, e164: str, ref: str) -> dict:
        """The person downloads the export of their own completed access request (logged)."""
        e164 = self.phone(e164)
        digest = self.subject_digest(e164)
        with self.db.session() as s:
            r = s.execute(select(DataSubjectRequest).where(
                DataSubjectRequest.ref == (ref or "").strip().upper(),
                DataSubjectRequest.subject_digest == digest)).scalar_one_or_none()
            if r is None or r.kind != "access":
                raise NotFound(f"No access request {ref} for this number.")
            if r.status != "completed":
                raise Conflict(f"Request {r.ref} is not completed yet.")
            org = s.get(Organisation, r.org_id)
            me = DataSubject(org.id, digest)
            return self._export(s, org, me, e164, match_purpose="data_subject", open_purpose="data_subject",
                                request=r, me=me.actor)

    # -- breach incidents ----------------------------------------------------------------------
    def _incident_view(self, i: BreachIncident, now: datetime) -> dict:
        due = deadlines.breach_notify_due(i.detected_at)
        c = deadlines.clock(due, i.notified_at, now)
        return {"ref": i.ref, "status": i.status, "detected_at": _iso(i.detected_at),
                "recorded_at": _iso(i.recorded_at), "description": i.description,
                "affected_estimate": i.affected_estimate, "notify_due": _iso(due), "notified_at": _iso(i.notified_at),
                "clock": c, "overdue": c in ("overdue", "late"),
                "hours_left": round((due - now).total_seconds() / 3600, 1) if i.notified_at is None else None}

    def create_incident(self, principal, *, detected_at: datetime | str, description: str,
                        affected_estimate: int | str, now: datetime | None = None) -> dict:
        self._need_dpo(principal)
        now = now or utcnow()
        errors = []
        if isinstance(detected_at, str):
            try:
                detected_at = datetime.fromisoformat(detected_at.strip())
            except ValueError:
                errors.append(FieldError("detected_at", "an ISO 8601 date and time, e.g. 2026-11-23T08:30+07:00"))
                detected_at = None
        if detected_at is not None:
            if detected_at.tzinfo is None:
                detected_at = detected_at.replace(tzinfo=deadlines.VN)  # a local time typed by the DPO
            if detected_at > now:
                errors.append(FieldError("detected_at", "cannot be in the future"))
        description = (description or "").strip()
        if not description or len(description) > MAX_DESCRIPTION:
            errors.append(FieldError("description", f"required, at most {MAX_DESCRIPTION} characters"))
        try:
            affected = int(affected_estimate)
            if affected < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("affected_estimate", "a whole number, 0 or more"))
            affected = 0
        if errors:
            raise InvalidInput("The incident was not recorded.", errors)
        with self.db.session() as s:
            inc = BreachIncident(ref=_ref("INC"), org_id=principal.org_id, detected_at=detected_at, recorded_at=now,
                                 recorded_by=principal.actor, description=description, affected_estimate=affected,
                                 status="open")
            s.add(inc)
            s.flush()
            view = self._incident_view(inc, now)
        self.audit.append(actor=principal.actor, action="incident_recorded", org_id=principal.org_id,
                            subject=f"incident:{view['ref']}",
                            details={"detected_at": view["detected_at"], "affected_estimate": affected})
        return view

    def list_incidents(self, principal, *, now: datetime | None = None) -> list[dict]:
        self._need_dpo(principal, read=True)
        now = now or utcnow()
        with self.db.read_session() as s:
            rows = s.execute(select(BreachIncident).where(BreachIncident.org_id == principal.org_id)
                             .order_by(BreachIncident.detected_at.desc())).scalars().all()
            return [self._incident_view(i, now) for i in rows]

    def notify_incident(self, principal, ref: str) -> dict:
        """Record that the authority was notified (now)."""
        self._need_dpo(principal)
        now = utcnow()
        with self.db.session() as s:
            inc = s.execute(select(BreachIncident).where(
                BreachIncident.ref == (ref or "").strip().upper(),
                BreachIncident.org_id == principal.org_id)).scalar_one_or_none()
            if inc is None:
                raise NotFound(f"No incident {ref}.")
            if inc.notified_at is not None:
                raise Conflict(f"Incident {inc.ref} was already notified.")
            inc.status, inc.notified_at, inc.notified_by = "notified", now, principal.actor
            s.flush()
            view = self._incident_view(inc, now)
        self.audit.append(actor=principal.actor, action="incident_notified", org_id=principal.org_id,
                            subject=f"incident:{view['ref']}", details={"on_time": not view["overdue"]})
        return view
