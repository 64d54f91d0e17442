"""Takedown requests and the history of their status.

A request asks one recipient (the domain's registrar or registry, the hosting provider, or the
platform a site is built on) to take a confirmed scam site down. It stores only what is public or the
platform's own: the site (domains and links are public indicators), the recipient's abuse contact
(an organisation's published address, or one an analyst entered), the analyst's statement, what the
scanner knew, and which evidence files and report texts the pack holds (ids, never their content:
evidence stays vault ciphertext in ``intel_evidence`` and is opened through the door when a pack is
built).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class TakedownRequest(Base):
    __tablename__ = "takedown_requests"
    __table_args__ = (
        UniqueConstraint("indicator_id", "recipient_kind", name="uq_takedown_requests_indicator_kind"),
        Index("ix_takedown_requests_status_sent", "status", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("intel_indicators.id", ondelete="CASCADE"), index=True)
    site: Mapped[str] = mapped_column(String(2048))  # the indicator's normal form (a host, or a link)
    host: Mapped[str] = mapped_column(String(253), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(16))  # registrar, hosting, platform
    recipient_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_url: Mapped[str | None] = mapped_column(String(500))
    contact_source: Mapped[str] = mapped_column(String(60))  # analyst, builtin:<table key>, none
    status: Mapped[str] = mapped_column(String(16), default="draft")
    reason: Mapped[str] = mapped_column(Text, default="")  # the analyst's statement, in the letter
    facts: Mapped[str] = mapped_column(Text, default="null")  # JSON: what the scanner knew at creation
    selection: Mapped[str] = mapped_column(Text, default="{}")  # JSON: evidence ids, left out, report texts
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    pack_sha256: Mapped[str | None] = mapped_column(String(64))  # of the ZIP that was sent
    message_id: Mapped[str | None] = mapped_column(String(250))
    # Optimistic concurrency: every change is ``UPDATE … WHERE id = ? AND version = ?``.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A send in progress: set by a conditional UPDATE, so that one sender alone holds it.
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TakedownEvent(Base):
    """Every change of a request's status (also in the access log), with who, when and a note."""

    __tablename__ = "takedown_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["TakedownEvent", "TakedownRequest"]
