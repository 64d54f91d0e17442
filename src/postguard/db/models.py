"""Every mapped model, imported once so that Alembic sees the whole schema."""

from postguard.access.models import Assignment, Staff, WebSession
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.callerid.models import (
    CallCertificate,
    CallIntent,
    CourierPhone,
    MaskedCall,
    ProxyNumber,
    ScamReport,
)
from postguard.db.base import Base
from postguard.orgs.models import ApiKey, Organisation
from postguard.otp import OtpChallenge
from postguard.shipments.models import LabelToken, Shipment, ShipmentEvent
from postguard.vault.models import ServiceKey, VaultKey

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Assignment",
    "AuditCheckpoint",
    "AuditEntry",
    "CallCertificate",
    "CallIntent",
    "CourierPhone",
    "LabelToken",
    "MaskedCall",
    "Organisation",
    "OtpChallenge",
    "ProxyNumber",
    "ScamReport",
    "ServiceKey",
    "Shipment",
    "ShipmentEvent",
    "Staff",
    "VaultKey",
    "WebSession",
    "metadata",
]
