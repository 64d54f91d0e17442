"""Signed call intents and masked calling.

When a courier starts a call from their view, ``start_call``:

1. opens the recipient's phone through the access door (purpose ``delivery``: assigned courier, out
   for delivery, window open — refused and logged otherwise);
2. binds (courier, recipient, shipment) to a proxy number from the operator's pool for the delivery
   window (a masked-calling session), when the operator has a pool;
3. records a call intent and issues a PASSporT (RFC 8225, ES256, ``ppt: shaken`` with ``attest`` and
   ``origid``, RFC 9795 ``rcd.nam`` = the operator's brand and ``crn`` = the call reason) signed with
   the operator's call-signing key, so a telco supporting SHAKEN/RCD can display it and the citizen
   check can match the call to the intent.

``route(caller, dialled)`` is what a telephony system (SIP/IVR) asks: for a live session on the dialled
proxy number, the courier reaches the recipient and the recipient reaches the courier; anything else
(expired window, delivered parcel, suspended courier, unknown caller) is refused with "no active
delivery". Each connected route is logged before the target number is decrypted.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.access.models import Assignment, Staff
from postguard.callerid.codes import VN, spoken_code, vn_today
from postguard.callerid.keys import phone_field
from postguard.callerid.registry import opened_text
from postguard.callerid.models import (
    CallCertificate,
    CallIntent,
    CourierPhone,
    MaskedCall,
    ProxyNumber,
)
from postguard.callerid.stir import passport as pp
from postguard.callerid.stir.sip import identity_header
from postguard.crypto.x509 import issue_certificate
from postguard.db.base import utcnow
from postguard.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PassportSignatureError,
)
from postguard.orgs.models import Organisation
from postguard.phones import national_format, org_number_field
from postguard.principals import ApiKeyPrincipal, Principal, SystemActor
from postguard.shipments.models import Shipment
from postguard.shipments.service import find_shipment
from postguard.vault import callsign
from postguard.vault.masking import mask_phone
from postguard.vault.service import SealedValue, versions_sealed_in

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.callerid.keys import CallerIdKeys
    from postguard.callerid.registry import CourierRegistry
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings
    from postguard.vault.service import Vault

TABLE = "masked_calls"
INTENTS = "call_intents"
CERT_DAYS = 730
NO_DELIVERY = "no_active_delivery"
# What a shredded call record keeps instead of the recipient's keyed phone digest: no number digests to it.
SHREDDED_DIGEST = bytes(32)
ANNOUNCEMENT = {
    "vi": "Không có đơn hàng nào đang giao qua số này. Vui lòng gọi tổng đài chính thức của hãng.",
    "en": "There is no active delivery through this number. Please call the operator's official hotline.",
}


def _live(now):
    """A masked-calling session that still counts: not ended, window open, parcel out for delivery,
    its assignment current and its courier active."""
    return and_(MaskedCall.ended_at.is_(None), MaskedCall.starts_at <= now, MaskedCall.ends_at >= now,
                Assignment.ended_at.is_(None), Shipment.status == "out_for_delivery", Shipment.shredded_at.is_(None),
                Staff.status == "active")


class CallService:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, audit: AuditLog, orgs: OrgService,
                 door: Door, couriers: CourierRegistry, keys: Callable[[], CallerIdKeys]) -> None:
        """``keys``: the caller-ID secrets, loaded on first use (in a write transaction of their own)."""
        self.db = db
        self.settings = settings
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.couriers = couriers
        self._keys = keys

    @staticmethod
    def key_versions_in_use(session, *, org_id: int) -> set[int]:
        """Data-key versions that couriers' registered phones, masked calls and recorded PASSporTs
        are sealed under (a key rotation must not destroy them)."""
        return (versions_sealed_in(session, CourierPhone.phone_ct, CourierPhone.org_id == org_id)
                | versions_sealed_in(session, MaskedCall.courier_phone_ct, MaskedCall.org_id == org_id)
                | versions_sealed_in(session, MaskedCall.recipient_phone_ct, MaskedCall.org_id == org_id)
                | versions_sealed_in(session, CallIntent.passport, CallIntent.org_id == org_id, base64_text=True))

    @staticmethod
    def erase_for_shipments(session: Session, shipment_ids: Sequence[int], *, at: datetime) -> None:
        """The calls of shipments being shredded, in the shredding transaction: the signed call tokens
        (they name the recipient's number) and the masked-calling sessions' numbers are erased, not
        only left encrypted; the recipient's keyed digest is overwritten too (no real number digests
        to zeros), so with the digest key the records can no longer be linked back to the person, and
        the call check and routing simply miss them. Sessions still open end ``at``."""
        session.execute(update(CallIntent).where(CallIntent.shipment_id.in_(shipment_ids))
                        .values(passport="", recipient_digest=SHREDDED_DIGEST)
                        .execution_options(synchronize_session=False))
        session.execute(update(MaskedCall).where(MaskedCall.shipment_id.in_(shipment_ids))
                        .values(courier_phone_ct=b"", recipient_phone_ct=b"", recipient_digest=SHREDDED_DIGEST,
                                ended_at=func.coalesce(MaskedCall.ended_at, at),
                                ended_reason=func.coalesce(MaskedCall.ended_reason, "shredded"))
                        .execution_options(synchronize_session=False))

    @property
    def keys(self) -> CallerIdKeys:
        return self._keys()

    # -- proxy pool ----------------------------------------------------------------------------
    def proxy_add(self, *, org_code: str, number: str, actor: str = "cli") -> dict:
        e164 = org_number_field(number, "number")  # the operator's own number: a hotline too
        org = self.orgs.get(org_code)
        try:
            with self.db.session() as s:
                s.add(ProxyNumber(org_id=org.id, number=e164, status="active"))
        except IntegrityError:
            raise Conflict("This number is already in a proxy pool.") from None
        self.audit.append(actor=actor, action="proxy_add", org_id=org.id, subject=e164)
        return {"org": org.code, "number": e164, "status": "active"}

    def proxy_list(self, *, org_code: str) -> list[dict]:
        org = self.orgs.get(org_code)
        now = utcnow()
        with self.db.read_session() as s:
            rows = s.execute(select(ProxyNumber).where(ProxyNumber.org_id == org.id).order_by(ProxyNumber.number)).scalars()
            out = []
            for r in rows:
                busy = s.execute(self._live_sessions(now).where(MaskedCall.proxy_id == r.id)).all()
                out.append({"number": r.number, "status": r.status, "live_sessions": len(busy)})
        return out

    @staticmethod
    def _live_sessions(now):
        return (select(MaskedCall).join(Assignment, Assignment.id == MaskedCall.assignment_id)
                .join(Shipment, Shipment.id == MaskedCall.shipment_id).join(Staff, Staff.id == MaskedCall.courier_id)
                .where(_live(now)))

    # -- operator certificates -------------------------------------------------------------------
    def x5u(self, org_code: str, version: int) -> str:
        return f"{self.settings.callerid_cert_base_url.rstrip('/')}/{org_code}/{version}.pem"

    def _certificate(self, s, org: Organisation) -> CallCertificate:
        cert = s.execute(select(CallCertificate).where(CallCertificate.org_id == org.id)
                         .order_by(CallCertificate.version.desc()).limit(1)).scalar_one_or_none()
        if cert is not None:
            return cert
        with s.begin_nested():
            key, version = callsign.create_signing_key(self.vault, s, org_id=org.id)
            now = int(time.time())
            pem = issue_certificate(key, common_name=f"{org.name} call signing", spc=org.code,
                                    not_before=now - 86400, not_after=now + CERT_DAYS * 86400)
            cert = CallCertificate(org_id=org.id, version=version, certificate_pem=pem)
            s.add(cert)
            s.flush()
        return cert

    def certificate(self, *, org_code: str, version: int | None = None) -> bytes:
        """An operator's call-signing certificate (PEM); the newest is created on first use."""
        org = self.orgs.get(org_code)
        with self.db.session() as s:
            if version is None:
                return self._certificate(s, org).certificate_pem
            cert = s.execute(select(CallCertificate.certificate_pem).where(
                CallCertificate.org_id == org.id, CallCertificate.version == version)).scalar_one_or_none()
        if cert is None:
            raise NotFound("No such certificate.")
        return cert

    # -- the courier's view ----------------------------------------------------------------------
    def courier_view(self, principal) -> dict:
        """The courier's parcels out for delivery in an open window, each with today's spoken code and
        the live masked-calling number, plus their registered phones."""
        now = utcnow()
        with self.db.read_session() as s:
            rows = s.execute(
                select(Shipment, Assignment).join(Assignment, Assignment.shipment_id == Shipment.id)
                .where(Assignment.courier_id == principal.staff_id, Assignment.ended_at.is_(None),
                       Shipment.status == "out_for_delivery", Assignment.window_end >= now)
                .order_by(Assignment.window_start, Shipment.waybill)
            ).all()
            parcels = []
            for sh, a in rows:
                proxy = s.execute(
                    select(ProxyNumber.number).join(MaskedCall, MaskedCall.proxy_id == ProxyNumber.id)
                    .where(MaskedCall.shipment_id == sh.id, MaskedCall.courier_id == principal.staff_id,
                           MaskedCall.ended_at.is_(None), MaskedCall.ends_at >= now)
                    .order_by(MaskedCall.id.desc()).limit(1)).scalar_one_or_none()
                parcels.append({
                    "waybill": sh.waybill, "recipient": sh.recipient_name_masked,
                    "window_start": a.window_start.astimezone(VN).strftime("%H:%M"),
                    "window_end": a.window_end.astimezone(VN).strftime("%H:%M"),
                    "window_open": a.window_start <= now <= a.window_end,
                    "cod_amount_vnd": sh.cod_amount_vnd,
                    "spoken_code": spoken_code(self.keys.code_key, shipment_id=sh.id, day=vn_today()),
                    "proxy": national_format(proxy) if proxy else None,
                })
        return {"parcels": parcels}

    # -- masked-only delivery -------------------------------------------------------------------
    def set_masked_only(self, *, org_code: str, enabled: bool, actor: str = "cli") -> dict:
        """Turn masked-only delivery on or off for an operator: when on, a courier's delivery reveal
        gives the recipient's number masked with a proxy number to call, and calls never fall back to
        the courier's own number."""
        org = self.orgs.get(org_code)
        with self.db.session() as s:
            self.orgs.by_id(s, org.id).masked_only = bool(enabled)
            pool = s.execute(select(func.count()).select_from(ProxyNumber).where(
                ProxyNumber.org_id == org.id, ProxyNumber.status == "active")).scalar_one()
        self.audit.append(actor=actor, action="masked_only_set", org_id=org.id, subject=org.code,
                            details={"enabled": bool(enabled)})
        return {"org": org.code, "masked_only": bool(enabled), "proxy_numbers": pool}

    def masked_line(self, principal, *, waybill: str, recipient: str | None) -> dict:
        """For a courier's delivery reveal under masked-only delivery (the door has already decided
        and logged): the recipient's number masked and the proxy number of this delivery's live
        masked-calling session (started when there is none). ``proxy`` is None, with ``call_unavailable``
        saying why, when no session can be had (no verified courier number, no free proxy number)."""
        out = {"recipient_phone": mask_phone(recipient) if recipient else None, "masked_only": True, "proxy": None}
        if not recipient:
            return {**out, "call_unavailable": "no_recipient_phone"}
        now = utcnow()
        with self.db.read_session() as s:  # opened (and logged) before the write transaction below
            calling = self.couriers.calling_number(s, principal)
        if calling is None:
            return {**out, "call_unavailable": "no_verified_number"}
        try:
            with self.db.session() as s:
                found = s.execute(select(Shipment, Assignment).join(Assignment, Assignment.shipment_id == Shipment.id)
                                  .where(Shipment.org_id == principal.org_id, Shipment.waybill == waybill,
                                         Assignment.courier_id == principal.staff_id,
                                         Assignment.ended_at.is_(None))).first()
                if found is None:  # reassigned since the door decided
                    return {**out, "call_unavailable": "not_assigned"}
                sh, a = found
                if not _unshredded(s, sh.id):  # shredded since the door decided: nothing may be sealed
                    return {**out, "call_unavailable": "shredded"}
                org = self.orgs.by_id(s, principal.org_id)
                _, proxy = self._session(s, org=org, principal=principal, sh=sh, a=a, now=now, courier=calling,
                                         recipient=(recipient, self.keys.phone_digest(recipient)))
        except Conflict:
            return {**out, "call_unavailable": "proxy_busy"}
        if proxy is None:
            return {**out, "call_unavailable": "no_proxy_pool"}
        return {**out, "proxy": national_format(proxy)}

    # -- starting a call -------------------------------------------------------------------------
    def start_call(self, principal, *, waybill: str) -> dict:
        """Record a call intent (and a masked-calling session when the operator has a proxy pool) and
        issue its PASSporT. Only the courier the parcel is assigned to, during the window."""
        self.orgs.require(principal, None, roles=("courier",), subject=str(waybill)[:40],
                            message="Only couriers start delivery calls.")
        now = utcnow()
        with self.db.read_session() as s:
            sh = find_shipment(s, principal.org_id, waybill)
            a = None if sh is None else s.execute(select(Assignment).where(
                Assignment.shipment_id == sh.id, Assignment.ended_at.is_(None))).scalars().first()
            if sh is None or a is None:
                raise NotFound(f"No shipment with waybill {str(waybill)[:40]} assigned to you.",
                               code="no_shipment_assigned", params={"waybill": str(waybill)[:40]})
            waybill = sh.waybill  # as stored, whatever the case typed
            calling = self.couriers.calling_number(s, principal)
            if calling is None:
                raise Conflict("Register and verify your phone number before calling customers.")
            # The door decides (assigned to you, out for delivery, window open) and logs before opening.
            (opened,) = self.door.open_shipments(s, principal=principal, shipments=[sh],
                                                   columns=("recipient_phone",), purpose="delivery",
                                                   details={"reason": "call"})
        recipient = opened["recipient_phone"]
        if not recipient:
            raise Conflict("The shipment has no recipient phone number.")
        courier_e164, courier_digest = calling
        recipient_digest = self.keys.phone_digest(recipient)
        with self.db.session() as s:
            # The door decided in another transaction: a shred that committed since must win, so the
            # shipment is re-read (and locked) before anything naming the recipient is sealed.
            if not _unshredded(s, sh.id):
                raise Conflict("The shipment's personal data was shredded; there is no one to call.")
            org = self.orgs.by_id(s, principal.org_id)
            session_row, proxy = self._session(s, org=org, principal=principal, sh=sh, a=a, now=now,
                                               courier=(courier_e164, courier_digest),
                                               recipient=(recipient, recipient_digest))
            if proxy is None and org.masked_only:
                raise Conflict("Masked-only delivery: this operator has no proxy number to call through.")
            cert = self._certificate(s, org)
            key = callsign.signing_key(self.vault, s, org_id=org.id, version=cert.version)
            origid = str(uuid.uuid4())
            token = pp.sign(key=key, x5u=self.x5u(org.code, cert.version), orig_tn=proxy or courier_e164,
                            dest_tns=[recipient], iat=int(time.time()), attest="A", origid=origid,
                            rcd_name=org.name, crn=f"Giao bưu gửi …{sh.waybill[-4:]} / Parcel delivery")
            # The token names the recipient's number (dest.tn): kept encrypted, erased when the parcel is shredded.
            s.add(CallIntent(origid=origid, org_id=org.id, courier_id=principal.staff_id, shipment_id=sh.id,
                             masked_call_id=session_row.id if session_row else None,
                             recipient_digest=recipient_digest, window_start=a.window_start,
                             window_end=a.window_end, passport=self._seal_passport(s, org.id, origid, token)))
        self.audit.append(actor=principal.actor, action="call_intent", org_id=principal.org_id, subject=waybill,
                            details={"origid": origid, "masked": proxy is not None})
        return {"origid": origid, "passport": token, "identity": identity_header(token, info_url=self.x5u(
                org.code, cert.version)), "proxy": national_format(proxy) if proxy else None,
                "dial": national_format(proxy) if proxy else mask_phone(recipient),
                "window_end": a.window_end.astimezone(VN).strftime("%H:%M")}

    def _session(self, s, *, org, principal, sh, a, now, courier, recipient):
        """The live masked-calling session for this delivery, or a new one on a free proxy number.
        A proxy number is free for it when no live session on it has the same courier or recipient,
        so (caller, dialled) always names one session."""
        live = self._live_sessions(now)
        mine = s.execute(live.where(MaskedCall.shipment_id == sh.id, MaskedCall.courier_id == principal.staff_id,
                                    MaskedCall.recipient_digest == recipient[1])
                         .order_by(MaskedCall.id.desc()).limit(1)).scalar_one_or_none()
        if mine is not None:
            return mine, s.get(ProxyNumber, mine.proxy_id).number
        clash = (self._live_sessions(now).where(MaskedCall.proxy_id == ProxyNumber.id)
                 .where((MaskedCall.courier_digest == courier[1]) | (MaskedCall.recipient_digest == recipient[1])))
        proxy = s.execute(select(ProxyNumber).where(ProxyNumber.org_id == org.id, ProxyNumber.status == "active",
                                                     ~exists(clash.with_only_columns(MaskedCall.id)))
                          .order_by(ProxyNumber.id).limit(1)).scalar_one_or_none()
        if proxy is None:
            has_pool = s.execute(select(ProxyNumber.id).where(ProxyNumber.org_id == org.id,
                                                              ProxyNumber.status == "active").limit(1)).first()
            if has_pool:
                raise Conflict("Every proxy number is busy; try again in a moment.")
            return None, None  # no pool: the courier calls from their registered number
        row = MaskedCall(org_id=org.id, proxy_id=proxy.id, courier_id=principal.staff_id, shipment_id=sh.id,
                         assignment_id=a.id, courier_digest=courier[1], recipient_digest=recipient[1],
                         courier_phone_ct=b"", recipient_phone_ct=b"", starts_at=now, ends_at=a.window_end)
        s.add(row)
        s.flush()
        for col, value in (("courier_phone", courier[0]), ("recipient_phone", recipient[0])):
            setattr(row, f"{col}_ct", self.vault.encrypt(value.encode(), session=s, org_id=org.id, table=TABLE,
                                                           column=col, record_id=str(row.id)))
        return row, proxy.number

    def _seal_passport(self, s, org_id: int, origid: str, token: str) -> str:
        blob = self.vault.encrypt(token.encode(), session=s, org_id=org_id, table=INTENTS, column="passport",
                                    record_id=origid)
        return base64.b64encode(blob).decode("ascii")

    def recorded_passport(self, principal: Principal, origid: str) -> str | None:
        """The PASSporT issued for a call intent (the operator's record of what it signed), or None
        once the parcel was shredded. It names the recipient's number: opened through the door
        (purpose ``passport_record``, logged)."""
        with self.db.read_session() as s:
            row = s.execute(select(CallIntent.org_id, CallIntent.passport).where(CallIntent.origid == origid)).first()
            if row is None:
                raise NotFound("No such call intent.")
            if not row.passport:
                return None
            (token,) = self.door.open(s, principal, "passport_record", [SealedValue(
                org_id=row.org_id, table=INTENTS, column="passport", record_id=origid,
                blob=base64.b64decode(row.passport))], subject=f"intent:{origid}")
            return opened_text(token)

    # -- routing (the telephony interface) ---------------------------------------------------------
    def route(self, *, caller: str, dialled: str, principal: ApiKeyPrincipal | None = None,
              actor: str = "telephony") -> dict:
        """Where a call from ``caller`` to the proxy number ``dialled`` goes, or why it is refused.
        With ``principal`` (an operator's telephony system, scope ``calls:route``) only that operator's
        proxy numbers route; without, the platform's own bridge (``actor``) routes any. The target's
        number is opened through the door (purpose ``masked_call``, logged as ``call_route``)."""
        caller_e164 = phone_field(caller, "caller")
        dialled_e164 = org_number_field(dialled, "dialled")
        digest = self.keys.phone_digest(caller_e164)
        now = utcnow()
        refuse = {"action": "refuse", "reason": NO_DELIVERY, "announcement": ANNOUNCEMENT}
        with self.db.read_session() as s:
            proxy = s.execute(select(ProxyNumber).where(ProxyNumber.number == dialled_e164)).scalar_one_or_none()
            if (proxy is None or proxy.status != "active"
                    or (principal is not None and proxy.org_id != principal.org_id)):
                return {**refuse, "reason": "not_a_proxy_number"}
            hit = s.execute(
                self._live_sessions(now).where(MaskedCall.proxy_id == proxy.id,
                                               (MaskedCall.courier_digest == digest)
                                               | (MaskedCall.recipient_digest == digest))
                .order_by(MaskedCall.id.desc()).limit(1)).scalar_one_or_none()
            if hit is None:
                return refuse
            side = "recipient_phone" if hit.courier_digest == digest else "courier_phone"
            shipment = s.get(Shipment, hit.shipment_id)
            if shipment is None:  # erased since the session was read
                raise NotFound("No such shipment.")
            waybill = shipment.waybill
            who = principal if principal is not None else SystemActor(org_id=proxy.org_id, actor=actor)
            # Logged before the target is decrypted (fail closed: no entry, no number).
            (target,) = self.door.open(
                s, who, "masked_call", [SealedValue(org_id=hit.org_id, table=TABLE, column=side,
                                                    record_id=str(hit.id), blob=getattr(hit, f"{side}_ct"))],
                subject=waybill, details={"session": hit.id, "to": side.removesuffix("_phone")})
        return {"action": "connect", "target": target, "present_as": dialled_e164,
                "to": side.removesuffix("_phone"), "session": hit.id, "until": hit.ends_at.isoformat()}

    def end_expired(self) -> int:
        """Mark sessions whose window closed or whose delivery ended (housekeeping; routing already
        refuses them)."""
        now = utcnow()
        with self.db.session() as s:
            rows = s.execute(
                select(MaskedCall).join(Assignment, Assignment.id == MaskedCall.assignment_id)
                .join(Shipment, Shipment.id == MaskedCall.shipment_id)
                .where(MaskedCall.ended_at.is_(None),
                       (MaskedCall.ends_at < now) | Assignment.ended_at.is_not(None)
                       | (Shipment.status != "out_for_delivery"))).scalars().all()
            for r in rows:
                r.ended_at, r.ended_reason = now, "window_closed" if r.ends_at < now else "delivery_ended"
        return len(rows)

    # -- checking our own tokens -------------------------------------------------------------------
    def verify_passport(self, token: str, *, now: int | None = None, max_age: int = 60) -> dict:
        """Verify a PASSporT postguard issued (signature, certificate, freshness) against its operator's
        certificates and match its ``origid`` to the recorded call intent."""
        if not isinstance(token, str) or not token.strip():
            raise InvalidInput("A PASSporT is required.", [FieldError("passport", "required")])
        token = token.strip()
        origid = _unverified_origid(token)  # only to find the intent; nothing is trusted before verify
        with self.db.read_session() as s:
            intent = s.execute(select(CallIntent).where(CallIntent.origid == origid)).scalar_one_or_none() \
                if origid else None
            if intent is None:
                raise NotFound("No call intent was recorded for this PASSporT.")
            certs = s.execute(select(CallCertificate.certificate_pem).where(CallCertificate.org_id == intent.org_id)
                              .order_by(CallCertificate.version.desc())).scalars().all()
        error: Exception = NotFound("No certificate for this PASSporT.")
        for pem in certs:
            try:
                v = pp.verify(token, certificate=pem, now=now or int(time.time()), max_age=max_age)
            except PassportSignatureError as e:
                error = e
                continue
            return {"origid": v.origid, "attest": v.attest, "rcd_name": v.rcd_name, "crn": v.crn,
                    "orig_tn": v.orig_tn, "dest_tns": list(v.dest_tns),
                    "window_end": intent.window_end.isoformat()}
        raise error


def _unshredded(s, shipment_id: int) -> bool:
    """Whether the shipment is still unshredded, holding it so for the rest of this transaction: an
    ``UPDATE ... WHERE shredded_at IS NULL`` that changes nothing takes the row lock on PostgreSQL
    (as ``SELECT ... FOR UPDATE`` would, re-checking the condition after any wait) and the database's
    write lock on SQLite (where a ``SELECT`` runs outside the transaction and would hold nothing). A
    shred locks the same row before erasing call records, so either it erases what this transaction
    writes or this finds the shipment shredded."""
    return s.execute(update(Shipment).where(Shipment.id == shipment_id, Shipment.shredded_at.is_(None))
                     .values(shredded_at=None).execution_options(synchronize_session=False)).rowcount == 1


def _unverified_origid(token: str) -> str | None:
    try:
        body = token.split(";")[0].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        origid = claims.get("origid") if isinstance(claims, dict) else None
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    return origid if isinstance(origid, str) and len(origid) == 36 else None
