"""Scam intelligence tables: indicators, official channels, reports and their evidence, reporters,
appeals and the moderation history.

Personal values (phone numbers, bank accounts, e-wallets; report texts and contacts; evidence files)
are stored only as vault ciphertext. Indicators are found by a keyed digest of their normal form
(``digest``), which reveals nothing without the platform's key; ``display`` is the masked form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class Indicator(Base):
    __tablename__ = "intel_indicators"
    __table_args__ = (Index("ix_intel_indicators_review", "needs_review", "verdict"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    # Keyed BLAKE2b-256 of "type\0normal form" (platform service key "intel-indicator").
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    display: Mapped[str] = mapped_column(String(300))  # masked for personal types
    value: Mapped[str | None] = mapped_column(Text)  # the normal form, public types only
    value_ct: Mapped[bytes | None] = mapped_column(LargeBinary)  # the normal form, personal types (vault)
    domain: Mapped[str | None] = mapped_column(String(253), index=True)  # registrable domain (url, domain)
    qualifier: Mapped[str | None] = mapped_column(String(32))  # BIN, wallet or social platform
    # The verdict as last graded (kept for sharing, feeds and the queue; lookups grade afresh).
    verdict: Mapped[str] = mapped_column(String(16), default="unknown")
    score: Mapped[int] = mapped_column(Integer, default=0)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An analyst's decision: confirmed / disputed / delisted, by whom and on what basis.
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_source: Mapped[str | None] = mapped_column(String(16))
    decision_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_review: Mapped[bool] = mapped_column(default=False)
    review_reason: Mapped[str | None] = mapped_column(String(40))
    lookups: Mapped[int] = mapped_column(BigInteger, default=0)  # lookups that found it (no who)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # workers poll its max
    # Private lookups (postguard.intel.lookups): the first 16 bits of the unkeyed bucket hash of
    # "type\0normal form" (no more: see lookups.STORED_BITS) and the truncated OPRF output under the
    # platform's lookup key. Computed when the indicator is created; only flagged ones are served.
    lookup_bucket: Mapped[int | None] = mapped_column(BigInteger, index=True)
    lookup_output: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class OfficialChannel(Base):
    """A channel an operator says is its own; platform administrators verify it."""

    __tablename__ = "intel_official_channels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("intel_indicators.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # domain, hotline, sms_brand, app, social, cod_account, ewallet
    label: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, verified, revoked
    registered_by: Mapped[str] = mapped_column(String(80))
    verified_by: Mapped[str | None] = mapped_column(String(80))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reporter(Base):
    """One reporting identity (an organisation, or one client of the public service, by keyed
    digest) and its track record, which weights its reports."""

    __tablename__ = "intel_reporters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # org, public, system (a source of the platform's own)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    upheld: Mapped[int] = mapped_column(Integer, default=0)  # reports on indicators later confirmed
    rejected: Mapped[int] = mapped_column(Integer, default=0)  # reports an analyst rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    __tablename__ = "intel_reports"
    __table_args__ = (Index("ix_intel_reports_fingerprint", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("intel_reporters.id", ondelete="CASCADE"), index=True)
    reporter_kind: Mapped[str] = mapped_column(String(16))  # org, citizen, anonymous, scanner
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(32))
    amount_lost_vnd: Mapped[int | None] = mapped_column(BigInteger)
    occurred_on: Mapped[str | None] = mapped_column(String(10))  # ISO date
    description_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # accepted (counts), held (names an official channel: review), merged (a duplicate), rejected.
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("intel_reports.id", ondelete="SET NULL"))
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))  # reporter + indicators + category
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportIndicator(Base):
    __tablename__ = "intel_report_indicators"

    report_id: Mapped[int] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("intel_indicators.id", ondelete="CASCADE"), primary_key=True, index=True)


class Evidence(Base):
    __tablename__ = "intel_evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    content_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appeal(Base):
    __tablename__ = "intel_appeals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("intel_indicators.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, upheld, rejected
    statement_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """Moderation history: every analyst and administrator decision (also in the access log)."""

    __tablename__ = "intel_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_indicators.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("intel_reports.id", ondelete="CASCADE"))
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("intel_appeals.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    from_verdict: Mapped[str | None] = mapped_column(String(16))
    to_verdict: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LookalikeHit(Base):
    """A website the lookalike scanner found imitating a protected brand (``postguard.intel.scanner``).

    ``host`` is plain text on purpose: it is a hostname read from public certificate-transparency
    logs and zone feeds, identifies no person, and analysts and the blocklist need it as it is. Its
    domain indicator (``indicator_id``) carries the verdict; ``status`` follows analysts' decisions
    on it (confirmed, or dismissed by delisting: a dismissed host is never taken in again)."""

    __tablename__ = "intel_lookalike_hits"
    __table_args__ = (Index("ix_intel_lookalike_hits_status", "status", "last_seen"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("intel_indicators.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    domain: Mapped[str] = mapped_column(String(253))  # the registrable domain
    brand: Mapped[str] = mapped_column(String(100))
    technique: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{code, points, text}]
    campaign: Mapped[str | None] = mapped_column(String(200), index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new, confirmed, dismissed
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["Appeal", "Decision", "Evidence", "Indicator", "LookalikeHit", "OfficialChannel", "Report",
           "ReportIndicator", "Reporter"]
