"""The platform: every service wired to one set of injected settings.

Shells (API, web, CLI) build one ``Platform`` and call its services; nothing here is created at
import time.
"""

from __future__ import annotations

from functools import cached_property

from postguard.db import Database, migrate
from postguard.settings import Settings
from postguard.vault.kek import LocalKeyFile
from postguard.vault.service import Vault


class Platform:
    def __init__(self, settings: Settings, *, migrate_on_start: bool = True) -> None:
        self.settings = settings
        self.db = Database(settings)
        if migrate_on_start:
            migrate.upgrade(self.db.engine)
        self.kek  # created on first start (development) or refused (production) right away

    @cached_property
    def kek(self) -> LocalKeyFile:
        return LocalKeyFile(self.settings.key_file, production=self.settings.mode == "production")

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.kek, nonce_budget=self.settings.nonce_budget)

    @cached_property
    def orgs(self):
        from postguard.orgs.service import OrgService

        return OrgService(self)

    @cached_property
    def shipments(self):
        from postguard.shipments.service import ShipmentService

        return ShipmentService(self)

    @cached_property
    def limiter(self):
        from postguard.ratelimit import RateLimiter

        return RateLimiter(self.settings.rate_limit_storage)

    @cached_property
    def audit(self):
        from postguard.audit.log import AuditLog

        return AuditLog(self)

    @cached_property
    def access(self):
        from postguard.access.service import AccessService

        return AccessService(self)

    @cached_property
    def staff(self):
        from postguard.access.staff import StaffService

        return StaffService(self)

    @cached_property
    def door(self):
        from postguard.access.door import Door

        return Door(self)

    @cached_property
    def labels(self):
        from postguard.shipments.labels import LabelService

        return LabelService(self)

    @cached_property
    def notifier(self):
        from postguard.notify import build_notifier

        return build_notifier(self.settings.notifier)

    @cached_property
    def otp(self):
        from postguard.otp import OtpService

        return OtpService(self)

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
        self.db.dispose()
