"""Scam intelligence: lookups, reports, official channels, analyst review, appeals and sharing.

``IntelService`` (``Platform.intel``) puts together the parts, each in its module with one job,
and offers their operations under the names callers use:

- ``store`` (``postguard.intel.store``): keys, sealed values, indicator and reporter rows;
- ``grader`` (``postguard.intel.grading``): verdicts, official channels covering an indicator;
- ``brands`` (``postguard.intel.brands``): the brands a lookup protects from lookalikes;
- ``checks`` (``postguard.intel.check``): lookups, ``POST /v1/check`` and what it keeps in memory;
- ``intake`` (``postguard.intel.reports``): report intake;
- ``channels`` (``postguard.intel.official``): official channels;
- ``review`` (``postguard.intel.review``): the analysts' queue, reveals, decisions and statistics;
- ``appeal_desk`` (``postguard.intel.appeals``): appeals and their decisions;
- ``shared`` (``postguard.intel.shared_feed``): the shared feed and partners' imports;
- ``scanner`` (``postguard.intel.scanner``): the lookalike scanner's hits and their review.

A lookup that finds nothing writes nothing and logs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from postguard.intel.appeals import AppealDesk
from postguard.intel.brands import BrandWatch
from postguard.intel.bundles import KEY_PURPOSE as BUNDLE_KEY
from postguard.intel.bundles import EvidenceBundles
from postguard.intel.check import CheckService
from postguard.intel.losses import Losses
from postguard.intel.grading import Grader
from postguard.intel.known import KnownIndex
from postguard.intel.official import OfficialChannels
from postguard.intel.reports import CATEGORIES, ReportIntake, Upload
from postguard.intel.review import DECISIONS, AnalystReview
from postguard.intel.scanner import ScannerIntake
from postguard.intel.shared_feed import SharedFeed
from postguard.intel.store import KEY_ORG, IntelStore

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.events import EventBus
    from postguard.intel.lookups import PrivateLookups
    from postguard.orgs.service import OrgService
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings
    from postguard.vault.service import Vault

__all__ = ["CATEGORIES", "DECISIONS", "KEY_ORG", "IntelService", "Upload"]


class IntelService:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, audit: AuditLog, orgs: OrgService,
                 door: Door, limiter: RateLimiter, lookups: PrivateLookups, bus: EventBus) -> None:
        """``bus``: where committed decisions on indicators are published (``IndicatorDecided``)."""
        self.store = store = IntelStore(db=db, settings=settings, vault=vault, orgs=orgs, door=door, lookups=lookups)
        self.grader = grader = Grader(db=db, settings=settings, store=store)
        self.brands = brands = BrandWatch(db=db, settings=settings)
        self.checks = checks = CheckService(db=db, settings=settings, limiter=limiter, store=store, grader=grader,
                                            brands=brands)
        self.intake = intake = ReportIntake(db=db, settings=settings, vault=vault, limiter=limiter, orgs=orgs,
                                            store=store, grader=grader)
        self.channels = channels = OfficialChannels(db=db, audit=audit, orgs=orgs, store=store, grader=grader)
        self.review = review = AnalystReview(db=db, audit=audit, orgs=orgs, door=door, store=store, grader=grader,
                                             bus=bus)
        self.appeal_desk = appeal_desk = AppealDesk(db=db, settings=settings, audit=audit, orgs=orgs, door=door,
                                                    limiter=limiter, store=store, grader=grader, bus=bus)
        self.scanner = ScannerIntake(db=db, audit=audit, orgs=orgs, store=store, grader=grader, review=review)
        self.shared = shared = SharedFeed(db=db, audit=audit, orgs=orgs, store=store, grader=grader)
        self.losses = Losses(db=db, orgs=orgs)
        self.bundles = EvidenceBundles(db=db, audit=audit, orgs=orgs, door=door, store=store,
                                       signing_seed=lambda s: vault.service_secret(s, purpose=BUNDLE_KEY),
                                       issuer=settings.audit_origin.split("/")[0])
        # The parts' operations, under the names callers use.
        self.key_org_id, self.cli_principal = store.key_org_id, store.cli_principal
        self.key_versions_in_use = store.key_versions_in_use
        self.regrade_all = grader.regrade_all
        self.check, self.forget_kept, self.flush_lookups = checks.check, checks.forget_kept, checks.flush_lookups
        self.report = intake.report
        self.official_add, self.official_set_status = channels.official_add, channels.official_set_status
        self.official_list = channels.official_list
        self.queue, self.indicator, self.stats = review.queue, review.indicator, review.stats
        self.decide, self.review_report = review.decide, review.review_report
        self.staff_principal, self.reveal_value = review.staff_principal, review.reveal_value
        self.appeal, self.appeals = appeal_desk.appeal, appeal_desk.appeals
        self.appeal_reveal, self.decide_appeal = appeal_desk.appeal_reveal, appeal_desk.decide_appeal
        self.shared_feed, self.shared_lookup = shared.shared_feed, shared.shared_lookup
        self.import_shared = shared.import_shared

    @property
    def known(self) -> KnownIndex:
        """Every stored indicator's digest, in memory (``postguard.intel.known``)."""
        return self.store.known
