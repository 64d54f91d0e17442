"""The brands a lookup protects: the brands file (``POSTGUARD_LOOKALIKE_BRANDS_FILE``) and the
official-channel registry's verified domains, each organisation a brand under its short name. A link
or domain that imitates one of them is answered ``lookalike`` (``postguard.intel.answers``).

The matcher is built at first use and rebuilt by the server's periodic job
(``lookalike_refresh_seconds``) when the verified domains changed, so a domain verified on one
worker is protected (and never flagged) on every worker within that interval."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.errors import ConfigurationError, InvalidInput
from postguard.intel.models import Indicator, OfficialChannel
from postguard.lookalike.brands import BrandModel, BrandModelBuilder, short_name
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
        self._brands: tuple[Matcher, tuple[tuple[str, tuple[str, ...]], ...]] | None = None
        self._lock = threading.Lock()

    def _registry(self) -> list[tuple[str, str]]:
        with self.db.read_session() as s:
            rows = s.execute(select(Organisation.name, Indicator.display)
                             .join(OfficialChannel, OfficialChannel.org_id == Organisation.id)
                             .join(Indicator, Indicator.id == OfficialChannel.indicator_id)
                             .where(OfficialChannel.status == "verified", OfficialChannel.kind == "domain")
                             .order_by(Organisation.name, Indicator.display)).all()
        return [(name, display) for name, display in rows]

    def model(self, extra: Path | None = None) -> BrandModel:
        """The brand model: the brands file of the settings (and ``extra``, another brands file),
        then the registry's verified domains, each organisation a brand under its short name."""
        return self._build(self._registry(), extra)

    def _build(self, registry: list[tuple[str, str]], extra: Path | None = None) -> BrandModel:
        builder = BrandModelBuilder()
        for path, where in ((self.settings.lookalike_brands_file, "POSTGUARD_LOOKALIKE_BRANDS_FILE"),
                            (extra, None)):
            if path is None:
                continue
            if where is None:
                builder.add_file(path)  # the caller's own file: its errors are input errors
                continue
            try:
                builder.add_file(path)
            except InvalidInput as e:  # the operator's file, not the visitor's input
                raise ConfigurationError(f"{where}: {e.detail}", e.errors) from None
        for name, domain in registry:
            builder.add(short_name(name), [domain], where="official channel")
        return builder.build()

    def refresh(self) -> bool:
        """Rebuild the matcher if the verified domains changed since it was built (True if it was)."""
        registry = self._registry()
        key = tuple(registry)
        with self._lock:
            if self._matcher is not None and key == self._seen:
                return False
        matcher = Matcher(self._build(registry))
        with self._lock:
            self._matcher, self._seen = matcher, key
        return True

    def official_of(self, brand: str) -> tuple[str, ...]:
        """The official domains of the brand named ``brand`` (as hits name it), or none."""
        if self._matcher is None:
            self.refresh()
        matcher = self._matcher
        if matcher is not None:
            for b in matcher.model.brands:
                if b.name == brand:
                    return tuple(b.official)
        return ()

    def brands(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every protected brand: its name and official registrable domains (main site first)."""
        if self._matcher is None:
            self.refresh()
        matcher = self._matcher
        if matcher is None:
            return ()
        kept = self._brands
        if kept is None or kept[0] is not matcher:
            kept = self._brands = (matcher, tuple((b.name, tuple(b.official)) for b in matcher.model.brands))
        return kept[1]

    def match(self, host: str) -> Hit | None:
        """The brand ``host`` imitates, or None (also for an official domain of any brand)."""
        matcher = self._matcher
        if matcher is None:
            self.refresh()
            matcher = self._matcher
        return matcher.match(host) if matcher is not None else None
