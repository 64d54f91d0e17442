"""The model registry: every mapped model, imported once so that the whole schema is known.

It sits above the services (it imports each package's models), next to the platform wiring: the
platform and the CLI hand ``metadata`` to ``postguard.db.migrate``, which imports no service.
"""

from postguard.access.models import Assignment, PolicyAcknowledgement, PolicyVersion, Staff, WebSession
from postguard.alerts.models import ScamWarning, WebhookDelivery, WebhookSubscription
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.blocklist.models import BlocklistEntry, BlocklistVersion
from postguard.callerid.models import (
    CallCertificate,
    CallIntent,
    CourierPhone,
    MaskedCall,
    ProxyNumber,
    ScamReport,
)
from postguard.db.base import Base
from postguard.intel.models import (
    Appeal,
    Decision,
    Evidence,
    Indicator,
    LookalikeHit,
    OfficialChannel,
    Report,
    Reporter,
    ReportIndicator,
)
from postguard.leaks.models import Alert, Canary, CanaryNumber
from postguard.messages.models import FeedbackCase, FeedbackSubmission
from postguard.orgs.models import ApiKey, Organisation
from postguard.otp import OtpChallenge
from postguard.privacy.models import (
    AuditMention,
    AuditMentionCursor,
    BreachIncident,
    DataSubjectRequest,
    LawfulRequest,
)
from postguard.senders.models import SenderTemplate, SentNotification
from postguard.shipments.models import LabelToken, Shipment, ShipmentEvent
from postguard.takedown.models import TakedownEvent, TakedownRequest
from postguard.vault.models import ServiceKey, VaultKey

metadata = Base.metadata

__all__ = [
    "Alert", "ApiKey", "Appeal", "Assignment", "AuditCheckpoint", "AuditEntry", "AuditMention",
    "AuditMentionCursor", "BlocklistEntry", "BlocklistVersion", "BreachIncident", "CallCertificate", "CallIntent", "Canary", "CanaryNumber",
    "CourierPhone", "DataSubjectRequest", "Decision", "Evidence", "FeedbackCase", "FeedbackSubmission", "Indicator", "LabelToken", "LawfulRequest",
    "LookalikeHit",
    "MaskedCall", "OfficialChannel", "Organisation", "OtpChallenge", "PolicyAcknowledgement", "PolicyVersion",
    "ProxyNumber", "Report",
    "ReportIndicator", "Reporter", "ScamReport", "ScamWarning", "SenderTemplate", "SentNotification", "ServiceKey", "Shipment", "ShipmentEvent",
    "Staff", "TakedownEvent", "TakedownRequest", "VaultKey", "WebSession", "WebhookDelivery", "WebhookSubscription", "metadata",
]
