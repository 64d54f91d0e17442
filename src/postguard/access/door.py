"""The one door: every read of protected personal data passes here.

The door decides whether the principal may open the data for the stated purpose, appends the
decision to the access log (refusals too), publishes a ``Revealed`` event (canary and break-glass
alerts subscribe to it) and only then asks the vault to decrypt (log before reveal, fail closed: if
the append fails, ``AuditUnavailable`` is raised and nothing is decrypted; if a subscriber raises,
nothing is decrypted either). Only the door holds the vault's opener (``VaultOpener``, handed over by
``postguard.platform``); ``tests/unit/test_one_door.py`` fails if any other module opens.

``Door.open`` opens sealed values (``SealedValue``) of every kind; ``Door.open_shipments`` opens the
fields of shipments (with the delivery, ticket and justification checks below). Each purpose names one
kind of data (a table), the columns it may open and who may use it (``PURPOSES``); every value opened
must be of the principal's organisation (intelligence data excepted: it is the platform's). Who may is
decided on the principal's type (``postguard.principals``).

Shipments (``shipments``):

- ``phone_search``: an operator system (API key with ``shipments:search``) matching a phone number
  against blind-index candidates; phones only.
- ``delivery``: the courier a shipment is assigned to, while it is out for delivery and the delivery
  window is open; the recipient's name, phone and address.
- ``customer_service``: customer-service staff, with a ticket reference and a reason.
- ``break_glass``: an administrator, with a justification; it is logged and raises an alert.
- ``data_subject``: the person the data is about, after proving their phone number with a one-time
  code: the phones of blind-index candidates (to find their own shipments), then only their own
  side of a shipment (see ``postguard.privacy``).
- ``dsr_match`` and ``dsr_export``: the data-protection officer answering a data-subject request:
  phones of candidates to find the person's shipments, then the person's own fields for the export.
- ``lawful_scope``, ``lawful_match`` and ``lawful_disclosure``: the data-protection officer answering an
  authority's request (``postguard.privacy.lawful``) once the DPO and an administrator have both approved
  it: the phone numbers in its scope, the phones of blind-index candidates to find their shipments, then
  every field of the shipments disclosed (logged as ``lawful_disclosure``, naming the request).
- ``call_check``: a citizen who proved control of their phone number with a one-time code, confirming
  that a courier's parcel (a blind-index candidate) is addressed to that number; the recipient's phone
  only, compared server-side and never returned to the citizen.
- ``payment_check``: a citizen who proved their phone number, asked to pay COD, a fee or a refund into
  an account that is no operator's registered COD account (``postguard.senders``): whether a parcel in
  delivery (a blind-index candidate) is addressed to that number; the recipient's phone only, compared
  server-side and never returned.

Revealing a canary shipment (``postguard.leaks.canaries``) raises an alert whatever the purpose
(phone searches excepted: their candidates are only matched, the hits are checked there).

Couriers' numbers (``courier_phones``), masked calls and call intents (``postguard.callerid``):

- ``courier_own_numbers``: a courier reading their own registered numbers (their calls page).
- ``call_setup``: a courier starting a call or a masked-calling session: their own first verified
  number, sealed into the session and named in the PASSporT, never shown.
- ``masked_call``: a telephony system (API key with ``calls:route``, or the command line's bridge)
  connecting a call on a live masked-calling session: the other party's number (logged as
  ``call_route``).
- ``passport_record``: an auditor (API key with ``audit:read``, or the ``auditor`` role) or the
  platform reading back a PASSporT the operator signed (it names the recipient's number).

Canary pool numbers (``canary_numbers``):

- ``canary_issue``: an auditor (API key with ``audit:read``, or the ``auditor`` role) or the platform
  giving a free pool number to a new canary parcel.

Data-subject requests (``data_subject_requests``, sealed under a platform secret):

- ``dsr_contact``: the data-protection officer opening the requester's number to find their shipments.
- ``dsr_notice``: the data-protection officer's acknowledgement or completion texting the requester
  (the number goes to the SMS gateway only).

Scam intelligence (``intel_*``, sealed under the platform organisation's keys; analysts with
``intel:analyst`` of any organisation; the actions keep the names they had):

- ``indicator_review``: an indicator's full value (a phone number, account or wallet).
- ``report_review``: report texts and reporters' contacts of an indicator.
- ``appeal_review``: an appeal's statement and contact.
- ``evidence_bundle`` and ``evidence_files``: an analyst building a case's signed evidence bundle for
  another country's authority (``postguard.intel.bundles``): the indicator's full value, and its reports'
  evidence files, opened only to hash them (logged as ``evidence_bundle_open``).
- ``takedown_evidence`` and ``takedown_report_text``: an analyst building a takedown request's
  evidence pack (``postguard.takedown``): the evidence files of the reports on a confirmed site, and
  the description (never the contact) of a report the analyst chose to include.
- ``indicator_share`` and ``lookup_index``: the platform itself (``SystemActor`` of the platform
  organisation) opening personal indicators' values for the shared feed (TAXII, STIX, MISP exports,
  themselves logged by their callers) and for the private-lookup index (values that never leave the
  service); one entry per feed or batch.
- ``blocklist_publish``: the platform (or an analyst) opening the value of a confirmed domain or
  link that was stored sealed, once, when its confirmation is published in the blocklist
  (``postguard.blocklist``); logged as ``blocklist_publish``. Domains and links are not personal and
  are stored plain today, so this opens nothing unless one was sealed.

Message-check feedback (``message_feedback``, sealed under the platform organisation's keys; reviewers
with ``messages:review`` of any organisation; ``postguard.messages.feedback``):

- ``message_feedback_review``: the message a person sent as judged wrongly, and their comments
  (logged as ``message_feedback_reveal``).
- ``message_feedback_export``: the accepted messages, once per export of the next training set, to be
  written out with their numbers and e-mail addresses masked (logged as ``message_feedback_export``).

Carriers' subscriber records (``subscribers``: the number, ID number, full name and date of birth of a
SIM's registered holder, sealed under a record key like shipments' fields; ``postguard.subscribers``):

- ``subscriber_reverify``: customer-service staff, or an API key with ``subscribers:review``, working a
  SIM of the re-verification queue: the holder's data to contact them and compare with their papers
  (logged as ``subscriber_reveal``).
- ``subscriber_scam_match``: an API key with ``subscribers:audit`` (or the platform) running an audit:
  the numbers of blind-index candidates of the scam database's numbers, compared server-side and never
  returned (logged as ``subscriber_scam_match``).
- ``subscriber_suspend``: staff or a key that suspends a SIM in the queue: its number, turned at once
  into the keyed digest the scam check looks up and never returned (logged as ``subscriber_suspend``).

Openings other than of shipments are logged as ``open`` unless named above; refusals of every kind
are ``reveal_denied``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.access.models import Assignment
from postguard.db.base import utcnow
from postguard.errors import DutyPending, FieldError, Forbidden, InvalidInput
from postguard.events import EventBus, Revealed
from postguard.metrics import Meter
from postguard.principals import (
    ApiKeyPrincipal,
    DataSubject,
    Principal,
    ProvenCitizen,
    StaffPrincipal,
    SystemActor,
)
from postguard.shipments.models import Shipment
from postguard.vault.service import SealedFields, SealedValue, VaultOpener

RECIPIENT = frozenset({"recipient_name", "recipient_phone", "recipient_address"})
EVERYTHING = frozenset({"sender_name", "sender_phone", "sender_address", "recipient_name", "recipient_phone",
                        "recipient_address", "goods_description"})
PHONES = frozenset({"sender_phone", "recipient_phone"})
SHIPMENTS = "shipments"
SUBSCRIBERS = "subscribers"
SUBSCRIBER_FIELDS = frozenset({"msisdn", "id_number", "full_name", "date_of_birth"})


@dataclass(frozen=True)
class Rule:
    """What a purpose opens (``kind``: the table, ``columns``) and who may use it: ``who`` lists
    ``scope:<scope>`` (an API key with that scope), ``role:<role>`` (staff with that role), ``subject``
    (the data subject), ``citizen`` (a proven citizen), ``system`` (the platform). ``own``: only values
    that belong to the member of staff opening them. ``any_org``: platform data, open to principals of
    every organisation."""

    kind: str
    who: tuple[str, ...]
    columns: frozenset[str]
    action: str = "open"
    own: bool = False
    any_org: bool = False


PURPOSES: dict[str, Rule] = {
    "phone_search": Rule(SHIPMENTS, ("scope:shipments:search",), PHONES, "reveal"),
    "delivery": Rule(SHIPMENTS, ("role:courier",), RECIPIENT, "reveal"),
    "customer_service": Rule(SHIPMENTS, ("role:cs",), EVERYTHING - {"goods_description"}, "reveal"),
    "break_glass": Rule(SHIPMENTS, ("role:admin",), EVERYTHING, "break_glass"),
    "data_subject": Rule(SHIPMENTS, ("subject",), EVERYTHING, "reveal"),
    "dsr_match": Rule(SHIPMENTS, ("role:dpo",), PHONES, "reveal"),
    "dsr_export": Rule(SHIPMENTS, ("role:dpo",), EVERYTHING, "reveal"),
    "lawful_match": Rule(SHIPMENTS, ("role:dpo",), PHONES, "reveal"),
    "lawful_disclosure": Rule(SHIPMENTS, ("role:dpo",), EVERYTHING, "lawful_disclosure"),
    "lawful_scope": Rule("lawful_requests", ("role:dpo",), frozenset({"scope_phones"})),
    "call_check": Rule(SHIPMENTS, ("citizen",), frozenset({"recipient_phone"}), "reveal"),
    "payment_check": Rule(SHIPMENTS, ("citizen",), frozenset({"recipient_phone"}), "reveal"),
    "courier_own_numbers": Rule("courier_phones", ("role:courier",), frozenset({"phone"}), own=True),
    "call_setup": Rule("courier_phones", ("role:courier",), frozenset({"phone"}), own=True),
    "masked_call": Rule("masked_calls", ("scope:calls:route", "system"),
                        frozenset({"courier_phone", "recipient_phone"}), "call_route"),
    "passport_record": Rule("call_intents", ("scope:audit:read", "role:auditor", "system"),
                            frozenset({"passport"})),
    "canary_issue": Rule("canary_numbers", ("scope:audit:read", "role:auditor", "system"), frozenset({"phone"})),
    "dsr_contact": Rule("data_subject_requests", ("role:dpo",), frozenset({"contact"})),
    "dsr_notice": Rule("data_subject_requests", ("role:dpo",), frozenset({"contact"})),
    "indicator_review": Rule("intel_indicators", ("scope:intel:analyst",), frozenset({"value"}),
                             "intel_indicator_reveal", any_org=True),
    "report_review": Rule("intel_reports", ("scope:intel:analyst",), frozenset({"description", "contact"}),
                          "intel_report_reveal", any_org=True),
    "appeal_review": Rule("intel_appeals", ("scope:intel:analyst",), frozenset({"statement", "contact"}),
                          "intel_appeal_reveal", any_org=True),
    "indicator_share": Rule("intel_indicators", ("system",), frozenset({"value"})),
    "lookup_index": Rule("intel_indicators", ("system",), frozenset({"value"})),
    "evidence_bundle": Rule("intel_indicators", ("scope:intel:analyst",), frozenset({"value"}), "evidence_bundle_open",
                            any_org=True),
    "evidence_files": Rule("intel_evidence", ("scope:intel:analyst",), frozenset({"content"}), "evidence_bundle_open",
                           any_org=True),
    "takedown_evidence": Rule("intel_evidence", ("scope:intel:analyst",), frozenset({"content"}),
                              "takedown_evidence_open", any_org=True),
    "takedown_report_text": Rule("intel_reports", ("scope:intel:analyst",), frozenset({"description"}),
                                 "takedown_report_open", any_org=True),
    "blocklist_publish": Rule("intel_indicators", ("system", "scope:intel:analyst"), frozenset({"value"}),
                              "blocklist_publish"),
    "subscriber_reverify": Rule(SUBSCRIBERS, ("role:cs", "scope:subscribers:review"), SUBSCRIBER_FIELDS,
                                "subscriber_reveal"),
    "subscriber_scam_match": Rule(SUBSCRIBERS, ("scope:subscribers:audit", "system"), frozenset({"msisdn"}),
                                  "subscriber_scam_match"),
    "subscriber_suspend": Rule(SUBSCRIBERS, ("role:cs", "scope:subscribers:review"), frozenset({"msisdn"}),
                               "subscriber_suspend"),
    "message_feedback_review": Rule("message_feedback", ("scope:messages:review",), frozenset({"text", "comment"}),
                                    "message_feedback_reveal", any_org=True),
    "message_feedback_export": Rule("message_feedback", ("scope:messages:review",), frozenset({"text"}),
                                    "message_feedback_export", any_org=True),
}


def shipment_columns(purpose: str) -> tuple[str, ...]:
    """The shipment columns ``purpose`` opens, sorted (none for an unknown or other purpose)."""
    rule = PURPOSES.get(purpose)
    return tuple(sorted(rule.columns)) if rule is not None and rule.kind == SHIPMENTS else ()


def reveals_for_role(role: str) -> bool:
    """Whether staff with ``role`` may reveal shipments for any purpose at all."""
    return any(r.kind == SHIPMENTS and f"role:{role}" in r.who for r in PURPOSES.values())


def admitted(principal: Principal, who: tuple[str, ...]) -> bool:
    """Whether ``principal`` is one of ``who`` (see ``Rule``), decided on its type."""
    match principal:
        case ApiKeyPrincipal():
            return any(w.startswith("scope:") and principal.can(w.removeprefix("scope:")) for w in who)
        case StaffPrincipal(role=role):
            return f"role:{role}" in who
        case DataSubject():
            return "subject" in who
        case ProvenCitizen():
            return "citizen" in who
        case SystemActor():
            return "system" in who
    return False


def _why_not(principal: Principal, who: tuple[str, ...], purpose: str) -> str:
    """The refusal's reason, in the words of what the purpose needs."""
    need = who[0]
    if need.startswith("scope:"):
        return f"needs the {need.removeprefix('scope:')} scope"
    if need.startswith("role:"):
        return f"only {need.removeprefix('role:')} staff may reveal for {purpose}"
    if need == "subject":
        return "only the data subject may use this purpose"
    if need == "citizen":
        return "the phone number is not proven"
    return f"{purpose} is not for this principal"


