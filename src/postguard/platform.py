"""The platform: every service wired to one set of injected settings.

Shells (API, web, CLI) build one ``Platform`` and call its services; nothing here is created at
import time. This is the wiring, above the services: it hands the model registry
(``postguard.models``) to the migrator and the vault's keys to the access log, so that the kernels
below (``crypto``, ``db``, ``settings``) and ``audit`` import no service.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from postguard.callerid import directory
from postguard.db import Database, migrate
from postguard.files import private_dir
from postguard.models import metadata
from postguard.settings import Settings
from postguard.vault.kek import LocalKeyFile
from postguard.vault.keycheck import open_key_file
from postguard.vault.service import Vault

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.audit.witnessing import Witnessing
    from postguard.alerts.service import WarningService
    from postguard.alerts.webhooks import WebhookService
    from postguard.notify import Notifier
    from postguard.orgs.service import OrgService
    from postguard.otp import OtpService
    from postguard.ratelimit import RateLimiter
    from postguard.screening.service import ScreeningService


class Platform:
    def __init__(self, settings: Settings, *, migrate_on_start: bool = True) -> None:
        self.settings = settings
        if settings.data_dir.exists():
            private_dir(settings.data_dir)  # 0700: it holds the database, the key file, logs
        self.db = Database(settings)
        if migrate_on_start:
            migrate.upgrade(self.db.engine, metadata=metadata)
        # Every worker learns of courier-registry changes made anywhere (postguard.callerid.directory).
        self.registry_signal = directory.signal_for(self.db.engine)
        directory.watch(self.db.primary_sessions, self.registry_signal)
        try:
            self.kek  # noqa: B018  created on first start (development) or refused (production) right away
        except Exception:
            self.close()
            raise

    @cached_property
    def kek(self) -> LocalKeyFile:
        """The key file; refused when protected data is stored and it does not match it."""
        return open_key_file(self.settings, self.db)

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.kek, nonce_budget=self.settings.nonce_budget)

    @cached_property
    def x5u_fetcher(self):
        """The STIR/SHAKEN certificate fetcher: only ``POSTGUARD_X5U_ALLOWED_HOSTS`` (none by default)."""
        from postguard.callerid.stir.fetch import CertificateFetcher

        return CertificateFetcher.from_settings(self.settings)

    @cached_property
    def stir_trusted_cas(self) -> list[bytes]:
        """The DER of each CA in ``POSTGUARD_STIR_TRUSTED_CA_FILE`` (empty: no fetched chain is trusted)."""
        from postguard.callerid.stir.fetch import load_trusted_cas

        path = self.settings.stir_trusted_ca_file
        return load_trusted_cas(path.read_bytes() if path is not None and path.exists() else None,
                                configured=path is not None)

    @cached_property
    def stir(self):
        """Terminating-side STIR/SHAKEN verification: an Identity header and the call's numbers in,
        ``verstat`` out (through ``x5u_fetcher`` and ``stir_trusted_cas``)."""
        from postguard.callerid.stir.verification import VerificationService

        return VerificationService(self)

    @cached_property
    def orgs(self) -> OrgService:
        from postguard.orgs.service import OrgService

        return OrgService(db=self.db, settings=self.settings, vault=self.vault, audit=self.audit)

    @cached_property
    def shipments(self):
        from postguard.shipments.service import ShipmentService

        return ShipmentService(self)

    @cached_property
    def limiter(self) -> RateLimiter:
        from postguard.ratelimit import RateLimiter

        return RateLimiter(self.settings.rate_limit_storage)

    @cached_property
    def audit(self) -> AuditLog:
        from postguard.audit.log import AuditLog

        return AuditLog(self.db, origin=self.settings.audit_origin, keys=self.audit_keys)

    def audit_keys(self, session) -> tuple[bytes, bytes]:
        """The access log's checkpoint-signing and MAC keys: platform service secrets, wrapped by the
        KEK and created on first use (``session``: the log's own unit of work)."""
        return (self.vault.service_secret(session, purpose="audit-signing"),
                self.vault.service_secret(session, purpose="audit-mac"))

    @cached_property
    def witnessing(self) -> Witnessing:
        from postguard.audit.witnessing import Witnessing

        return Witnessing(db=self.db, log=self.audit, witnesses=self.settings.audit_witnesses,
                          timeout=self.settings.audit_witness_timeout_seconds)

    @cached_property
    def access(self):
        from postguard.access.service import AccessService

        return AccessService(self)

    @cached_property
    def staff(self):
        from postguard.access.staff import StaffService

        return StaffService(self)

    @cached_property
    def events(self):
        """The in-process event bus, with its subscribers: a reveal (``Revealed``, published by the door
        after logging and before decrypting) raises the break-glass alert, then any canary alert."""
        from postguard.events import EventBus, Revealed

        bus = EventBus()
        bus.subscribe(Revealed, lambda event: self.access_alerts.on_revealed(event))
        bus.subscribe(Revealed, lambda event: self.canaries.on_revealed(event))
        return bus

    @cached_property
    def door(self):
        """The one door to protected data: the only holder of the vault's opener."""
        from postguard.access.door import Door
        from postguard.vault.service import VaultOpener

        return Door(log=self.audit, opener=VaultOpener(self.vault), bus=self.events)

    @cached_property
    def labels(self):
        from postguard.shipments.labels import LabelService

        return LabelService(self)

    @cached_property
    def notifier(self) -> Notifier:
        from postguard.notify import build_notifier

        return build_notifier(self.settings.notifier)

    @cached_property
    def otp(self) -> OtpService:
        from postguard.otp import OtpService

        return OtpService(db=self.db, vault=self.vault, limiter=self.limiter, notifier=self.notifier)

    def intel_feed(self):
        """Every scam indicator this platform shares (``SharedIndicator``), from the intelligence
        store: reported and above (delisted ones marked), never unknown or official."""
        return self.intel.shared_feed()

    def intel_sightings(self):
        return []

    def intel_lookup(self, type_: str, value: str):
        """The shared view of one normalised value, graded now, or None when nothing flags it."""
        return self.intel.shared_lookup(type_, value)

    @cached_property
    def lookups(self):
        from postguard.intel.lookups import PrivateLookups

        return PrivateLookups(self)

    @cached_property
    def sharing(self):
        from postguard.intel.feed import IntelFeed

        return IntelFeed(self)

    @cached_property
    def warnings(self) -> WarningService:
        from postguard.alerts.service import WarningService

        return WarningService(db=self.db, settings=self.settings, audit=self.audit, webhooks=self.webhooks)

    @cached_property
    def webhooks(self) -> WebhookService:
        from postguard.alerts.webhooks import WebhookService

        return WebhookService(db=self.db, settings=self.settings, audit=self.audit, vault=self.vault)

    @cached_property
    def screening(self) -> ScreeningService:
        from postguard.screening.service import ScreeningService

        return ScreeningService(settings=self.settings, lookup=self.intel_lookup)

    @cached_property
    def access_alerts(self):
        """Auditors' alerts (break-glass, canaries, anomalies); scam warnings are ``warnings``."""
        from postguard.leaks.alerts import AlertService

        return AlertService(self)

    @cached_property
    def canaries(self):
        from postguard.leaks.canaries import CanaryService

        return CanaryService(self)

    @cached_property
    def leaks(self):
        from postguard.leaks.service import LeakService

        return LeakService(self)

    @cached_property
    def intel(self):
        from postguard.intel.service import IntelService

        return IntelService(self)

    @cached_property
    def privacy(self):
        from postguard.privacy.service import PrivacyService

        return PrivacyService(self)

    @cached_property
    def callerid_keys(self):
        from postguard.callerid.keys import CallerIdKeys

        return CallerIdKeys(self)

    @cached_property
    def couriers(self):
        from postguard.callerid.registry import CourierRegistry

        return CourierRegistry(self)

    @cached_property
    def callcheck(self):
        from postguard.callerid.check import CallCheck

        return CallCheck(self)

    @cached_property
    def calls(self):
        from postguard.callerid.calls import CallService

        return CallService(self)

    def close(self) -> None:
        if "callcheck" in self.__dict__:
            self.callcheck.close()
        if "intel" in self.__dict__:
            self.intel.flush_lookups()
        if "witnessing" in self.__dict__:
            self.witnessing.close()
        self.registry_signal.close()
        self.db.dispose()
