"""The one door: every read of plaintext personal data passes here.

The door decides whether the principal may read the columns for the stated purpose, appends the
decision to the access log (refusals too), and only once the entry is durable asks the vault to
decrypt (log before reveal, fail closed: if the append fails, ``AuditUnavailable`` is raised and
nothing is decrypted). Nothing else in the code base calls ``Vault.open_record``.

Purposes and who may use them:

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

Revealing a canary shipment (``postguard.leaks.canaries``) raises an alert whatever the purpose.
- ``call_check``: a citizen who proved control of their phone number with a one-time code, confirming
  that a courier's parcel (a blind-index candidate) is addressed to that number; the recipient's phone
  only, compared server-side and never returned to the citizen.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.access.models import Assignment
from postguard.db.base import utcnow
from postguard.errors import FieldError, Forbidden, InvalidInput
from postguard.shipments.models import Shipment

RECIPIENT = frozenset({"recipient_name", "recipient_phone", "recipient_address"})
EVERYTHING = frozenset({"sender_name", "sender_phone", "sender_address", "recipient_name", "recipient_phone",
                        "recipient_address", "goods_description"})
# purpose → (who: an API scope or a staff role, columns that purpose may open)
PURPOSES: dict[str, tuple[str, frozenset[str]]] = {
    "phone_search": ("scope:shipments:search", frozenset({"sender_phone", "recipient_phone"})),
    "delivery": ("role:courier", RECIPIENT),
    "customer_service": ("role:cs", EVERYTHING - {"goods_description"}),
    "break_glass": ("role:admin", EVERYTHING),
    "data_subject": ("subject:self", EVERYTHING),
    "dsr_match": ("role:dpo", frozenset({"sender_phone", "recipient_phone"})),
    "dsr_export": ("role:dpo", EVERYTHING),
    "call_check": ("citizen:proven", frozenset({"recipient_phone"})),
}


def _staff_role(principal) -> str | None:
    return getattr(principal, "role", None)


class Door:
    def __init__(self, platform) -> None:
        self.p = platform

    def _refuse(self, principal, *, purpose: str, shipments: Sequence[Shipment], why: str):
        self.p.audit.append(
            actor=principal.actor, action="reveal_denied", org_id=principal.org_id,
            subject=shipments[0].waybill if len(shipments) == 1 else None, purpose=purpose,
            details={"reason": why, "waybills": [s.waybill for s in shipments]},
        )
        raise Forbidden(f"Not allowed: {why}.")

    def _decide(self, session: Session, principal, *, shipments, columns, purpose: str, details: dict) -> None:
        who, allowed = PURPOSES.get(purpose, ("", frozenset()))
        kind, _, need = who.partition(":")
        if not who:
            raise InvalidInput("Unknown purpose.", [FieldError("purpose", f"one of {', '.join(PURPOSES)}")])
        if kind == "scope" and not (hasattr(principal, "can") and principal.can(need)):
            self._refuse(principal, purpose=purpose, shipments=shipments, why=f"needs the {need} scope")
        if kind == "subject" and not getattr(principal, "is_data_subject", False):
            self._refuse(principal, purpose=purpose, shipments=shipments, why="only the data subject may use this purpose")
        if kind == "citizen" and not getattr(principal, "proven", False):
            self._refuse(principal, purpose=purpose, shipments=shipments, why="the phone number is not proven")
        if kind == "role" and _staff_role(principal) != need:
            self._refuse(principal, purpose=purpose, shipments=shipments, why=f"only {need} staff may reveal for {purpose}")
        if not set(columns) <= allowed:
            self._refuse(principal, purpose=purpose, shipments=shipments, why=f"{purpose} does not cover these fields")
        if any(s.org_id != principal.org_id for s in shipments):
            self._refuse(principal, purpose=purpose, shipments=shipments, why="the shipment belongs to another operator")
        if purpose == "delivery":
            now = utcnow()
            for s in shipments:
                active = session.execute(
                    select(Assignment).where(Assignment.shipment_id == s.id, Assignment.ended_at.is_(None))
                ).scalar_one_or_none()
                if active is None or active.courier_id != principal.staff_id:
                    self._refuse(principal, purpose=purpose, shipments=shipments, why="the parcel is not assigned to you")
                if s.status != "out_for_delivery":
                    self._refuse(principal, purpose=purpose, shipments=shipments, why="the parcel is not out for delivery")
                if not active.window_start <= now <= active.window_end:
                    self._refuse(principal, purpose=purpose, shipments=shipments, why="the delivery window is closed")
        if purpose == "customer_service" and not (details.get("ticket") and details.get("reason")):
            raise InvalidInput("A ticket and a reason are required.",
                               [FieldError(f, "required") for f in ("ticket", "reason") if not details.get(f)])
        if purpose == "break_glass" and len((details.get("justification") or "").strip()) < 10:
            raise InvalidInput("A justification is required.", [FieldError("justification", "at least 10 characters")])

    def open_shipments(
        self, session: Session, *, principal, shipments: Sequence[Shipment], columns: tuple[str, ...],
        purpose: str, details: dict | None = None,
    ) -> list[dict[str, str | None]]:
        """Decide, log once for the whole request, then decrypt ``columns`` of each shipment."""
        details = details or {}
        self._decide(session, principal, shipments=shipments, columns=columns, purpose=purpose, details=details)
        index = self.p.audit.append(
            actor=principal.actor, action="break_glass" if purpose == "break_glass" else "reveal",
            org_id=principal.org_id, subject=shipments[0].waybill if len(shipments) == 1 else None,
            purpose=purpose,
            details={"columns": list(columns), "waybills": [s.waybill for s in shipments], **details},
        )
        # Alerts come after the reveal is logged and before anything is decrypted: an alert that cannot
        # be recorded stops the reveal like a log entry that cannot.
        if purpose == "break_glass":
            waybills = ", ".join(s.waybill for s in shipments[:10]) + (" …" if len(shipments) > 10 else "")
            self.p.alerts.raise_alert(
                org_id=principal.org_id, kind="break_glass", severity="high",
                subject=shipments[0].waybill if len(shipments) == 1 else None, actor=principal.actor,
                reason=f"Break-glass reveal of {waybills} by {principal.actor}: "
                       f"{details.get('justification', '').strip()[:500]}",
                details={"log_index": index, "waybills": [s.waybill for s in shipments]},
            )
        if purpose != "phone_search":  # a search's candidates are only matched; its hits are checked there
            self.p.canaries.on_reveal(session, principal, shipments, purpose=purpose)
        return [
            self.p.vault.open_record(
                session, org_id=s.org_id, table="shipments", record_id=s.waybill, dek=s.dek,
                fields={c: getattr(s, f"{c}_ct") for c in columns}, reload=self._dek_reader(session, s.id),
            )
            for s in shipments
        ]

    @staticmethod
    def _dek_reader(session: Session, shipment_id: int):
        """Reads a shipment's wrapped key again (when a re-wrap moved it after the shipment was read)."""
        return lambda: session.execute(select(Shipment.dek).where(Shipment.id == shipment_id)).scalar_one_or_none()