# What callers state about a request (a ticket, a reason, a justification…), logged with the decision.
Details = Mapping[str, object]
# The records a decision is about (``records`` or ``waybills``), logged with refusals too.
Records = dict[str, list[str]]


class AccessLog(Protocol):
    def append(self, *, actor: str, action: str, org_id: int | None = None, subject: str | None = None,
               purpose: str | None = None, details: dict[str, object] | None = None) -> int: ...


@dataclass(frozen=True)
class Owned:
    """A sealed value with the member of staff it belongs to (for purposes limited to one's own)."""

    value: SealedValue
    owner: int


class DutyCheck(Protocol):
    """Why a member of staff may not open personal data now (``postguard.access.duties.Duties.check``)."""

    def __call__(self, session: Session, principal: StaffPrincipal) -> DutyPending | None: ...


class Door:
    def __init__(self, *, log: AccessLog, opener: VaultOpener, bus: EventBus, duties: DutyCheck | None = None,
                 meter: Meter | None = None) -> None:
        """``duties``: why a member of staff may not open anything now (the confidentiality policy);
        ``meter``: counts refusals (``postguard_access_reveals_total``, outcome ``refused``); the wiring
        counts allowed reveals from ``Revealed``."""
        self._refused = (meter or Meter()).counter(
            "postguard_access_reveals", "Openings of protected data through the door, by purpose, kind and outcome",
            ("purpose", "kind", "outcome"))
        self._log = log
        self._opener = opener
        self._bus = bus
        self._duties = duties

    # -- deciding ------------------------------------------------------------------------------
    def _rule(self, purpose: str) -> Rule:
        rule = PURPOSES.get(purpose)
        if rule is None:
            raise InvalidInput("Unknown purpose.", [FieldError("purpose", f"one of {', '.join(PURPOSES)}")])
        return rule

    def _refuse(self, principal: Principal, *, purpose: str, subject: str | None, records: Records,
                why: str, error: Forbidden | None = None) -> NoReturn:
        self._log.append(actor=principal.actor, action="reveal_denied", org_id=principal.org_id, subject=subject,
                         purpose=purpose, details={"reason": why, **records})
        rule = PURPOSES.get(purpose)
        self._refused.inc(purpose if rule else "other", rule.kind if rule else "other", "refused")
        raise error or Forbidden(f"Not allowed: {why}.")

    def _admit(self, session: Session, principal: Principal, rule: Rule, *, purpose: str, kinds: set[str],
               columns: set[str], org_ids: set[int], subject: str | None, records: Records) -> None:
        """The checks every purpose shares: who, what (the kind and columns), whose (the organisation), and
        for staff, their duties (the confidentiality policy in force acknowledged)."""
        def refuse(why: str) -> NoReturn:
            self._refuse(principal, purpose=purpose, subject=subject, records=records, why=why)

        if not admitted(principal, rule.who):
            refuse(_why_not(principal, rule.who, purpose))
        if self._duties is not None and isinstance(principal, StaffPrincipal):
            pending = self._duties(session, principal)
            if pending is not None:
                self._refuse(principal, purpose=purpose, subject=subject, records=records,
                             why=f"confidentiality policy {pending.version} not acknowledged", error=pending)
        if kinds - {rule.kind} or not columns <= rule.columns:
            refuse(f"{purpose} does not cover these fields")
        if not rule.any_org and org_ids - {principal.org_id}:
            refuse("the shipment belongs to another operator" if rule.kind == SHIPMENTS
                   else "the data belongs to another organisation")

    def _publish(self, session: Session, principal: Principal, rule: Rule, *, purpose: str,
                 subjects: tuple[str, ...], index: int, details: dict[str, object]) -> None:
        # After the entry is durable and before anything is decrypted: a subscriber that cannot do its
        # part (an alert that cannot be recorded) stops the reveal like a log entry that cannot.
        self._bus.publish(Revealed(principal=principal, purpose=purpose, kind=rule.kind, org_id=principal.org_id,
                                   subjects=subjects, log_index=index, details=details, session=session))

    # -- sealed values ---------------------------------------------------------------------------
    def open(self, session: Session, principal: Principal, purpose: str, secrets: Sequence[SealedValue | Owned],
             *, subject: str | None = None, details: Details | None = None) -> list[str | None]:
        """Decide, log once for the whole request, publish ``Revealed``, then open each secret (in
        order). ``Owned`` secrets name the member of staff they belong to (``own`` purposes need it)."""
        values = self._decide_values(session, principal, purpose, secrets, subject=subject, details=details)
        return [self._opener.open_value(session, v) for v in values]

    def open_files(self, session: Session, principal: Principal, purpose: str, secrets: Sequence[SealedValue],
                   *, subject: str | None = None, details: Details | None = None) -> list[bytes | None]:
        """``open`` for files (evidence): the same decision, entry and event, then each secret's bytes."""
        values = self._decide_values(session, principal, purpose, secrets, subject=subject, details=details)
        return [self._opener.open_bytes(session, v) for v in values]

    def _decide_values(self, session: Session, principal: Principal, purpose: str,
                       secrets: Sequence[SealedValue | Owned], *, subject: str | None,
                       details: Details | None) -> list[SealedValue]:
        """What ``open`` and ``open_files`` share: decide, log once, publish; the values to open."""
        rule = self._rule(purpose)
        details = dict(details or {})
        values = [s.value if isinstance(s, Owned) else s for s in secrets]
        records: Records = {"records": [f"{v.table}:{v.record_id}" for v in values][:50]}
        self._admit(session, principal, rule, purpose=purpose, kinds={v.table for v in values},
                    columns={v.column for v in values}, org_ids={v.org_id for v in values}, subject=subject,
                    records=records)
        if rule.own:
            match principal:
                case StaffPrincipal(staff_id=me) if all(isinstance(s, Owned) and s.owner == me for s in secrets):
                    pass
                case _:
                    self._refuse(principal, purpose=purpose, subject=subject, records=records,
                                 why=f"{purpose} opens only your own data")
        index = self._log.append(actor=principal.actor, action=rule.action, org_id=principal.org_id,
                                 subject=subject, purpose=purpose, details={**records, **details})
        self._publish(session, principal, rule, purpose=purpose, subjects=tuple(v.record_id for v in values), index=index,
                      details=details)
        return values

    def open_records(self, session: Session, principal: Principal, purpose: str, records: Sequence[SealedFields],
                     *, subject: str | None = None, details: Details | None = None) -> list[dict[str, str | None]]:
        """``open`` for records sealed under a record key of their own (``SealedFields``), other than
        shipments: decide once for all of them, log once, publish ``Revealed``, then open each record's
        fields (in order)."""
        rule = self._rule(purpose)
        if rule.kind == SHIPMENTS:
            raise InvalidInput("Unknown purpose.", [FieldError("purpose", "shipments open with open_shipments")])
        details = dict(details or {})
        columns = {c for r in records for c in r.fields}
        listed: Records = {"records": [f"{r.table}:{r.record_id}" for r in records][:50]}
        self._admit(session, principal, rule, purpose=purpose, kinds={r.table for r in records}, columns=columns,
                    org_ids={r.org_id for r in records}, subject=subject, records=listed)
        index = self._log.append(actor=principal.actor, action=rule.action, org_id=principal.org_id, subject=subject,
                                 purpose=purpose, details={**listed, "columns": sorted(columns), "count": len(records),
                                                           **details})
        self._publish(session, principal, rule, purpose=purpose, subjects=tuple(r.record_id for r in records),
                      index=index, details=details)
        return [self._opener.open_fields(session, r) for r in records]

    # -- shipments -------------------------------------------------------------------------------
    def _decide_shipments(self, session: Session, principal: Principal, rule: Rule, *, shipments: Sequence[Shipment],
                          columns: tuple[str, ...], purpose: str, details: Details) -> None:
        subject = shipments[0].waybill if len(shipments) == 1 else None
        records: Records = {"waybills": [s.waybill for s in shipments]}

        def refuse(why: str) -> NoReturn:
            self._refuse(principal, purpose=purpose, subject=subject, records=records, why=why)

        self._admit(session, principal, rule, purpose=purpose, kinds={SHIPMENTS}, columns=set(columns),
                    org_ids={s.org_id for s in shipments}, subject=subject, records=records)
        if purpose == "delivery":
            if not isinstance(principal, StaffPrincipal):  # admitted by role: always staff
                refuse("only couriers deliver")
            now = utcnow()
            for s in shipments:
                active = session.execute(
                    select(Assignment).where(Assignment.shipment_id == s.id, Assignment.ended_at.is_(None))
                ).scalar_one_or_none()
                if active is None or active.courier_id != principal.staff_id:
                    refuse("the parcel is not assigned to you")
                if s.status != "out_for_delivery":
                    refuse("the parcel is not out for delivery")
                if not active.window_start <= now <= active.window_end:
                    refuse("the delivery window is closed")
        if purpose == "customer_service" and not (details.get("ticket") and details.get("reason")):
            raise InvalidInput("A ticket and a reason are required.",
                               [FieldError(f, "required", code="missing") for f in ("ticket", "reason") if not details.get(f)])
        justification = details.get("justification") or ""
        if purpose == "break_glass" and not (isinstance(justification, str) and len(justification.strip()) >= 10):
            raise InvalidInput("A justification is required.", [FieldError("justification", "at least 10 characters", code="too_short")])

    def open_shipments(
        self, session: Session, *, principal: Principal, shipments: Sequence[Shipment], columns: tuple[str, ...],
        purpose: str, details: Details | None = None,
    ) -> list[dict[str, str | None]]:
        """Decide, log once for the whole request, publish ``Revealed``, then decrypt ``columns`` of each
        shipment."""
        details = dict(details or {})
        rule = self._rule(purpose)
        if rule.kind != SHIPMENTS:
            raise InvalidInput("Unknown purpose.", [FieldError("purpose", "not a purpose for shipments")])
        self._decide_shipments(session, principal, rule, shipments=shipments, columns=columns, purpose=purpose,
                               details=details)
        index = self._log.append(
            actor=principal.actor, action=rule.action, org_id=principal.org_id,
            subject=shipments[0].waybill if len(shipments) == 1 else None, purpose=purpose,
            details={"columns": list(columns), "waybills": [s.waybill for s in shipments], **details},
        )
        self._publish(session, principal, rule, purpose=purpose, subjects=tuple(s.waybill for s in shipments), index=index,
                      details=details)
        return [
            self._opener.open_fields(session, SealedFields(
                org_id=s.org_id, table=SHIPMENTS, record_id=s.waybill, dek=s.dek,
                fields={c: getattr(s, f"{c}_ct") for c in columns}, reload=self._dek_reader(session, s.id)))
            for s in shipments
        ]

    @staticmethod
    def _dek_reader(session: Session, shipment_id: int) -> Callable[[], bytes | None]:
        """Reads a shipment's wrapped key again (when a re-wrap moved it after the shipment was read)."""
        return lambda: session.execute(select(Shipment.dek).where(Shipment.id == shipment_id)).scalar_one_or_none()
