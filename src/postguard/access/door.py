"""The one door: every read of plaintext personal data passes here.

The door decides whether the principal may read the columns for the stated purpose, and only then
asks the vault to decrypt. Nothing else in the code base calls ``Vault.open_record``.
"""

from __future__ import annotations

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

    def open_shipment(
        self, session: Session, *, principal: Principal, shipment: Shipment, columns: tuple[str, ...], purpose: str
    ) -> dict[str, str | None]:
        scope, allowed = PURPOSES.get(purpose, (None, frozenset()))
        if scope is None or not principal.can(scope) or not set(columns) <= allowed:
            raise Forbidden(f"Not allowed to read {', '.join(columns)} for {purpose}.")
        if shipment.org_id != principal.org_id:
            raise Forbidden("This shipment belongs to another organisation.")
        return self.p.vault.open_record(
            session,
            org_id=shipment.org_id,
            table="shipments",
            record_id=shipment.waybill,
            dek=shipment.dek,
            fields={c: getattr(shipment, f"{c}_ct") for c in columns},
        )
