from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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

# Personal-data columns, each stored only as vault ciphertext (``<name>_ct``), with the kind that
# sets its padding bucket (see postguard.crypto.aead.MIN_BUCKET).
PERSONAL_FIELDS = {
    "msisdn": "phone",
    "id_number": "phone",  # at most 20 characters, like a phone: the 16-byte bucket
    "full_name": "name",
    "date_of_birth": "phone",
}


class Subscriber(Base):
    """One SIM as the carrier registered it: who it was activated for (sealed), where and when.

    The audit reads only what is not personal on its own: the findings decided at import
    (``local_flags``), the age at activation, keyed digests that tell whether two records share an
    identity (``id_link``), a holder (``holder_link``) or a date of birth (``dob_link``) without
    saying which, and the activation's shop, time, ICCID and first-day traffic."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("org_id", "iccid", name="uq_subscribers_org_iccid"),
        Index("ix_subscribers_msisdn_bidx", "org_id", "msisdn_bidx"),
        Index("ix_subscribers_id_bidx", "org_id", "id_bidx"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    iccid: Mapped[str] = mapped_column(String(22))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    point_of_sale: Mapped[str | None] = mapped_column(String(40))
    id_type: Mapped[str | None] = mapped_column(String(8))
    gender: Mapped[str | None] = mapped_column(String(1))
    verified: Mapped[str] = mapped_column(String(8))
    has_guardian: Mapped[bool] = mapped_column(Boolean, default=False)
    calls_out_24h: Mapped[int | None] = mapped_column(Integer)
    distinct_callees_24h: Mapped[int | None] = mapped_column(Integer)
    sms_out_24h: Mapped[int | None] = mapped_column(Integer)
    local_flags: Mapped[int] = mapped_column(Integer, default=0)
    age_years: Mapped[int | None] = mapped_column(Integer)
    # The per-record data key, wrapped by the organisation's data key.
    dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    dek_key_version: Mapped[int | None] = mapped_column(Integer)
    msisdn_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    full_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    date_of_birth_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Truncated blind indexes (lookups: candidates only) of the number, and of the ID number (the first
    # bits of its link: one keyed digest per ID number, not two).
    msisdn_bidx: Mapped[int | None] = mapped_column(Integer)
    id_bidx: Mapped[int | None] = mapped_column(Integer)
    # Keyed 63-bit digests for grouping (same identity, same holder, same date of birth).
    id_link: Mapped[int | None] = mapped_column(BigInteger)
    holder_link: Mapped[int | None] = mapped_column(BigInteger)
    dob_link: Mapped[int | None] = mapped_column(BigInteger)
    # The masked projection staff see in the queue.
    msisdn_last3: Mapped[str | None] = mapped_column(String(3))
    name_masked: Mapped[str | None] = mapped_column(String(80))


class SubscriberCase(Base):
    """A SIM in the re-verification queue: why (reason codes), how urgent, where it stands, by when.

    One case per SIM; an audit that finds it again updates its reasons. Transitions are one
    conditional ``UPDATE`` on (state, version), so two clerks cannot both move it."""

    __tablename__ = "subscriber_cases"
    __table_args__ = (Index("ix_subscriber_cases_queue", "org_id", "state", "priority"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="flagged")
    reasons: Mapped[str] = mapped_column(String(400))  # reason codes, comma-separated, most urgent first
    priority: Mapped[int] = mapped_column(Integer)
    scam: Mapped[str | None] = mapped_column(String(16))  # the scam database's verdict on the number
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Set while suspended: a keyed digest of the number under a platform secret, so that the scam
    # check can say a carrier suspended it without opening anything.
    suspended_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)


class SubscriberCaseEvent(Base):
    """A case's history: who moved it from which state to which, when, and the note they left."""

    __tablename__ = "subscriber_case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("subscriber_cases.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
