"""The blocklist's tables: the published entries and the version every worker compares against.

Values are plain on purpose: confirmed scam domains and links are published to resolvers and
browsers, and a sealed indicator value (none today: domains and links are not personal) is opened
once, through the door, when its confirmation is published (``postguard.blocklist.service``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class BlocklistEntry(Base):
    """One published entry: a confirmed domain (blocked in RPZ and hosts files) or link (JSON only)."""

    __tablename__ = "blocklist_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("intel_indicators.id", ondelete="CASCADE"), unique=True)
    type: Mapped[str] = mapped_column(String(16))  # domain, url
    value: Mapped[str] = mapped_column(Text)  # the normal form: an ASCII host, or host/path?query
    host: Mapped[str] = mapped_column(String(253))
    brand: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlocklistVersion(Base):
    """One row (id 1): ``serial`` goes up by one with every change to the entries, in the same
    transaction; workers compare it with the serial of what they rendered (the RPZ SOA serial)."""

    __tablename__ = "blocklist_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["BlocklistEntry", "BlocklistVersion"]
