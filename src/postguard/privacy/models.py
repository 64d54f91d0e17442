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


class LawfulRequest(Base):
    """A request for personal data from an authority (police, a court, the procuracy, the cyber-security
    centre), with its legal basis, its two approvals (the DPO and an administrator), the disclosure made
    through the door, and whether the people concerned were informed or why that was deferred
    (``postguard.privacy.lawful``). The phone numbers in its scope are sealed under a platform secret."""

    __tablename__ = "lawful_requests"
    __table_args__ = (Index("ix_lawful_requests_org_received", "org_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    authority_kind: Mapped[str] = mapped_column(String(16))
    authority_name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(500))
    case_number: Mapped[str] = mapped_column(String(100))
    scope_waybills: Mapped[str] = mapped_column(Text)  # JSON list
    scope_phones_ct: Mapped[bytes | None] = mapped_column(LargeBinary)  # JSON list, sealed
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="received")
    dpo_approved_by: Mapped[str | None] = mapped_column(String(80))
    dpo_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    admin_approved_by: Mapped[str | None] = mapped_column(String(80))
    admin_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosed_by: Mapped[str | None] = mapped_column(String(80))
    disclosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosed_count: Mapped[int | None] = mapped_column(Integer)
    disclosure_index: Mapped[int | None] = mapped_column(BigInteger)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    notice: Mapped[str | None] = mapped_column(String(16))  # informed, deferred
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_reason: Mapped[str | None] = mapped_column(Text)
