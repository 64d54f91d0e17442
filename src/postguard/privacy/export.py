"""The access export of a data-subject request: the person's shipments at the operator, their
personal data (decrypted through the door, logged), status history and who accessed them, with
inclusion proofs against the latest signed checkpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard import places
from postguard.db.base import utcnow
from postguard.errors import Conflict, NotFound
from postguard.orgs.models import Organisation
from postguard.principals import DataSubject, Principal
from postguard.privacy.formats import b64, iso
from postguard.privacy.models import DataSubjectRequest
from postguard.orgs.service import OrgService
from postguard.shipments.models import Shipment, ShipmentEvent

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.privacy.history import AccessHistory
    from postguard.privacy.requests import RequestDesk
    from postguard.privacy.subjects import Subjects

SIDES = {
    "sender": ("sender_name", "sender_phone", "sender_address"),
    "recipient": ("recipient_name", "recipient_phone", "recipient_address"),
}


class AccessExport:
    def __init__(self, *, db: Database, audit: AuditLog, door: Door, subjects: Subjects, history: AccessHistory,
                 requests: RequestDesk) -> None:
        self.db = db
        self.audit = audit
        self.door = door
        self.subjects = subjects
        self.history = history
        self.requests = requests

    def _export(self, session: Session, org: Organisation, principal: Principal, e164: str, *, match_purpose: str,
                open_purpose: str, request: DataSubjectRequest, me: str) -> dict[str, Any]:
        matched = self.subjects.match(session, org, principal, e164, match_purpose,
                                      request=request.ref if match_purpose == "dsr_match" else None)
        groups: dict[tuple[str, ...], list[Shipment]] = {}
        for sh, roles in matched:
            if sh.dek is not None:
                groups.setdefault(roles, []).append(sh)
        opened: dict[str, dict[str, str | None]] = {}
        for roles, shs in groups.items():
            columns = tuple(c for r in roles for c in SIDES[r]) + ("goods_description",)
            for sh, values in zip(shs, self.door.open_shipments(
                    session, principal=principal, shipments=shs, columns=columns, purpose=open_purpose,
                    details={"request": request.ref}), strict=True):
                opened[sh.waybill] = values
        events: dict[int, list[dict[str, str | None]]] = {}
        if matched:
            for ev in session.execute(select(ShipmentEvent).where(
                    ShipmentEvent.shipment_id.in_([sh.id for sh, _ in matched])).order_by(ShipmentEvent.id)).scalars():
                events.setdefault(ev.shipment_id, []).append(
                    {"from": ev.from_status, "to": ev.to_status, "at": iso(ev.at)})
        cp, vkey, body = self.history.checkpoint()
        self.history.index_mentions()
        tree = self.audit.synced_tree(session)
        hist = self.history.entries(session, org_id=org.id, waybills={sh.waybill for sh, _ in matched}, me=me,
                                    tree=tree, size=cp.size)
        shipments: list[dict[str, Any]] = []
        for sh, roles in matched:
            prov, ward = places.province(sh.recipient_province_code), places.ward(sh.recipient_ward_code)
            shipments.append({
                "waybill": sh.waybill, "you_are": list(roles), "status": sh.status,
                "created_at": iso(sh.created_at), "status_changed_at": iso(sh.status_changed_at),
                "status_history": events.get(sh.id, []), "recipient_ward": ward.name, "recipient_province": prov.name,
                "cod_amount_vnd": sh.cod_amount_vnd, "weight_grams": sh.weight_grams,
                "personal_data": opened.get(sh.waybill, "shredded"), "accesses": hist[sh.waybill],
            })
        return {
            "format": "postguard-dsr-export/1", "request": request.ref, "generated_at": iso(utcnow()),
            "organisation": {"code": org.code, "name": org.name}, "subject": {"phone": e164},
            "shipments": shipments, "checkpoint": cp.note, "tree_size": cp.size, "root": b64(body.root),
            "verifier_key": vkey,
        }

    def export(self, principal: Principal, ref: str) -> dict[str, Any]:
        """The access export of a request, for the DPO to deliver (decrypted through the door, logged)."""
        self.subjects.need_dpo(principal)
        with self.db.session() as s:
            r = self.requests.find(s, principal, ref)
            if r.kind != "access":
                raise Conflict(f"Request {r.ref} is a {r.kind} request, not an access request.")
            e164 = self.requests.contact(s, principal, r)
            org = OrgService.by_id(s, r.org_id)
            return self._export(s, org, principal, e164, match_purpose="dsr_match", open_purpose="dsr_export",
                                request=r, me="")

    def export_for_subject(self, e164: str, ref: str) -> dict[str, Any]:
        """The person downloads the export of their own completed access request (logged)."""
        e164 = self.subjects.phone(e164)
        digest = self.subjects.subject_digest(e164)
        with self.db.session() as s:
            r = s.execute(select(DataSubjectRequest).where(
                DataSubjectRequest.ref == (ref or "").strip().upper(),
                DataSubjectRequest.subject_digest == digest)).scalar_one_or_none()
            if r is None or r.kind != "access":
                raise NotFound(f"No access request {ref} for this number.")
            if r.status != "completed":
                raise Conflict(f"Request {r.ref} is not completed yet.")
            org = OrgService.by_id(s, r.org_id)
            me = DataSubject(org.id, digest)
            return self._export(s, org, me, e164, match_purpose="data_subject", open_purpose="data_subject",
                                request=r, me=me.actor)
