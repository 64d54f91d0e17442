from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow

# Personal-data columns, each stored only as vault ciphertext (``<name>_ct``), with the kind that
# sets its padding bucket (see postguard.crypto.aead.MIN_BUCKET).
PERSONAL_FIELDS = {
    "sender_name": "name",
    "sender_phone": "phone",
    "sender_address": "address",
    "recipient_name": "name",
    "recipient_phone": "phone",
    "recipient_address": "address",
    "goods_description": "text",
}


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("org_id", "waybill", name="uq_shipments_org_waybill"),
        Index("ix_shipments_recipient_bidx", "org_id", "recipient_phone_bidx"),
        Index("ix_shipments_sender_bidx", "org_id", "sender_phone_bidx"),
        Index("ix_shipments_retention", "status", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    waybill: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="created")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Routing and statistics: not personal on their own, kept after shredding.
    recipient_province_code: Mapped[int] = mapped_column(Integer)
    recipient_ward_code: Mapped[int] = mapped_column(Integer)
    cod_amount_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    # The per-shipment data key, wrapped by the organisation's data key. Destroying it shreds.
    dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    dek_key_version: Mapped[int | None] = mapped_column(Integer)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sender_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    sender_phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    sender_address_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    recipient_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    recipient_phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    recipient_address_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    goods_description_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Keyed, truncated blind indexes of the E.164 phones: candidates only, never an identity.
    sender_phone_bidx: Mapped[int | None] = mapped_column(Integer)
    recipient_phone_bidx: Mapped[int | None] = mapped_column(Integer)
    # The masked projection, exactly what a label shows (see postguard.vault.masking).
    sender_name_masked: Mapped[str | None] = mapped_column(String(80))
    recipient_name_masked: Mapped[str | None] = mapped_column(String(80))
    sender_phone_last3: Mapped[str | None] = mapped_column(String(3))
    recipient_phone_last3: Mapped[str | None] = mapped_column(String(3))


class ShipmentEvent(Base):
    """Status history: who moved a shipment from which status to which, and when."""

    __tablename__ = "shipment_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelToken(Base):
    """The opaque token a label's QR code carries (see docs/security.md, "Labels").

    Random, issued at first print, resolvable only by an authenticated just-in-time access check;
    it reveals nothing by itself and is deleted when the shipment is shredded."""

    __tablename__ = "label_tokens"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
