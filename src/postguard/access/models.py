from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow

ROLES = ("admin", "hub", "courier", "cs", "auditor", "dpo", "analyst")
# Roles that exist only at the platform's own organisation (``PG-INTEL``, see ``postguard.intel.service``):
# analysts moderate the scam-intelligence data shared by every operator and citizen.
PLATFORM_ROLES = ("analyst",)


class Staff(Base):
    """A person at an operator. Passwords are argon2id hashes; repeated failures lock the account."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("org_id", "username", name="uq_staff_org_username"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A signed-in browser. Only a digest of the session token is stored."""

    __tablename__ = "web_sessions"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Assignment(Base):
    """A courier carries a shipment during a delivery window; ends on delivery, return or reassignment."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_active", "shipment_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(32))


class PolicyVersion(Base):
    """A version of an operator's confidentiality policy for staff: its text, when it takes effect, how long
    an acknowledgement of it lasts and whether training must be completed too (``postguard.access.duties``)."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("org_id", "version", name="uq_policy_versions_org_version"),
                      Index("ix_policy_versions_org_effective", "org_id", "effective_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_days: Mapped[int] = mapped_column(Integer)
    training_required: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyAcknowledgement(Base):
    """A member of staff's acknowledgement of one policy version (and the training it requires)."""

    __tablename__ = "policy_acknowledgements"
    __table_args__ = (UniqueConstraint("policy_id", "staff_id", name="uq_policy_acknowledgements_policy_staff"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    how: Mapped[str | None] = mapped_column(String(16))  # web, paper
    body_sha256: Mapped[str | None] = mapped_column(String(64))  # the text acknowledged
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training: Mapped[str | None] = mapped_column(String(200))  # what course, where
    recorded_by: Mapped[str] = mapped_column(String(80))
