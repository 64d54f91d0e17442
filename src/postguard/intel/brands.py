"""The brands a lookup protects: the brands file (``POSTGUARD_LOOKALIKE_BRANDS_FILE``) and the
official-channel registry's verified domains, each organisation a brand under its short name. A link
or domain that imitates one of them is answered ``lookalike`` (``postguard.intel.answers``).

The matcher is built at first use and rebuilt by the server's periodic job
(``lookalike_refresh_seconds``) when the verified domains changed, so a domain verified on one
worker is protected (and never flagged) on every worker within that interval."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.errors import ConfigurationError, InvalidInput
from postguard.intel.models import Indicator, OfficialChannel
from postguard.lookalike.brands import BrandModelBuilder, short_name
from postguard.lookalike.match import Hit, Matcher
from postguard.orgs.models import Organisation

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.settings import Settings


class BrandWatch:
    def __init__(self, *, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._matcher: Matcher | None = None
        self._seen: tuple | None = None
        self._lock = threading.Lock()

    def _registry(self) -> list[tuple[str, str]]:
        with self.db.read_session() as s:
            rows = s.execute(select(Organisation.name, Indicator.display)
                             .join(OfficialChannel, OfficialChannel.org_id == Organisation.id)
                             .join(Indicator, Indicator.id == OfficialChannel.indicator_id)
                             .where(OfficialChannel.status == "verified", OfficialChannel.kind == "domain")
                             .order_by(Organisation.name, Indicator.display)).all()
        return [(name, display) for name, display in rows]

    def refresh(self) -> bool:
        """Rebuild the matcher if the verified domains changed since it was built (True if it was)."""
        registry = self._registry()
        key = tuple(registry)
        with self._lock:
            if self._matcher is not None and key == self._seen:
                return False
        builder = BrandModelBuilder()
        path = self.settings.lookalike_brands_file
        if path is not None:
            try:
                builder.add_file(path)
            except InvalidInput as e:  # the operator's file, not the visitor's input
                raise ConfigurationError(f"POSTGUARD_LOOKALIKE_BRANDS_FILE: {e.detail}", e.errors) from None
        for name, domain in registry:
            builder.add(short_name(name), [domain], where="official channel")
        matcher = Matcher(builder.build())
        with self._lock:
            self._matcher, self._seen = matcher, key
        return True

    def match(self, host: str) -> Hit | None:
        """The brand ``host`` imitates, or None (also for an official domain of any brand)."""
        matcher = self._matcher
        if matcher is None:
            self.refresh()
            matcher = self._matcher
        return matcher.match(host) if matcher is not None else None
