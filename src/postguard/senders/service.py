"""Registered message templates, recorded notifications, "did my operator really send this?" and
the COD rule.

- Operators register their message templates (``template_add``, pending until a platform
  administrator verifies them, like official channels; their SMS brandnames and Zalo pages are
  official channels of kind ``sms_brand`` and ``social``).
- Operators record each notification they send (``record``): only a keyed digest of the operator,
  the template, the recipient's number and the canonical filled message is stored
  (``postguard.senders.models``).
- ``match_message``: which verified template (of which operator) a pasted message is, and, for a
  person who proved their number, whether that operator recorded sending exactly this message to it.
- ``cod_danger``: a transfer "for COD", a fee or a refund to an account or wallet that is no
  operator's registered COD account, while the person has a parcel in delivery, is a danger sign.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, cast

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthenticated
from postguard.intel.models import Indicator, OfficialChannel
from postguard.intel.normalize import detect
from postguard.intel.store import table_of
from postguard.orgs.models import Organisation
from postguard.phones import phone_field
from postguard.principals import ApiKeyPrincipal, Principal, ProvenCitizen
from postguard.senders import text as tx
from postguard.senders.models import SenderTemplate, SentNotification
from postguard.shipments.models import Shipment

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.intel.grading import Grader
    from postguard.intel.store import IntelStore
    from postguard.orgs.service import OrgService
    from postguard.vault.service import Vault

MAX_BATCH = 1000
MAX_VALUE = 300
SENT_AT_SKEW = timedelta(minutes=10)  # a notification may be recorded as sent at most this far ahead
IN_DELIVERY = ("in_transit", "out_for_delivery")
COD_PURPOSES = ("cod", "fee", "refund")
REGISTRY_SECONDS = 5.0  # how long a worker reads messages against the templates and names it last read
PROOF_PURPOSES = ("recipient", "parcel")  # the proofs of the own-data page and of the call check
MAX_SENDER = 100  # characters of a sender (an SMS brandname, a number, a Zalo page)
SENDER_KINDS = ("sms_brand", "social", "hotline")  # the official channels a message may come from
# How a template's status may change: a revoked wording is registered again (``template_add``) to come back.
TRANSITIONS = {"pending": ("verified", "revoked"), "verified": ("revoked",), "revoked": ()}


class Proofs(Protocol):
    """One-time-code proofs (``postguard.otp.OtpService``, a peer: handed in by the wiring)."""

    def open_proof(self, token: str | None, *, purpose: str) -> str: ...


@dataclass(frozen=True)
class ProvenPhone:
    """A phone number its holder proved with a one-time code (``Senders.proven``)."""

    e164: str


@dataclass(frozen=True)
class TemplateMatch:
    """What a pasted message is. ``outcome``:

    - ``sent``: the operator recorded sending exactly this message to the proven number (``sent_at``);
    - ``not_sent``: it is the wording of the operator's template, but the operator recorded no such
      message to the proven number;
    - ``template``: it is the wording of a verified template of ``org`` (no proven number: whether it
      was sent to you is not said);
    - ``suspicious``: it names an operator (``claimed``) but is none of its templates, or its link is
      not on the operator's own domains;
    - ``unknown``: it names no operator and is no registered template.
    """

    outcome: Literal["sent", "not_sent", "template", "suspicious", "unknown"]
    org: str | None = None
    org_name: str | None = None
    template_id: int | None = None
    sent_at: datetime | None = None
    claimed: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    text_vi: str = ""
    text_en: str = ""

    @property
    def legit(self) -> bool:
        return self.outcome in ("sent", "template")

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "legit": self.legit, "org": self.org, "org_name": self.org_name,
                "template_id": self.template_id, "sent_at": self.sent_at.isoformat() if self.sent_at else None,
                "claimed": list(self.claimed), "reasons": list(self.reasons),
                "text": {"vi": self.text_vi, "en": self.text_en}}


@dataclass(frozen=True)
class CodDanger:
    """The COD rule for one payee: ``ok`` (an operator's registered COD account or wallet), ``warning``
    (not registered) or ``danger`` (not registered, and the proven number has a parcel in delivery)."""

    level: Literal["ok", "warning", "danger"]
    payee: str  # masked
    registered_to: str | None = None
    parcels_in_delivery: int | None = None  # None: no proven number
    operators: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)
    text_vi: str = ""
    text_en: str = ""

    @property
    def danger(self) -> bool:
        return self.level == "danger"

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "danger": self.danger, "payee": self.payee, "registered_to": self.registered_to,
                "parcels_in_delivery": self.parcels_in_delivery, "operators": list(self.operators),
                "reasons": list(self.reasons), "text": {"vi": self.text_vi, "en": self.text_en}}


@dataclass(frozen=True)
class _Template:
    id: int
    org_id: int
    org_code: str
    org_name: str
    text: str


class _Registry(NamedTuple):
    """What messages, senders and payments are read against (``Senders._kept_view``)."""

    at: float  # time.monotonic() when read
    brands: list[tx.Brand]  # every organisation's names
    domains: dict[str, set[str]]  # org code → verified domains
    orgs: dict[str, Organisation]
    verified: list[_Template]
    cod: dict[bytes, str]  # indicator digest of a verified COD account or wallet → operator's short name
    senders: dict[bytes, str]  # indicator digest of a verified brandname, page or hotline → org code


def _short_name(org: Organisation) -> str:
    name = org.name
    if name.endswith(")") and "(" in name:
        return name[name.rindex("(") + 1:-1].strip() or name
    return name


def _local(at: datetime) -> str:
    return (at + timedelta(hours=7)).strftime("%H:%M %d/%m/%Y")  # Vietnam time, UTC+7 all year


def _template_view(t: SenderTemplate, org: Organisation) -> dict[str, Any]:
    return {"id": t.id, "org": org.code, "org_name": org.name, "label": t.label, "text": t.text,
            "placeholders": sorted(set(tx.placeholders(t.text))), "status": t.status,
            "verified_at": t.verified_at.isoformat() if t.verified_at else None}


def _bad(field_: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput("The request was not accepted.", [FieldError(field_, message, code=code)])


class Senders:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, orgs: OrgService, door: Door,
                 store: IntelStore, grader: Grader, proofs: Proofs) -> None:
        self.db = db
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.store = store
        self.grader = grader
        self.proofs = proofs
        self._kept: _Registry | None = None

    # -- templates -----------------------------------------------------------------------------
    def template_add(self, principal: Principal, *, text: object, label: str = "",
                     org_code: str | None = None) -> dict[str, Any]:
        """Register a template as an organisation's own (pending until an administrator verifies it).
        With ``intel:official`` an organisation registers its own; ``intel:admin`` for any."""
        own = getattr(principal, "org_code", None)
        if org_code and org_code.strip().upper() != own:
            self.orgs.require(principal, "intel:admin")
        else:
            self.orgs.require(principal, "intel:official")
        if not isinstance(label, str) or len(label) > 200:
            raise _bad("label", "at most 200 characters", code="too_long")
        wording = tx.validate_template(text)
        org = self.orgs.get(org_code or cast(str, own))
        try:
            with self.db.session() as s:
                dup = s.execute(select(SenderTemplate).where(SenderTemplate.org_id == org.id,
                                                             SenderTemplate.fingerprint == tx.fingerprint(wording))
                                ).scalar_one_or_none()
                if dup is not None and dup.status != "revoked":
                    raise Conflict(f"This wording is already registered (template {dup.id}).")
                if dup is not None:
                    s.delete(dup)
                    s.flush()
                t = SenderTemplate(org_id=org.id, label=label.strip(), text=wording, status="pending",
                                   fingerprint=tx.fingerprint(wording), registered_by=principal.actor)
                s.add(t)
                s.flush()
                out = _template_view(t, org)
        except IntegrityError:  # the same wording registered at the same moment by another request
            raise Conflict("This wording is already registered.") from None
        self.audit.append(actor=principal.actor, action="senders_template_add", org_id=org.id,
                          subject=f"template:{out['id']}")
        self._kept = None  # committed: this worker sees its own change at once
        return out

    def template_set_status(self, principal: Principal, template_id: int, *, status: str) -> dict[str, Any]:
        """Verify or revoke a template. Verifying is for platform administrators (``intel:admin``);
        revoking too, or for the organisation that owns the template (``intel:official``). A template
        goes pending → verified → revoked, or pending → revoked; anything else (a revoked template, or
        one already in that status) is a ``Conflict``, and so is a change made meanwhile: two changes
        racing on one template end with one of them applied and audited, the other refused."""
        if status not in ("verified", "revoked"):
            raise _bad("status", "verified or revoked")
        subject = f"template:{template_id}"
        admin = isinstance(principal, ApiKeyPrincipal) and principal.can("intel:admin")
        if not admin and not (status == "revoked" and isinstance(principal, ApiKeyPrincipal)
                              and principal.can("intel:official")):
            self.orgs.require(principal, "intel:admin", subject=subject)  # refused and logged
        with self.db.session() as s:  # the primary: the status the change is decided on
            t = s.get(SenderTemplate, template_id)
            if t is None:
                raise NotFound(f"No template {template_id}.")
            before, org_id = t.status, t.org_id
        if not admin and org_id != principal.org_id:
            self.orgs.require(principal, "intel:admin", subject=subject,
                              message="Only the organisation that registered this template, or a platform "
                                      "administrator, may revoke it.")
        if status not in TRANSITIONS.get(before, ()):
            raise Conflict(f"Template {template_id} is already {before}." if before == status else
                           f"Template {template_id} is {before}: register its wording again to have it verified."
                           if before == "revoked" else f"Template {template_id} is {before}; it cannot become {status}.")
        values: dict[str, Any] = {"status": status}
        if status == "verified":
            values.update(verified_by=principal.actor, verified_at=utcnow())
        with self.db.session() as s:  # the change first: on SQLite the transaction starts as the writer
            done = s.execute(update(SenderTemplate)
                             .where(SenderTemplate.id == template_id, SenderTemplate.status == before)
                             .values(**values).execution_options(synchronize_session=False)
                             ).rowcount  # type: ignore[attr-defined]
            t = s.get(SenderTemplate, template_id)
            now = t.status if t is not None else None
            out = _template_view(t, self.orgs.by_id(s, org_id)) if done and t is not None else None
        if out is None:
            raise Conflict(f"Template {template_id} changed meanwhile (it is now {now or 'gone'}); reload it.")
        self.audit.append(actor=principal.actor, action=f"senders_template_{status}", org_id=org_id,
                          subject=subject, details={"from": before, "to": status})
        self._kept = None  # committed: this worker sees its own change at once
        return out

    def template_list(self, *, org_code: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        with self.db.read_session() as s:
            q = (select(SenderTemplate, Organisation).join(Organisation, Organisation.id == SenderTemplate.org_id)
                 .order_by(Organisation.code, SenderTemplate.id))
            if org_code:
                q = q.where(Organisation.code == org_code.strip().upper())
            if status:
                q = q.where(SenderTemplate.status == status)
            return [_template_view(t, org) for t, org in s.execute(q).all()]

    def _verified(self) -> list[_Template]:
        with self.db.read_session() as s:
            rows = s.execute(select(SenderTemplate, Organisation)
                             .join(Organisation, Organisation.id == SenderTemplate.org_id)
                             .where(SenderTemplate.status == "verified").order_by(SenderTemplate.id)).all()
        return [_Template(t.id, org.id, org.code, _short_name(org), t.text) for t, org in rows]

    # -- notifications ---------------------------------------------------------------------------
    @staticmethod
    def _digest_text(org_id: int, template_id: int, e164: str, message: str) -> str:
        return f"{org_id}\n{template_id}\n{e164}\n{tx.normalise(message)}"

    def record(self, principal: Principal, items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Record notifications the principal's organisation sent (scope ``notifications:write``): each
        ``{template_id, phone, sent_at, waybill?, values}``. All or nothing: every item is checked
        before any is stored, errors name the item (``items[3].values.amount``). Recording the same
        message to the same number again changes nothing (the first record stands)."""
        self.orgs.require(principal, "notifications:write")
        if not isinstance(items, Sequence) or isinstance(items, (str, bytes)) or not 0 < len(items) <= MAX_BATCH:
            raise _bad("items", f"1 to {MAX_BATCH} notifications")
        with self.db.read_session() as s:
            own = {t.id: t for t in s.execute(select(SenderTemplate).where(
                SenderTemplate.org_id == principal.org_id, SenderTemplate.status == "verified")).scalars()}
        errors: list[FieldError] = []
        prepared: list[tuple[int, str, str, datetime]] = []
        now = utcnow()
        for i, item in enumerate(items):
            where = f"items[{i}]"
            try:
                prepared.append(self._prepare(item, own, now, where))
            except InvalidInput as e:
                errors += [FieldError(f"{where}.{fe.field}" if not fe.field.startswith(where) else fe.field,
                                      fe.message, code=fe.code) for fe in e.errors]
            if len(errors) >= 50:
                break
        if errors:
            raise InvalidInput("The notifications were not recorded.", errors)
        with self.db.session() as s:
            digest = self.vault.keyed_digest(s, purpose="senders-notification")
            rows = [{"org_id": principal.org_id, "template_id": tid, "sent_at": sent_at, "recorded_at": now,
                     "digest": digest(self._digest_text(principal.org_id, tid, e164, message))}
                    for tid, e164, message, sent_at in prepared]
        with self.db.session() as s:
            ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(
                table_of(SentNotification))
            new = 0
            for row in rows:  # RETURNING says which were new on both databases (rowcount does not, on SQLite)
                new += s.execute(ins.values(**row).on_conflict_do_nothing(index_elements=["digest"])
                                 .returning(table_of(SentNotification).c.id)).first() is not None
        self.audit.append(actor=principal.actor, action="senders_notifications_record", org_id=principal.org_id,
                          details={"items": len(rows), "new": new})
        return {"received": len(rows), "recorded": new, "already_recorded": len(rows) - new}

    @staticmethod
    def _prepare(item: Mapping[str, Any], own: Mapping[int, SenderTemplate], now: datetime,
                 where: str) -> tuple[int, str, str, datetime]:
        if not isinstance(item, Mapping):
            raise _bad(where, "an object")
        unknown = sorted(set(item) - {"template_id", "phone", "sent_at", "waybill", "values"})
        if unknown:
            raise _bad(str(unknown[0])[:40], "not a field of a notification")
        tid = item.get("template_id")
        if isinstance(tid, str) and tid.strip().isdigit() and len(tid.strip()) < 19:
            tid = int(tid)
        if not isinstance(tid, int) or isinstance(tid, bool) or tid not in own:
            raise _bad("template_id", "a verified template of your organisation")
        raw_phone = item.get("phone")
        if not isinstance(raw_phone, str) or len(raw_phone) > 40:
            raise _bad("phone", "a Vietnamese phone number")
        e164 = phone_field(raw_phone, "phone")
        sent_at = item.get("sent_at")
        if isinstance(sent_at, str) and len(sent_at) <= 40:
            try:
                sent_at = datetime.fromisoformat(sent_at.strip().replace("Z", "+00:00"))
            except ValueError:
                sent_at = None
        if not isinstance(sent_at, datetime) or sent_at.tzinfo is None:
            raise _bad("sent_at", "an ISO 8601 time with its offset (2025-12-05T10:42:00+07:00)")
        if sent_at > now + SENT_AT_SKEW or sent_at < now - timedelta(days=400):
            raise _bad("sent_at", "not in the future, nor more than 400 days ago")
        values = item.get("values") or {}
        if not isinstance(values, Mapping) or len(values) > tx.MAX_PLACEHOLDERS:
            raise _bad("values", "an object of placeholder values")
        values = dict(values)
        waybill = item.get("waybill")
        if waybill is not None:
            if "waybill" in values and values["waybill"] != waybill:
                raise _bad("waybill", "differs from values.waybill")
            values["waybill"] = waybill
        for k, v in values.items():
            if not isinstance(k, str) or not isinstance(v, str) or len(v) > MAX_VALUE:
                raise _bad(f"values.{str(k)[:40]}", f"text of at most {MAX_VALUE} characters")
        message = tx.render(own[tid].text, values)
        return tid, e164, message, sent_at

    # -- did my operator really send this? -------------------------------------------------------
    def proven(self, token: str | None) -> ProvenPhone:
        """The number a live one-time-code proof (of the own-data page or the call check) is for;
        ``Unauthenticated`` otherwise."""
        try:
            return ProvenPhone(self.proofs.open_proof(token, purpose=PROOF_PURPOSES[0]))
        except Unauthenticated:
            return ProvenPhone(self.proofs.open_proof(token, purpose=PROOF_PURPOSES[1]))

    def _kept_view(self) -> _Registry:
        """What messages, senders and payments are read against: names and domains, verified templates,
        verified COD accounts and wallets, and verified brandnames, pages and hotlines, read at most
        every ``REGISTRY_SECONDS`` (message checks and screening are hot paths: several workers see a
        newly verified template or channel within that time; this worker at once, since its own
        template changes drop it)."""
        kept = self._kept
        now = time.monotonic()
        if kept is not None and now - kept.at < REGISTRY_SECONDS:
            return kept
        cod: dict[bytes, str] = {}
        senders: dict[bytes, str] = {}
        with self.db.read_session() as s:
            for digest, kind, org in s.execute(
                    select(Indicator.digest, OfficialChannel.kind, Organisation)
                    .join(OfficialChannel, OfficialChannel.indicator_id == Indicator.id)
                    .join(Organisation, Organisation.id == OfficialChannel.org_id)
                    .where(OfficialChannel.status == "verified",
                           OfficialChannel.kind.in_(("cod_account", "ewallet", *SENDER_KINDS)))).all():
                if kind in SENDER_KINDS:
                    senders[digest] = org.code
                else:
                    cod[digest] = _short_name(org)
        brands, domains, orgs = self._brands()
        view = _Registry(now, brands, domains, orgs, self._verified(), cod, senders)
        self._kept = view
        return view

    def _brands(self) -> tuple[list[tx.Brand], dict[str, set[str]], dict[str, Organisation]]:
        """Every organisation's names (code, name, verified SMS brandnames and pages) and verified domains."""
        with self.db.read_session() as s:
            orgs = {o.code: o for o in s.execute(select(Organisation)).scalars()}
            rows = s.execute(select(Organisation.code, OfficialChannel.kind, Indicator.value, Indicator.display)
                             .join(OfficialChannel, OfficialChannel.org_id == Organisation.id)
                             .join(Indicator, Indicator.id == OfficialChannel.indicator_id)
                             .where(OfficialChannel.status == "verified",
                                    OfficialChannel.kind.in_(("sms_brand", "social", "domain")))).all()
        extra: dict[str, list[str]] = {}
        domains: dict[str, set[str]] = {}
        for code, kind, value, display in rows:
            if kind == "domain" and value:
                domains.setdefault(code, set()).add(value)
            elif kind == "sms_brand":
                extra.setdefault(code, []).append(display or value or "")
        brands = tx.by_length([b for code, o in orgs.items() if code != "PLATFORM"
                               for b in tx.brand_terms(code, o.name, extra.get(code, []))])
        return brands, domains, orgs

    def _sender(self, sender: str, view: _Registry) -> tuple[str | None, str]:
        """Whose a message's ``sender`` is, and how: ``(code, "registered")`` when it is a verified SMS
        brandname, page or hotline of that organisation; ``(code, "claimed")`` when it only names it
        (a Zalo display name "Viettel Post"); ``(None, "")`` otherwise."""
        try:
            n = detect(sender)
        except InvalidInput:
            n = None
        if n is not None and n.type in ("sms_brand", "social", "phone"):
            self.store.ready()
            code = view.senders.get(self.store.digest_of(n))
            if code is not None:
                return code, "registered"
        names = tx.claimed(tx.normalise(sender), view.brands)
        return (names[0], "claimed") if names else (None, "")

    def match_message(self, text: object, *, phone: ProvenPhone | None = None,
                      sender: object = None) -> TemplateMatch:
        """Which verified template (of which operator) ``text`` is, and, for a proven ``phone``,
        whether that operator recorded sending exactly this message to it and when. ``sender``: the
        SMS brandname, number or Zalo page it came from; a message from an operator's registered
        brandname, page or hotline is judged against that operator's templates alone."""
        if not isinstance(text, str) or not text.strip():
            raise _bad("text", "the message, as received")
        if sender is not None and (not isinstance(sender, str) or len(sender) > MAX_SENDER):
            raise _bad("sender", f"the brandname, number or page it came from, at most {MAX_SENDER} characters")
        message = tx.normalise(text[:tx.MAX_MESSAGE * 2])
        view = self._kept_view()
        brands, domains, orgs, verified = view.brands, view.domains, view.orgs, view.verified
        names = tx.claimed(message[:tx.MAX_MESSAGE], brands)
        given = " ".join(sender.split()) if isinstance(sender, str) else ""
        owner, how = self._sender(given, view) if given else (None, "")
        if how == "registered" and not any(t.org_code == owner for t in verified):
            owner, how = None, ""  # an operator with no verified template: its wording cannot be judged
        if owner is not None:
            names = [owner, *(n for n in names if n != owner)]
        hits: list[tuple[_Template, dict[str, str]]] = []
        if len(message) <= tx.MAX_MESSAGE:
            for t in verified:
                values = tx.match(t.text, message)
                if values is not None:
                    hits.append((t, values))
        # A message from an operator's own brandname is judged against its templates alone; one that
        # names operators, against theirs; one that names none, against all.
        if how == "registered":
            hits = [h for h in hits if h[0].org_code == owner]
        elif names:
            hits = [h for h in hits if h[0].org_code in names]
        if not hits:
            if how == "registered":
                who, shown = _short_name(orgs[cast(str, owner)]), given
                return TemplateMatch(
                    "suspicious", org=owner, org_name=who, claimed=tuple(names), reasons=("sender_no_template",),
                    text_vi=f"Tin đến từ {shown}, tên người gửi đã đăng ký của {who}, nhưng không khớp mẫu tin nào "
                            f"{who} đã đăng ký. Tên người gửi có thể bị giả mạo (trạm phát sóng giả): đừng chuyển "
                            "tiền, đừng bấm liên kết, đừng đọc mã OTP.",
                    text_en=f"The message comes from {shown}, a sender {who} registered, but matches none of the "
                            f"templates {who} registered. Sender names can be spoofed (fake base stations): do not "
                            "transfer money, open links or share codes.")
            if names:
                who = _short_name(orgs[names[0]])
                return TemplateMatch(
                    "suspicious", org=names[0], org_name=who, claimed=tuple(names), reasons=("claims_operator_no_template",),
                    text_vi=f"Tin nhắn nhân danh {who} nhưng không khớp mẫu tin nào {who} đã đăng ký. Có thể là lừa đảo: "
                            "đừng chuyển tiền, đừng bấm liên kết, đừng đọc mã OTP.",
                    text_en=f"The message claims to be from {who} but matches none of the templates {who} registered. "
                            "It may be a scam: do not transfer money, open links or share codes.")
            return TemplateMatch("unknown", reasons=("no_template",),
                                 text_vi="Tin nhắn không khớp mẫu tin đã đăng ký nào của các đơn vị vận chuyển.",
                                 text_en="The message matches no template an operator registered.")
        t, values = hits[0]
        cue = ("registered_sender",) if how == "registered" else ()
        link = values.get("link")
        if link is not None:
            try:
                link_domain = detect(link, "url").domain
            except InvalidInput:
                link_domain = None
            if link_domain not in domains.get(t.org_code, set()):
                return TemplateMatch(
                    "suspicious", org=t.org_code, org_name=t.org_name, template_id=t.id, claimed=tuple(names),
                    reasons=("link_not_official",),
                    text_vi=f"Lời văn giống mẫu tin của {t.org_name} nhưng liên kết không thuộc trang chính thức của "
                            f"{t.org_name}. Đừng bấm vào liên kết.",
                    text_en=f"The wording is {t.org_name}'s template, but the link is not on {t.org_name}'s official "
                            "domains. Do not open it.")
        if phone is None:
            return TemplateMatch(
                "template", org=t.org_code, org_name=t.org_name, template_id=t.id, claimed=tuple(names),
                reasons=("registered_template", "proof_needed", *cue),
                text_vi=f"Lời văn khớp mẫu tin {t.org_name} đã đăng ký. Xác minh số điện thoại của bạn để biết "
                        f"{t.org_name} có thực sự gửi tin này cho bạn không.",
                text_en=f"The wording matches a template {t.org_name} registered. Prove your phone number to learn "
                        f"whether {t.org_name} really sent it to you.")
        sent = self._sent(t, phone.e164, text[:tx.MAX_MESSAGE * 2])
        if sent is None:
            return TemplateMatch(
                "not_sent", org=t.org_code, org_name=t.org_name, template_id=t.id, claimed=tuple(names),
                reasons=("registered_template", "not_recorded", *cue),
                text_vi=f"{t.org_name} không gửi tin nhắn này đến số của bạn. Có thể là lừa đảo.",
                text_en=f"{t.org_name} sent no such message to your number. It may be a scam.")
        return TemplateMatch(
            "sent", org=t.org_code, org_name=t.org_name, template_id=t.id, sent_at=sent, claimed=tuple(names),
            reasons=("registered_template", "recorded", *cue),
            text_vi=f"{t.org_name} đã gửi tin này lúc {_local(sent)} cho một bưu gửi đến số của bạn.",
            text_en=f"{t.org_name} sent this at {_local(sent)} for a parcel to your number.")

    def _sent(self, t: _Template, e164: str, text: str) -> datetime | None:
        with self.db.session() as s:  # the first use creates the key: a write transaction
            d = self.vault.keyed_digest(s, purpose="senders-notification")(
                self._digest_text(t.org_id, t.id, e164, text))
            return s.execute(select(SentNotification.sent_at).where(
                SentNotification.digest == d, SentNotification.template_id == t.id)).scalar_one_or_none()

    # -- COD ---------------------------------------------------------------------------------------
    def registered_cod(self, type_: str, value: str) -> str | None:
        """The name of the operator whose verified COD account or wallet the normalised ``value`` is
        (as read at most ``REGISTRY_SECONDS`` ago)."""
        try:
            n = detect(value, type_)
        except InvalidInput:
            return None
        if n.type not in ("bank_account", "ewallet"):
            return None
        self.store.ready()
        return self._kept_view().cod.get(self.store.digest_of(n))

    def cod_danger(self, account_or_wallet: object, *, phone: ProvenPhone | None = None,
                   purpose: str = "cod") -> CodDanger:
        """The COD rule for a transfer ``purpose`` (``cod``, ``fee`` or ``refund``) to a bank account
        (``MB 0123456789``) or an e-wallet (``MoMo 0912345678``)."""
        if purpose not in COD_PURPOSES:
            raise _bad("purpose", ", ".join(COD_PURPOSES))
        if not isinstance(account_or_wallet, str) or not account_or_wallet.strip() or len(account_or_wallet) > 100:
            raise _bad("account", "a bank account (MB 0123456789) or an e-wallet (MoMo 0912345678)")
        try:
            n = detect(account_or_wallet)
        except InvalidInput:
            n = None
        if n is None or n.type not in ("bank_account", "ewallet"):
            raise _bad("account", "a bank account (MB 0123456789) or an e-wallet (MoMo 0912345678)")
        owner = self.registered_cod(n.type, n.value)
        if owner is not None:
            return CodDanger("ok", n.display, registered_to=owner, reasons=("registered_cod_account",),
                             text_vi=f"Đây là tài khoản thu hộ (COD) đã đăng ký của {owner}.",
                             text_en=f"This is a COD collection account {owner} registered.")
        reasons = ["not_registered_cod_account"]
        what_vi = {"cod": "tiền thu hộ (COD)", "fee": "phí", "refund": "hoàn tiền"}[purpose]
        what_en = {"cod": "COD", "fee": "a fee", "refund": "a refund"}[purpose]
        if phone is None:
            return CodDanger("warning", n.display, reasons=tuple(reasons),
                             text_vi=f"Tài khoản này không phải tài khoản thu hộ đã đăng ký của đơn vị vận chuyển nào. "
                                     f"Đừng chuyển {what_vi} vào đó; trả COD cho shipper khi nhận hàng.",
                             text_en=f"This account is no operator's registered COD account. Do not pay {what_en} "
                                     "into it; pay COD to the courier on delivery.")
        operators = self._in_delivery(phone.e164)
        if operators:
            reasons.append("parcel_in_delivery")
            names = ", ".join(dict.fromkeys(operators))
            return CodDanger("danger", n.display, parcels_in_delivery=len(operators),
                             operators=tuple(dict.fromkeys(operators)), reasons=tuple(reasons),
                             text_vi=f"Nguy hiểm: bạn có bưu gửi đang giao ({names}) và có người yêu cầu chuyển "
                                     f"{what_vi} vào tài khoản không phải tài khoản thu hộ đã đăng ký. Kẻ lừa đảo biết "
                                     "thông tin bưu gửi của bạn. Đừng chuyển tiền.",
                             text_en=f"Danger: you have a parcel in delivery ({names}) and someone asks for {what_en} "
                                     "to an account that is no registered COD account. Scammers know your parcel. "
                                     "Do not transfer.")
        reasons.append("no_parcel_in_delivery")
        return CodDanger("warning", n.display, parcels_in_delivery=0, reasons=tuple(reasons),
                         text_vi=f"Không có bưu gửi nào đang giao đến số của bạn, và tài khoản này không phải tài khoản "
                                 f"thu hộ đã đăng ký. Đừng chuyển {what_vi}.",
                         text_en=f"No parcel is in delivery to your number and this account is no registered COD "
                                 f"account. Do not pay {what_en}.")

    def in_delivery(self, e164: str) -> list[str]:
        """The operators (short names) with a parcel in delivery to ``e164``, a number its holder proved
        (the call check's COD rule asks it): see ``_in_delivery``."""
        return self._in_delivery(e164)

    def _in_delivery(self, e164: str) -> list[str]:
        """The operators (short names) with a parcel in delivery to ``e164``, one entry a parcel:
        blind-index candidates, their recipient phones compared server-side through the door
        (purpose ``payment_check``, logged, never returned)."""
        out: list[str] = []
        with self.db.session() as s:
            citizen = self.vault.keyed_digest(s, purpose="senders-citizen")(e164).hex()
            org_ids = s.execute(select(Shipment.org_id).where(Shipment.status.in_(IN_DELIVERY),
                                                              Shipment.shredded_at.is_(None)).distinct()).scalars().all()
        for org_id in sorted(org_ids):
            with self.db.session() as s:
                org = self.orgs.by_id(s, org_id)
                b = self.vault.blind_indexer(s, org_id=org.id, bits=org.blind_index_bits)(e164)
                candidates = s.execute(select(Shipment).where(
                    Shipment.org_id == org.id, Shipment.recipient_phone_bidx == b, Shipment.status.in_(IN_DELIVERY),
                    Shipment.shredded_at.is_(None)).order_by(Shipment.id)).scalars().all()
                if not candidates:
                    continue
                opened = self.door.open_shipments(s, principal=ProvenCitizen(org_id=org.id, digest_hex=citizen),
                                                  shipments=candidates, columns=("recipient_phone",),
                                                  purpose="payment_check")
                out += [_short_name(org) for v in opened if v["recipient_phone"] == e164]
        return out
