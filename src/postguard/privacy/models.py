from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class DataSubjectRequest(Base):
    """A person's request about their data at one operator (access export, deletion, correction).

    The person is known only by a keyed digest of their phone number; the number itself is kept
    encrypted (platform secret) to send notices, and erased when the request is completed.
    Deadlines are computed from ``received_at`` (see ``postguard.privacy.deadlines``)."""

    __tablename__ = "dsr_requests"
    __table_args__ = (Index("ix_dsr_requests_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="received")
    subject_digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    contact_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(80))
    # Deletion: what was shredded (waybills, record-key ids; JSON, no personal data) and the index
    # of the receipt entry in the access log once appended.
    shredded: Mapped[str | None] = mapped_column(Text)
    receipt_index: Mapped[int | None] = mapped_column(BigInteger)
    deferred: Mapped[int] = mapped_column(Integer, default=0)


class BreachIncident(Base):
    """A personal-data breach at one operator, with the 72-hour clock to notify the authority."""

    __tablename__ = "breach_incidents"
    __table_args__ = (Index("ix_breach_incidents_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    affected_estimate: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_by: Mapped[str | None] = mapped_column(String(80))


class AuditMention(Base):
    """Which access-log entries name which parcel (as subject or in ``details.waybills``): built from
    the log, entry by entry, so that a parcel's history is an index lookup, not a scan of the log. It
    holds nothing the log does not; ``audit verify`` stays the authority."""

    __tablename__ = "audit_mentions"

    org_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    waybill: Mapped[str] = mapped_column(String(40), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditMentionCursor(Base):
    """How many log entries ``audit_mentions`` covers (one row, created by the migration)."""

    __tablename__ = "audit_mention_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
