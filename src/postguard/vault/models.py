from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class VaultKey(Base):
    """An organisation's key, one row per version, wrapped by the key-encryption key.

    purpose ``data`` wraps per-shipment data keys (and is rotated: ``encryptions`` counts its
    use against the nonce budget); purpose ``index`` keys the phone blind indexes.
    """

    __tablename__ = "vault_keys"
    __table_args__ = (UniqueConstraint("org_id", "purpose", "version", name="uq_vault_keys_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="active")
    encryptions: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServiceKey(Base):
    """Platform-wide secrets (e.g. the access log's signing and MAC keys), wrapped by the KEK."""

    __tablename__ = "service_keys"

    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
