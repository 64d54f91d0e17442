"""Courier call identification: registered courier phones, proxy numbers, masked calls, call
intents, operators' call-signing certificates and scam reports.

Phone numbers of people (couriers, recipients) are stored only as a keyed digest (HMAC-SHA256 under a
service secret, for lookups) plus vault ciphertext (for the one view or route that needs the number).
Proxy numbers belong to the operator and are stored as they are.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow

PHONE_STATUSES = ("pending", "verified")


class CourierPhone(Base):
    """A phone number a courier calls customers from. Only verified numbers count in a check."""

    __tablename__ = "courier_phones"
    __table_args__ = (
        UniqueConstraint("staff_id", "phone_digest", name="uq_courier_phones_staff_digest"),
        Index("ix_courier_phones_digest", "phone_digest", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    phone_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    phone_ct: Mapped[bytes] = mapped_column(LargeBinary)
    phone_last3: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProxyNumber(Base):
    """One number of an operator's masked-calling pool (the operator's own number, not personal data)."""

    __tablename__ = "proxy_numbers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaskedCall(Base):
    """A masked-calling session: (courier, recipient, shipment) bound to a proxy number until the
    delivery ends or the window closes. Each side's number: keyed digest + vault ciphertext (the
    ciphertexts are erased, ``b""``, when the shipment is shredded)."""

    __tablename__ = "masked_calls"
    __table_args__ = (Index("ix_masked_calls_proxy_live", "proxy_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    proxy_id: Mapped[int] = mapped_column(ForeignKey("proxy_numbers.id", ondelete="CASCADE"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    courier_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    recipient_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    courier_phone_ct: Mapped[bytes] = mapped_column(LargeBinary)
    recipient_phone_ct: Mapped[bytes] = mapped_column(LargeBinary)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(32))


class CallIntent(Base):
    """A call a courier started from their view, with the PASSporT issued for it. The token names the
    recipient's number (``dest.tn``), so ``passport`` holds it encrypted (base64 of a vault ciphertext
    under the operator's data key, bound to the origid), and ``""`` once the shipment is shredded."""

    __tablename__ = "call_intents"
    __table_args__ = (Index("ix_call_intents_shipment", "shipment_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    origid: Mapped[str] = mapped_column(String(36), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    masked_call_id: Mapped[int | None] = mapped_column(ForeignKey("masked_calls.id", ondelete="SET NULL"))
    recipient_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    passport: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallCertificate(Base):
    """An operator's call-signing certificate; its private key is a vault key (purpose ``callsign``)."""

    __tablename__ = "call_certificates"
    __table_args__ = (UniqueConstraint("org_id", "version", name="uq_call_certificates_org_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    certificate_pem: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScamReport(Base):
    """A citizen's one-step report of a caller who is not a courier (consumed by scam intelligence)."""

    __tablename__ = "scam_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    asked: Mapped[str] = mapped_column(String(80), default="")
    amount_vnd: Mapped[int | None] = mapped_column(BigInteger)
    claimed_operator: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    verdict: Mapped[str] = mapped_column(String(24))
    client_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
