"""What the lookalike scanner knows about a site, as takedown requests need it.

The scanner's findings (the imitated brand, its official domains, the technique, its reasons, when
it first saw the site) are not in this package's reach: ``SiteFacts`` is the protocol the wiring
fills in with whatever holds them. Until then ``NoFacts`` answers None and the letter and manifest
say the brand is not known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from postguard.intel.models import Indicator

MAX_REASONS = 20
MAX_TEXT = 300
MAX_DOMAINS = 20


@dataclass(frozen=True)
class ScannerFacts:
    brand: str | None = None
    official_domains: tuple[str, ...] = ()
    technique: str | None = None  # typosquatting, homoglyph, combosquatting, …
    reasons: tuple[str, ...] = ()
    first_seen: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A bounded JSON form (what a request keeps): long texts cut, long lists shortened."""
        def cut(text: str | None) -> str | None:
            return None if text is None else str(text)[:MAX_TEXT]

        return {"brand": cut(self.brand), "official_domains": [str(d)[:253] for d in self.official_domains[:MAX_DOMAINS]],
                "technique": cut(self.technique), "reasons": [str(r)[:MAX_TEXT] for r in self.reasons[:MAX_REASONS]],
                "first_seen": self.first_seen.isoformat() if self.first_seen else None}


class SiteFacts(Protocol):
    def facts(self, session: Session, indicator: Indicator) -> ScannerFacts | None:
        """What the scanner knows about the site ``indicator`` names, or None."""
        ...


class NoFacts:
    """The default: nothing is known beyond the intelligence store."""

    def facts(self, session: Session, indicator: Indicator) -> ScannerFacts | None:
        return None
