"""Every mapped model, imported once so that Alembic sees the whole schema."""

from postguard.db.base import Base
from postguard.orgs.models import ApiKey, Organisation
from postguard.shipments.models import LabelToken, Shipment, ShipmentEvent
from postguard.vault.models import VaultKey

metadata = Base.metadata

__all__ = ["ApiKey", "LabelToken", "Organisation", "Shipment", "ShipmentEvent", "VaultKey", "metadata"]
