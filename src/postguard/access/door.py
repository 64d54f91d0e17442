"""The one door: every read of plaintext personal data passes here.

The door decides whether the principal may read the columns for the stated purpose, appends the
decision to the access log, and only once that entry is durable asks the vault to decrypt (log
before reveal, fail closed: if the append fails, ``AuditUnavailable`` is raised and nothing is
decrypted). Nothing else in the code base calls ``Vault.open_record``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from postguard.errors import Forbidden
from postguard.orgs.service import Principal
from postguard.shipments.models import Shipment

# purpose → (scope required, columns that purpose may open)
PURPOSES: dict[str, tuple[str, frozenset[str]]] = {
    "phone_search": ("shipments:search", frozenset({"sender_phone", "recipient_phone"})),
}


class Door:
    def __init__(self, platform) -> None:
        self.p = platform

    def open_shipments(
        self, session: Session, *, principal: Principal, shipments: Sequence[Shipment], columns: tuple[str, ...],
        purpose: str, details: dict | None = None,
    ) -> list[dict[str, str | None]]:
        """Decide, log once for the whole request, then decrypt ``columns`` of each shipment."""
        scope, allowed = PURPOSES.get(purpose, (None, frozenset()))
        if scope is None or not principal.can(scope) or not set(columns) <= allowed:
            raise Forbidden(f"Not allowed to read {', '.join(columns)} for {purpose}.")
        if any(s.org_id != principal.org_id for s in shipments):
            raise Forbidden("A shipment belongs to another organisation.")
        self.p.audit.append(
            actor=principal.actor, action="reveal", org_id=principal.org_id,
            subject=shipments[0].waybill if len(shipments) == 1 else None, purpose=purpose,
            details={"columns": list(columns), "waybills": [s.waybill for s in shipments], **(details or {})},
        )
        return [
            self.p.vault.open_record(
                session, org_id=s.org_id, table="shipments", record_id=s.waybill, dek=s.dek,
                fields={c: getattr(s, f"{c}_ct") for c in columns},
            )
            for s in shipments
        ]
