"""Transparency for the people whose data it is, and the data-protection officer's work.

``PrivacyService`` (``Platform.privacy``) puts together the parts, each in its module with one job,
and offers their operations under the names callers use:

- ``subjects`` (``postguard.privacy.subjects``): who — the keyed digest that stands for a person,
  the DPO acting — and finding a person's shipments through the door (purpose ``data_subject``, so
  the person's own view is logged);
- ``history`` (``postguard.privacy.history``): who accessed a shipment, each entry with an RFC 9162
  inclusion proof checked against the latest signed checkpoint, and the person's own view
  (``my_data``), across every operator, masked;
- ``requests`` (``postguard.privacy.requests``): data-subject requests (access export, deletion,
  correction) with their legal clocks; deletion crypto-shreds and appends a receipt to the log;
- ``exports`` (``postguard.privacy.export``): the access export of a request;
- ``incidents`` (``postguard.privacy.incidents``): breach incidents with the 72-hour clock;
- ``lawful`` (``postguard.privacy.lawful``): authorities' requests for personal data, approved by the
  DPO and an administrator before the DPO discloses through the door, and their register;
- ``dossiers`` (``postguard.privacy.dossiers``): the impact assessment, the security-level system
  description and a breach's notification, generated from the running system.

Nothing here imports a web framework; errors are ``postguard.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collections.abc import Callable

from postguard.privacy.dossiers import Dossiers, SystemFacts
from postguard.privacy.export import AccessExport
from postguard.privacy.history import AccessHistory
from postguard.privacy.incidents import INCIDENT_STATUSES, Incidents
from postguard.privacy.lawful import LawfulRequests
from postguard.privacy.requests import KINDS, STATUSES, CodeChallenges, RequestDesk, SmsSender
from postguard.privacy.subjects import Subjects

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.audit.witnessing import Witnessing
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.ratelimit import RateLimiter
    from postguard.shipments.service import ShipmentService
    from postguard.vault.service import Vault

__all__ = ["INCIDENT_STATUSES", "KINDS", "STATUSES", "PrivacyService"]


class PrivacyService:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, witnessing: Witnessing, orgs: OrgService,
                 door: Door, limiter: RateLimiter, shipments: ShipmentService, otp: CodeChallenges,
                 notifier: SmsSender, facts: Callable[[], SystemFacts]) -> None:
        self.subjects = subjects = Subjects(db=db, vault=vault, orgs=orgs, door=door)
        self.history = history = AccessHistory(db=db, audit=audit, witnessing=witnessing, subjects=subjects)
        self.requests = requests = RequestDesk(db=db, vault=vault, audit=audit, door=door, limiter=limiter,
                                               shipments=shipments, otp=otp, notifier=notifier, subjects=subjects)
        self.exports = exports = AccessExport(db=db, audit=audit, door=door, subjects=subjects, history=history,
                                              requests=requests)
        self.incidents = incidents = Incidents(db=db, audit=audit, subjects=subjects)
        self.dossiers = Dossiers(db=db, audit=audit, subjects=subjects, facts=facts)
        self.lawful = LawfulRequests(db=db, vault=vault, audit=audit, door=door, orgs=orgs, subjects=subjects)
        # The parts' operations, under the names callers use.
        self.phone, self.subject_digest, self.subject_actor = subjects.phone, subjects.subject_digest, \
            subjects.subject_actor
        self.dpo = subjects.dpo
        self.index_mentions, self.my_data = history.index_mentions, history.my_data
        self.file_request, self.my_requests, self.list_requests = requests.file_request, requests.my_requests, \
            requests.list_requests
        self.get_request = requests.get_request
        self.acknowledge, self.complete = requests.acknowledge, requests.complete
        self.receipt, self.receipt_for_subject = requests.receipt, requests.receipt_for_subject
        self.export, self.export_for_subject = exports.export, exports.export_for_subject
        self.create_incident, self.list_incidents = incidents.create_incident, incidents.list_incidents
        self.notify_incident = incidents.notify_incident
        self.make_dossier = self.dossiers.make
