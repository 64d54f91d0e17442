"""Feedback on the message check: messages people said were judged wrongly, and agreed to send.

A case is one message (found again by a keyed digest of its text, so that the same text sent twice is
one case counted twice); its text is vault ciphertext under the platform organisation's data key
(``text_ct``, opened only through the door). Each submission keeps what the person said the check
answered, what they think is right, what the check answered when the server checked again, the
model's version and an optional comment (sealed too). Cases are deleted whole, with their
submissions, once ``POSTGUARD_MESSAGE_FEEDBACK_RETENTION_DAYS`` have passed since the last one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from postguard.db.base import Base, BigId, UTCDateTime, utcnow


class FeedbackCase(Base):
    __tablename__ = "message_feedback_cases"
    __table_args__ = (
        Index("ix_message_feedback_cases_status_last", "status", "last_submitted_at"),
        Index("ix_message_feedback_cases_last_submitted_at", "last_submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    # keyed BLAKE2b (service secret ``message-feedback``) of the kind and the text, spaces collapsed
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # message or qr (a QR payload)
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)  # vault ciphertext of the text as first sent
    language: Mapped[str] = mapped_column(String(2))
    # What the check answered when the server checked the text again, at the latest submission.
    system_label: Mapped[str] = mapped_column(String(16))
    system_score: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(40))
    submissions: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, accepted, rejected
    final_label: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic concurrency: a review is ``UPDATE … WHERE id = ? AND (status = 'pending' | version = ?)``.
    version: Mapped[int] = mapped_column(Integer, default=1)


class FeedbackSubmission(Base):
    __tablename__ = "message_feedback_submissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("message_feedback_cases.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(16))  # what the person says the check answered
    expected: Mapped[str] = mapped_column(String(16))  # what the person thinks is right
    system_label: Mapped[str] = mapped_column(String(16))  # what the server's own check answered
    system_score: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(40))
    comment_ct: Mapped[bytes | None] = mapped_column(LargeBinary)  # vault ciphertext, or none
    submitted_by: Mapped[str] = mapped_column(String(80))  # public, or an API key (never an address)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["FeedbackCase", "FeedbackSubmission"]
