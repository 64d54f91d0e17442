"""Data-subject requests (access export, deletion, correction) with their legal clocks.

A person who proved their number files a request; the data-protection officer acknowledges and
completes it, and the person is texted at each step. Deletion crypto-shreds the person's finished
shipments at once (parcels still travelling are shredded once delivered, returned or cancelled: the
courier needs the address to finish the delivery) and appends a receipt to the access log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound, PostguardError
from postguard.i18n import SMS_LANGUAGE, texts
from postguard.logging import get_logger
from postguard.orgs.models import Organisation
from postguard.principals import DataSubject, Principal
from postguard.privacy import deadlines
from postguard.privacy.formats import iso, new_ref
from postguard.privacy.models import DataSubjectRequest
from postguard.orgs.service import OrgService
from postguard.privacy.subjects import PHONES
from postguard.shipments.models import Shipment
from postguard.shipments.service import TERMINAL
from postguard.vault.service import SealedValue

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.privacy.subjects import Subjects
    from postguard.ratelimit import RateLimiter
    from postguard.shipments.service import ShipmentService
    from postguard.vault.service import Vault

KINDS = ("access", "deletion", "correction")
STATUSES = ("received", "acknowledged", "completed")
DSR_CONTACT = "dsr-contact"  # the platform secret requesters' numbers are sealed under
log = get_logger("postguard.privacy")


def _sealed_contact(org_id: int, ref: str, blob: bytes) -> SealedValue:
    """A request's contact number as sealed by ``file_request`` (under the platform secret ``dsr-contact``)."""
    return SealedValue(org_id=org_id, table="data_subject_requests", column="contact", record_id=ref, blob=blob,
                       service=DSR_CONTACT)


def _number(opened: str | None, ref: str) -> str:
    """The requester's number as the door opened it (``Conflict`` if it no longer opens)."""
    if opened is None:
        raise Conflict(f"Request {ref} no longer holds the person's number.")
    return opened


class SmsSender(Protocol):
    """Where notices to the person go (``postguard.notify.Notifier``, a peer: handed in by the wiring)."""

    def send_sms(self, phone: str, text: str) -> None: ...


class CodeChallenges(Protocol):
    """One-time-code challenges sent to a number (``postguard.otp.OtpService``, a peer)."""

    def forget(self, session: Session, e164: str) -> int: ...

