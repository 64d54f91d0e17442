"""What the lookalike scanner knows about a site, as takedown requests need it.

``SiteFacts`` is what a takedown request asks: the imitated brand, its official domains, the
technique, the scanner's reasons and when it first saw the site. ``HitFacts`` answers from the
scanner's hits (``intel_lookalike_hits``) on the site's indicator, with the brand's official domains
from the brand model; ``NoFacts`` (nothing known: the letter and manifest say the brand is not
determined) is for a deployment without the scanner, and for tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from sqlalchemy import select

from postguard.intel.models import Indicator, LookalikeHit

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


class HitFacts:
    """What the lookalike scanner recorded about the site: its earliest hit on the indicator (brand,
    technique, reasons), first seen by any of them; ``official_of(brand)`` gives the brand's
    official domains."""

    def __init__(self, *, official_of: Callable[[str], tuple[str, ...]]) -> None:
        self.official_of = official_of

    def facts(self, session: Session, indicator: Indicator) -> ScannerFacts | None:
        hits = session.execute(select(LookalikeHit).where(LookalikeHit.indicator_id == indicator.id)
                               .order_by(LookalikeHit.first_seen, LookalikeHit.id).limit(MAX_DOMAINS)).scalars().all()
        if not hits:
            return None
        first = hits[0]
        try:
            reasons = tuple(str(r["text"]) for r in json.loads(first.reasons) if isinstance(r, dict) and "text" in r)
        except (ValueError, TypeError):
            reasons = ()
        return ScannerFacts(brand=first.brand, official_domains=self.official_of(first.brand),
                            technique=first.technique, reasons=reasons[:MAX_REASONS],
                            first_seen=min(h.first_seen for h in hits),
                            extra={"campaign": first.campaign, "score": first.score})
