from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One leaf of the access log. ``entry`` is the canonical JSON that was hashed (RFC 8785);
    the other columns repeat parts of it for queries, and ``audit verify`` checks they agree."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "org_id", "subject"),)

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    org_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str | None] = mapped_column(String(80))
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed checkpoint (C2SP tlog-checkpoint, Ed25519 signed note) of the log at ``size``."""

    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditCosignature(Base):
    """A witness's cosignature (C2SP tlog-cosignature, ``cosignature/v1``) on the checkpoint at
    ``size``: the signature line the witness answered, kept to be shown with the checkpoint."""

    __tablename__ = "audit_cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)  # <name>+<hex key ID>
    signed_at: Mapped[int] = mapped_column(BigInteger)  # the cosignature's time, Unix seconds
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