class RequestDesk:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, door: Door, limiter: RateLimiter,
                 shipments: ShipmentService, otp: CodeChallenges, notifier: SmsSender, subjects: Subjects) -> None:
        self.db = db
        self.vault = vault
        self.audit = audit
        self.door = door
        self.limiter = limiter
        self.shipments = shipments
        self.otp = otp
        self.notifier = notifier
        self.subjects = subjects

    def view(self, r: DataSubjectRequest, org: Organisation, now: datetime) -> dict[str, Any]:
        ack_due, done_due = deadlines.acknowledge_due(r.received_at), deadlines.complete_due(r.received_at)
        ack_clock = deadlines.clock(ack_due, r.acknowledged_at, now)
        done_clock = deadlines.clock(done_due, r.completed_at, now)
        shredded = json.loads(r.shredded) if r.shredded else []
        return {
            "ref": r.ref, "kind": r.kind, "status": r.status, "organisation": org.code,
            "subject": f"subject:{r.subject_digest[:8].hex()}",
            "received_at": iso(r.received_at), "acknowledged_at": iso(r.acknowledged_at),
            "completed_at": iso(r.completed_at), "acknowledge_due": iso(ack_due), "complete_due": iso(done_due),
            "acknowledge_clock": ack_clock, "complete_clock": done_clock,
            "overdue": ack_clock in ("overdue", "late") or done_clock in ("overdue", "late"),
            "shredded": len(shredded), "waiting_for_delivery": r.deferred, "receipt_index": r.receipt_index,
        }

    def file_request(self, e164: str, *, org_code: str, kind: str, now: datetime | None = None) -> dict[str, Any]:
        """A person (phone proven) asks an operator for an export, a deletion or a correction."""
        e164 = self.subjects.phone(e164)
        errors: list[FieldError] = []
        if kind not in KINDS:
            errors.append(FieldError("kind", f"one of {', '.join(KINDS)}"))
        with self.db.read_session() as s:
            org = s.execute(select(Organisation).where(Organisation.code == (org_code or "").strip().upper())
                            ).scalar_one_or_none()
        if org is None:
            errors.append(FieldError("org", "no such organisation"))
        if errors or org is None:
            raise InvalidInput("The request was not filed.", errors)
        with self.db.session() as s:
            digest = self.subjects.digest(s, e164)
            self.limiter.hit("5/day", "dsr-file", digest.hex(),
                               message="Too many requests filed for this number today.")
            open_same = s.execute(select(DataSubjectRequest).where(
                DataSubjectRequest.org_id == org.id, DataSubjectRequest.subject_digest == digest,
                DataSubjectRequest.kind == kind, DataSubjectRequest.status != "completed")).scalars().first()
            if open_same is not None:
                raise Conflict(f"Request {open_same.ref} of this kind is already open.")
            ref = new_ref("DSR")
            r = DataSubjectRequest(ref=ref, org_id=org.id, kind=kind, status="received", subject_digest=digest,
                                   received_at=now or utcnow(), deferred=0,
                                   contact_ct=self.vault.seal_service(e164, session=s, purpose=DSR_CONTACT,
                                                                        record_id=ref))
            s.add(r)
            s.flush()
            view = self.view(r, org, utcnow())
        self.audit.append(actor=DataSubject(org.id, digest).actor, action="dsr_received", org_id=org.id,
                            subject=f"dsr:{ref}", details={"kind": kind})
        return view

    def my_requests(self, e164: str) -> list[dict[str, Any]]:
        e164 = self.subjects.phone(e164)
        now = utcnow()
        digest = self.subjects.subject_digest(e164)
        with self.db.read_session() as s:
            rows = s.execute(select(DataSubjectRequest, Organisation)
                             .join(Organisation, Organisation.id == DataSubjectRequest.org_id)
                             .where(DataSubjectRequest.subject_digest == digest)
                             .order_by(DataSubjectRequest.received_at.desc())).all()
            return [self.view(r, o, now) for r, o in rows]

    def list_requests(self, principal: Principal, *, status: str | None = None,
                      now: datetime | None = None) -> list[dict[str, Any]]:
        """An operator's requests, oldest deadline first, with their clocks (DPO; admins read)."""
        self.subjects.need_dpo(principal, read=True)
        if status is not None and status not in STATUSES:
            raise InvalidInput("Unknown status.", [FieldError("status", f"one of {', '.join(STATUSES)}")])
        now = now or utcnow()
        q = select(DataSubjectRequest).where(DataSubjectRequest.org_id == principal.org_id)
        if status:
            q = q.where(DataSubjectRequest.status == status)
        with self.db.read_session() as s:
            org = OrgService.by_id(s, principal.org_id)
            rows = s.execute(q.order_by(DataSubjectRequest.received_at)).scalars().all()
            return [self.view(r, org, now) for r in rows]

    def get_request(self, principal: Principal, ref: str, *, now: datetime | None = None) -> dict[str, Any]:
        """One of the operator's requests, with its clocks (DPO; admins read)."""
        self.subjects.need_dpo(principal, read=True)
        with self.db.read_session() as s:
            r = self.find(s, principal, ref)
            return self.view(r, OrgService.by_id(s, r.org_id), now or utcnow())

    def find(self, session: Session, principal: Principal, ref: str) -> DataSubjectRequest:
        r = session.execute(select(DataSubjectRequest).where(
            DataSubjectRequest.ref == (ref or "").strip().upper(),
            DataSubjectRequest.org_id == principal.org_id)).scalar_one_or_none()
        if r is None:
            raise NotFound(f"No request {ref}.")
        return r

    def _notify(self, principal: Principal, ref: str, contact: bytes | None, text: str) -> None:
        """Text the requester (the DPO's action; the number is opened through the door, purpose
        ``dsr_notice``, and goes to the SMS gateway only). A notice that cannot be sent is logged here
        and leaves the request as it is."""
        if contact is None:
            return
        try:
            with self.db.read_session() as s:
                (opened,) = self.door.open(s, principal, "dsr_notice",
                                           [_sealed_contact(principal.org_id, ref, contact)], subject=f"dsr:{ref}")
            self.notifier.send_sms(_number(opened, ref), text)
        except PostguardError:
            log.warning("request notice not sent", ref=ref)

    def acknowledge(self, principal: Principal, ref: str) -> dict[str, Any]:
        self.subjects.need_dpo(principal)
        with self.db.session() as s:
            r = self.find(s, principal, ref)
            if r.status != "received":
                raise Conflict(f"Request {r.ref} is already {r.status}.")
            r.status, r.acknowledged_at, r.acknowledged_by = "acknowledged", utcnow(), principal.actor
            s.flush()
            view, contact = self.view(r, OrgService.by_id(s, r.org_id), utcnow()), r.contact_ct
        self.audit.append(actor=principal.actor, action="dsr_acknowledged", org_id=principal.org_id,
                            subject=f"dsr:{view['ref']}", details={"kind": view["kind"]})
        _ = texts(SMS_LANGUAGE)
        due = datetime.fromisoformat(view["complete_due"]).astimezone(deadlines.VN).strftime("%d/%m/%Y")
        self._notify(principal, view["ref"], contact, _("sms_dsr_acknowledged").format(ref=view["ref"], due=due))
        return view

    def complete(self, principal: Principal, ref: str) -> dict[str, Any]:
        """Finish a request. Deletion shreds the person's finished shipments and logs a receipt; it
        stays open while parcels are still travelling (run it again once they are delivered)."""
        self.subjects.need_dpo(principal)
        with self.db.read_session() as s:
            r = self.find(s, principal, ref)
            if r.status == "completed":
                raise Conflict(f"Request {r.ref} is already completed.")
            kind, ref = r.kind, r.ref
        receipt = None
        if kind == "deletion":
            receipt = self._delete(principal, ref)
            if receipt["waiting_for_delivery"]:
                with self.db.session() as s:
                    r = self.find(s, principal, ref)
                    if r.status == "received":
                        r.status, r.acknowledged_at, r.acknowledged_by = "acknowledged", utcnow(), principal.actor
                    s.flush()
                    return {**self.view(r, OrgService.by_id(s, r.org_id), utcnow()), "receipt": receipt}
        now = utcnow()
        with self.db.session() as s:
            r = self.find(s, principal, ref)
            if r.acknowledged_at is None:
                r.acknowledged_at, r.acknowledged_by = now, principal.actor
            r.status, r.completed_at, r.completed_by = "completed", now, principal.actor
            contact, r.contact_ct = r.contact_ct, None  # the number is not kept once the request is answered
            s.flush()
            view = self.view(r, OrgService.by_id(s, r.org_id), now)
        self.audit.append(actor=principal.actor, action="dsr_completed", org_id=principal.org_id,
                            subject=f"dsr:{ref}", details={"kind": kind})
        _ = texts(SMS_LANGUAGE)
        self._notify(principal, ref, contact, _("sms_dsr_completed").format(ref=ref))
        return {**view, "receipt": receipt}

    def contact(self, session: Session, principal: Principal, r: DataSubjectRequest) -> str:
        """The requester's number, opened through the door for the DPO (purpose ``dsr_contact``)."""
        if r.contact_ct is None:
            raise Conflict(f"Request {r.ref} no longer holds the person's number.")
        (opened,) = self.door.open(session, principal, "dsr_contact",
                                   [_sealed_contact(r.org_id, r.ref, r.contact_ct)], subject=f"dsr:{r.ref}")
        return _number(opened, r.ref)

    def _delete(self, principal: Principal, ref: str) -> dict[str, Any]:
        with self.db.session() as s:
            r = self.find(s, principal, ref)
            e164 = self.contact(s, principal, r)
            org = OrgService.by_id(s, principal.org_id)
            matched = self.subjects.match(s, org, principal, e164, "dsr_match", request=r.ref)
        done = [sh for sh, _ in matched if sh.status in TERMINAL and sh.shredded_at is None]
        waiting = sorted(sh.waybill for sh, _ in matched if sh.status not in TERMINAL and sh.shredded_at is None)
        with self.db.session() as s:
            r = self.find(s, principal, ref)
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
                r = self.find(s, principal, ref)
                items = json.loads(r.shredded) if r.shredded else []
                for i in items:
                    if i["receipt"] is None:
                        i["receipt"] = index
                r.shredded, r.receipt_index = json.dumps(items), index
        return {"index": index, "waybills": [i["waybill"] for i in pending],
                "key_ids": [i["key_id"] for i in pending], "waiting_for_delivery": len(waiting),
                "proof": {**self.audit.inclusion(index, org_id=principal.org_id),
                          "verifier_key": self.audit.verifier_key()} if index is not None else None}

    def receipt(self, principal: Principal, ref: str) -> dict[str, Any]:
        """The deletion receipt entry and its inclusion proof."""
        with self.db.read_session() as s:
            r = self.find(s, principal, ref)
            index = r.receipt_index
        if index is None:
            raise NotFound(f"Request {ref} has no deletion receipt yet.")
        return {**self.audit.inclusion(index, org_id=r.org_id), "verifier_key": self.audit.verifier_key()}

    def receipt_for_subject(self, e164: str, ref: str) -> dict[str, Any]:
        """The deletion receipt of the person's own request, with its inclusion proof."""
        digest = self.subjects.subject_digest(self.subjects.phone(e164))
        with self.db.read_session() as s:
            r = s.execute(select(DataSubjectRequest).where(
                DataSubjectRequest.ref == (ref or "").strip().upper(),
                DataSubjectRequest.subject_digest == digest)).scalar_one_or_none()
        if r is None or r.receipt_index is None:
            raise NotFound(f"No deletion receipt for request {ref}.")
        return {**self.audit.inclusion(r.receipt_index, org_id=r.org_id), "verifier_key": self.audit.verifier_key()}
