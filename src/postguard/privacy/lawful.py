"""Requests for personal data from authorities (police, courts, the procuracy, the cyber-security centre).

The data-protection officer (or an administrator) records the request as it arrived: which authority,
the legal basis, the case number, the scope (waybills and/or phone numbers; the numbers are sealed under
the platform secret ``lawful-scope``) and the authority's deadline. Nothing is disclosed until two people
have approved it: the DPO and an administrator (each approval is a conditional update: the same role
cannot approve twice, however many clicks arrive at once). The DPO then makes the disclosure through
the door with its own purposes (``lawful_scope``, ``lawful_match``, ``lawful_disclosure``; each opening
logged, naming the request), once: a second disclosure of the same request is refused. Afterwards the
DPO records that the people concerned were informed, or that informing them is deferred and why (an
investigation may require it). ``register`` lists a year's requests for the operator's annual report.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from postguard.access.door import EVERYTHING
from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.phones import InvalidPhone, normalize_phone
from postguard.principals import Principal, StaffPrincipal
from postguard.privacy.formats import iso, new_ref
from postguard.privacy.models import LawfulRequest
from postguard.shipments.models import Shipment
from postguard.shipments.validation import case_forms, typed_waybill
from postguard.vault.service import SealedValue

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.privacy.subjects import Subjects
    from postguard.vault.service import Vault

AUTHORITIES = ("police", "court", "procuracy", "cyber_security", "other")
STATUSES = ("received", "approved", "disclosing", "disclosed", "refused")
SCOPE_KEY = "lawful-scope"  # the platform secret the scope's phone numbers are sealed under
MAX_WAYBILLS = 500
MAX_PHONES = 50
APPROVERS = ("dpo", "admin")


def _bad(message: str, errors: list[FieldError]) -> InvalidInput:
    return InvalidInput(message, errors)


def _changed(s: Session, statement: Any) -> int:
    """Rows a conditional UPDATE changed (the claim it made)."""
    return cast(CursorResult[Any], s.execute(statement)).rowcount


class LawfulRequests:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, door: Door, orgs: OrgService,
                 subjects: Subjects) -> None:
        self.db, self.vault, self.audit, self.door, self.orgs, self.subjects = db, vault, audit, door, orgs, subjects

    # -- who ----------------------------------------------------------------------------------------
    def _staff(self, principal: Principal, roles: tuple[str, ...]) -> StaffPrincipal:
        allowed = self.orgs.require(principal, None, roles=roles, subject="lawful",
                                    message="Only the data-protection officer or an administrator may do this.")
        if isinstance(allowed, StaffPrincipal):
            return allowed
        self.orgs.refuse(principal, reason="for staff only", subject="lawful")

    @staticmethod
    def _get(s: Session, staff: StaffPrincipal, ref: str) -> LawfulRequest:
        r = s.execute(select(LawfulRequest).where(LawfulRequest.ref == (ref or "").strip().upper(),
                                                  LawfulRequest.org_id == staff.org_id)).scalar_one_or_none()
        if r is None:
            raise NotFound(f"No lawful request {ref}.")
        return r

    @staticmethod
    def view(r: LawfulRequest, now: datetime) -> dict[str, Any]:
        return {"ref": r.ref, "authority_kind": r.authority_kind, "authority_name": r.authority_name,
                "legal_basis": r.legal_basis, "case_number": r.case_number, "status": r.status,
                "waybills": len(json.loads(r.scope_waybills)), "phones": r.scope_phones_ct is not None,
                "received_at": iso(r.received_at), "deadline_at": iso(r.deadline_at),
                "overdue": r.disclosed_at is None and r.status in ("received", "approved") and r.deadline_at < now,
                "recorded_by": r.recorded_by,
                "approvals": {"dpo": r.dpo_approved_by, "admin": r.admin_approved_by},
                "disclosed_at": iso(r.disclosed_at), "disclosed_by": r.disclosed_by,
                "disclosed_count": r.disclosed_count, "refused_reason": r.refused_reason,
                "notice": r.notice, "notice_at": iso(r.notice_at), "notice_reason": r.notice_reason}

    # -- recording ------------------------------------------------------------------------------------
    def record(self, principal: Principal, *, authority_kind: str, authority_name: str, legal_basis: str,
               case_number: str, deadline_at: datetime, waybills: list[str] | None = None,
               phones: list[str] | None = None) -> dict[str, Any]:
        staff = self._staff(principal, APPROVERS)
        errors: list[FieldError] = []
        if authority_kind not in AUTHORITIES:
            errors.append(FieldError("authority_kind", ", ".join(AUTHORITIES)))
        name, basis, case = (authority_name or "").strip(), (legal_basis or "").strip(), (case_number or "").strip()
        if not 2 <= len(name) <= 200:
            errors.append(FieldError("authority_name", "2-200 characters"))
        if not 10 <= len(basis) <= 500:
            errors.append(FieldError("legal_basis", "the law and article the request relies on, 10-500 characters"))
        if not 1 <= len(case) <= 100:
            errors.append(FieldError("case_number", "1-100 characters"))
        if deadline_at.tzinfo is None:
            errors.append(FieldError("deadline_at", "a date and time with its offset"))
        typed: list[str] = []
        for i, w in enumerate(waybills or []):
            t = typed_waybill(w) if isinstance(w, str) else None
            if t is None:
                errors.append(FieldError(f"waybills[{i}]", "not a waybill"))
            elif t not in typed:
                typed.append(t)
        numbers: list[str] = []
        for i, ph in enumerate(phones or []):
            try:
                e164 = normalize_phone(ph)
            except InvalidPhone as e:
                errors.append(FieldError(f"phones[{i}]", str(e), code="invalid_phone"))
                continue
            if e164 not in numbers:
                numbers.append(e164)
        if not typed and not numbers and not errors:
            errors.append(FieldError("scope", "at least one waybill or phone number"))
        if len(typed) > MAX_WAYBILLS or len(numbers) > MAX_PHONES:
            errors.append(FieldError("scope", f"at most {MAX_WAYBILLS} waybills and {MAX_PHONES} phone numbers"))
        if errors:
            raise _bad("The lawful request was not recorded.", errors)
        ref = new_ref("LR")
        with self.db.session() as s:
            r = LawfulRequest(ref=ref, org_id=staff.org_id, authority_kind=authority_kind, authority_name=name,
                              legal_basis=basis, case_number=case, scope_waybills=json.dumps(typed),
                              scope_phones_ct=self.vault.seal_service(json.dumps(numbers), session=s,
                                                                      purpose=SCOPE_KEY, record_id=ref)
                              if numbers else None,
                              deadline_at=deadline_at, received_at=utcnow(), recorded_by=staff.actor)
            s.add(r)
            s.flush()
            view = self.view(r, utcnow())
        self.audit.append(actor=staff.actor, action="lawful_recorded", org_id=staff.org_id, subject=f"lawful:{ref}",
                          details={"authority_kind": authority_kind, "case_number": case,
                                   "waybills": len(typed), "phones": len(numbers)})
        return view

    def approve(self, principal: Principal, ref: str) -> dict[str, Any]:
        """The DPO's or an administrator's approval; the second of the two makes the request approved."""
        staff = self._staff(principal, APPROVERS)
        now = utcnow()
        by, at = ((LawfulRequest.dpo_approved_by, LawfulRequest.dpo_approved_at) if staff.role == "dpo"
                  else (LawfulRequest.admin_approved_by, LawfulRequest.admin_approved_at))
        with self.db.session() as s:
            r = self._get(s, staff, ref)
            claimed = _changed(s, update(LawfulRequest).where(LawfulRequest.id == r.id, LawfulRequest.status == "received",
                                                              by.is_(None)).values({by: staff.actor, at: now}))
            if claimed != 1:
                raise Conflict(f"Request {r.ref} is {r.status} or already approved by the {staff.role}.")
            s.execute(update(LawfulRequest).where(LawfulRequest.id == r.id, LawfulRequest.status == "received",
                                                  LawfulRequest.dpo_approved_by.is_not(None),
                                                  LawfulRequest.admin_approved_by.is_not(None))
                      .values(status="approved"))
            s.flush()
            s.refresh(r)
            view = self.view(r, now)
        self.audit.append(actor=staff.actor, action="lawful_approved", org_id=staff.org_id, subject=f"lawful:{r.ref}",
                          details={"role": staff.role, "status": view["status"]})
        return view

    def refuse(self, principal: Principal, ref: str, *, reason: str) -> dict[str, Any]:
        """Refuse a request that has no valid basis (before anything is disclosed)."""
        staff = self._staff(principal, APPROVERS)
        reason = (reason or "").strip()
        if not 10 <= len(reason) <= 2000:
            raise _bad("The request was not refused.", [FieldError("reason", "10-2000 characters")])
        with self.db.session() as s:
            r = self._get(s, staff, ref)
            done = _changed(s, update(LawfulRequest).where(LawfulRequest.id == r.id,
                                                           LawfulRequest.status.in_(("received", "approved")))
                            .values(status="refused", refused_reason=reason))
            if done != 1:
                raise Conflict(f"Request {r.ref} is {r.status}: it can no longer be refused.")
            s.refresh(r)
            view = self.view(r, utcnow())
        self.audit.append(actor=staff.actor, action="lawful_refused", org_id=staff.org_id, subject=f"lawful:{r.ref}")
        return view

    # -- disclosing -----------------------------------------------------------------------------------
    def disclose(self, principal: Principal, ref: str) -> dict[str, Any]:
        """Open the request's scope through the door (the DPO, once both approvals are in) and return
        the disclosure: each shipment's fields, and the waybills not found."""
        staff = self._staff(principal, ("dpo",))
        with self.db.session() as s:  # claim it: one disclosure however many arrive at once
            r = self._get(s, staff, ref)
            if _changed(s, update(LawfulRequest).where(LawfulRequest.id == r.id, LawfulRequest.status == "approved")
                        .values(status="disclosing")) != 1:
                raise Conflict(f"Request {r.ref} is {r.status}: only an approved request is disclosed, once.")
            ref, waybills, sealed = r.ref, json.loads(r.scope_waybills), r.scope_phones_ct
        try:
            found, missing, opened = self._open(staff, ref, waybills, sealed)
        except BaseException:
            with self.db.session() as s:  # nothing was disclosed: it may be tried again
                s.execute(update(LawfulRequest).where(LawfulRequest.ref == ref, LawfulRequest.status == "disclosing")
                          .values(status="approved"))
            raise
        now = utcnow()
        with self.db.session() as s:
            s.execute(update(LawfulRequest).where(LawfulRequest.ref == ref)
                      .values(status="disclosed", disclosed_by=staff.actor, disclosed_at=now, disclosed_count=len(found)))
            r = self._get(s, staff, ref)
            view = self.view(r, now)
        return {"request": view, "disclosed_at": iso(now), "not_found": missing,
                "shipments": [{"waybill": sh.waybill, "status": sh.status, "created_at": iso(sh.created_at),
                               "province_code": sh.recipient_province_code, "ward_code": sh.recipient_ward_code,
                               "cod_amount_vnd": sh.cod_amount_vnd, **fields}
                              for sh, fields in zip(found, opened, strict=True)]}

    def _open(self, staff: StaffPrincipal, ref: str, waybills: list[str], sealed: bytes | None
              ) -> tuple[list[Shipment], list[str], list[dict[str, str | None]]]:
        with self.db.read_session() as s:
            org = self.orgs.by_id(s, staff.org_id)
            forms = {f: w for w in waybills for f in case_forms(w)}
            wanted = list(forms)
            rows = [sh for i in range(0, len(wanted), 900) for sh in s.execute(
                select(Shipment).where(Shipment.org_id == org.id, Shipment.waybill.in_(wanted[i:i + 900]))).scalars()]
            by_id = {sh.id: sh for sh in rows}
            got = {forms[sh.waybill] for sh in rows}
            missing = [w for w in waybills if w not in got]
            if sealed is not None:
                phones = self.door.open(s, staff, "lawful_scope", [SealedValue(
                    org_id=staff.org_id, table="lawful_requests", column="scope_phones", record_id=ref, blob=sealed,
                    service=SCOPE_KEY)], subject=f"lawful:{ref}")[0]
                for e164 in json.loads(phones or "[]"):
                    for sh, _roles in self.subjects.match(s, org, staff, e164, "lawful_match", request=ref):
                        by_id.setdefault(sh.id, sh)
            found = sorted(by_id.values(), key=lambda sh: sh.waybill)
            opened = self.door.open_shipments(s, principal=staff, shipments=found, columns=tuple(sorted(EVERYTHING)),
                                              purpose="lawful_disclosure", details={"request": ref}) if found else []
            return found, missing, opened

    def notice(self, principal: Principal, ref: str, *, informed: bool, reason: str | None = None) -> dict[str, Any]:
        """Record that the people concerned were informed, or that informing them is deferred and why."""
        staff = self._staff(principal, ("dpo",))
        reason = (reason or "").strip() or None
        if not informed and (reason is None or not 10 <= len(reason) <= 2000):
            raise _bad("Nothing was recorded.", [FieldError("reason", "why informing them is deferred, 10-2000 "
                                                                      "characters (e.g. the authority's instruction)")])
        now = utcnow()
        with self.db.session() as s:
            r = self._get(s, staff, ref)
            done = _changed(s, update(LawfulRequest).where(LawfulRequest.id == r.id, LawfulRequest.status == "disclosed",
                                                           LawfulRequest.notice.is_(None))
                            .values(notice="informed" if informed else "deferred", notice_at=now,
                                    notice_reason=reason))
            if done != 1:
                raise Conflict(f"Request {r.ref} is {r.status}" + (f", notice already {r.notice}" if r.notice else "")
                               + ": a notice is recorded once, after the disclosure.")
            s.refresh(r)
            view = self.view(r, now)
        self.audit.append(actor=staff.actor, action="lawful_notice", org_id=staff.org_id, subject=f"lawful:{r.ref}",
                          details={"notice": view["notice"]})
        return view

    def register(self, principal: Principal, year: int) -> dict[str, Any]:
        """A year's requests, for the operator's annual report."""
        staff = self._staff(principal, APPROVERS)
        if not 2000 <= year <= 2100:
            raise _bad("No register.", [FieldError("year", "a year such as 2026")])
        start, end = datetime(year, 1, 1, tzinfo=utcnow().tzinfo), datetime(year + 1, 1, 1, tzinfo=utcnow().tzinfo)
        now = utcnow()
        with self.db.read_session() as s:
            rows = s.execute(select(LawfulRequest).where(LawfulRequest.org_id == staff.org_id,
                                                         LawfulRequest.received_at >= start,
                                                         LawfulRequest.received_at < end)
                             .order_by(LawfulRequest.received_at)).scalars().all()
            views = [self.view(r, now) for r in rows]
        totals: dict[str, dict[str, int]] = {}
        for v in views:
            by = totals.setdefault(v["authority_kind"], {})
            by[v["status"]] = by.get(v["status"], 0) + 1
        return {"year": year, "requests": views, "totals": totals,
                "disclosed_shipments": sum(v["disclosed_count"] or 0 for v in views)}
