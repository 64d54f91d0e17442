"""Every mapped model, imported once so that Alembic sees the whole schema."""

from postguard.access.models import Assignment, Staff, WebSession
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.db.base import Base
from postguard.intel.models import (
    Appeal,
    Decision,
    Evidence,
    Indicator,
    OfficialChannel,
    Report,
    Reporter,
    ReportIndicator,
)
from postguard.orgs.models import ApiKey, Organisation
from postguard.shipments.models import LabelToken, Shipment, ShipmentEvent
from postguard.vault.models import ServiceKey, VaultKey

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Appeal",
    "Assignment",
    "AuditCheckpoint",
    "AuditEntry",
    "Decision",
    "Evidence",
    "Indicator",
    "LabelToken",
    "OfficialChannel",
    "Organisation",
    "Report",
    "ReportIndicator",
    "Reporter",
    "ServiceKey",
    "Shipment",
    "ShipmentEvent",
    "Staff",
    "VaultKey",
    "WebSession",
    "metadata",
]
