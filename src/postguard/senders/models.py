"""Message templates operators register, and the notifications they record having sent.

A notification is kept only as a keyed digest (a platform service secret) of the operator, the
template, the recipient's E.164 number and the canonical filled message: no message text, phone
number or waybill is stored. Whoever holds the exact message and the number (a person who proved the
number and pasted the message) can recompute it; nobody can read it back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class SenderTemplate(Base):
    __tablename__ = "sender_templates"
    __table_args__ = (
        # One organisation registers one wording once (compared after normalisation).
        UniqueConstraint("org_id", "fingerprint", name="uq_sender_templates_org_fingerprint"),
        Index("ix_sender_templates_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)  # the operator's own public wording, with {placeholders}
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the normalised wording
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, verified, revoked
    registered_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_by: Mapped[str | None] = mapped_column(String(80))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SentNotification(Base):
    __tablename__ = "sender_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("sender_templates.id", ondelete="CASCADE"), index=True)
    # keyed BLAKE2b (service secret ``senders-notification``) of org, template, number and message
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
