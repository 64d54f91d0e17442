"""Alerts and canaries. No plaintext phone number is stored here: canary numbers are kept as a keyed
digest (for look-ups) and as vault ciphertext (the pool, so a number can be given to a new canary)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow

KINDS = ("break_glass", "canary_reveal", "canary_contact", "anomaly")
SEVERITIES = ("low", "medium", "high", "critical")


class Alert(Base):
    """Something an auditor must look at. Every alert is also an ``alert`` entry of the access log
    (``log_index``); acknowledging it is logged too."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_org_open", "org_id", "acknowledged_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text, default="{}")
    log_index: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    ack_note: Mapped[str | None] = mapped_column(String(500))


class CanaryNumber(Base):
    """A phone number the operator owns, in the pool canaries draw from (one canary each)."""

    __tablename__ = "canary_numbers"
    __table_args__ = (UniqueConstraint("org_id", "phone_digest", name="uq_canary_numbers_org_digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    phone_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    phone_ct: Mapped[bytes] = mapped_column(LargeBinary)
    last3: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Canary(Base):
    """A synthetic shipment whose recipient phone is a pool number given to exactly one channel."""

    __tablename__ = "canaries"
    __table_args__ = (UniqueConstraint("org_id", "phone_digest", name="uq_canaries_org_digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    phone_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    channel: Mapped[str] = mapped_column(String(120))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
