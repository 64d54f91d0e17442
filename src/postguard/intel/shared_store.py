"""The shared-indicator store: indicators imported from partners' STIX bundles, and the provider
that feeds TAXII, exports and transfer screening until the intelligence store exists.

Scam indicators (numbers, accounts, links used by scammers) are what the product exists to share;
they are not customers' personal data and are kept in clear so they can be matched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow
from postguard.intel.sharing import SharedIndicator, SharedSighting


class SharedIndicatorRow(Base):
    __tablename__ = "shared_indicators"
    __table_args__ = (UniqueConstraint("type", "value", name="uq_shared_indicators_type_value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    verdict: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    reports: Mapped[int] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(Text, default="")
    tlp: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def shared(self) -> SharedIndicator:
        return SharedIndicator(type=self.type, value=self.value, verdict=self.verdict, score=self.score,
                               first_seen=self.first_seen, last_seen=self.last_seen, reports=self.reports,
                               categories=tuple(c for c in self.categories.split() if c), tlp=self.tlp)


class SharedIndicatorStore:
    """Reads and writes the table; the platform's ``intel_feed()`` and ``intel_lookup()`` use it."""

    def __init__(self, platform) -> None:
        self.p = platform

    def indicators(self) -> list[SharedIndicator]:
        with self.p.db.read_session() as s:
            rows = s.execute(select(SharedIndicatorRow).order_by(SharedIndicatorRow.id)).scalars().all()
            return [r.shared() for r in rows]

    def sightings(self) -> list[SharedSighting]:
        return []

    def lookup(self, type_: str, value: str) -> SharedIndicator | None:
        with self.p.db.read_session() as s:
            row = s.execute(select(SharedIndicatorRow).where(SharedIndicatorRow.type == type_,
                                                             SharedIndicatorRow.value == value)).scalar_one_or_none()
            return row.shared() if row else None

    def upsert(self, indicators: list[SharedIndicator], *, source: str, actor: str = "cli") -> dict[str, int]:
        """Store indicators in one transaction (all or nothing). An indicator already present is
        replaced only by a newer version (a later ``last_seen``)."""
        added = updated = unchanged = 0
        with self.p.db.session() as s:
            for ind in indicators:
                row = s.execute(select(SharedIndicatorRow).where(SharedIndicatorRow.type == ind.type,
                                                                 SharedIndicatorRow.value == ind.value)
                                ).scalar_one_or_none()
                if row is None:
                    row = SharedIndicatorRow(type=ind.type, value=ind.value)
                    s.add(row)
                    added += 1
                elif row.last_seen >= ind.last_seen:
                    unchanged += 1
                    continue
                else:
                    updated += 1
                row.verdict, row.score, row.reports, row.tlp = ind.verdict, ind.score, ind.reports, ind.tlp
                row.first_seen, row.last_seen = ind.first_seen, ind.last_seen
                row.categories, row.source, row.updated_at = " ".join(ind.categories), source[:200], utcnow()
        self.p.audit.append(actor=actor, action="intel_import", subject="shared_indicators",
                            details={"added": added, "updated": updated, "unchanged": unchanged})
        return {"added": added, "updated": updated, "unchanged": unchanged}
