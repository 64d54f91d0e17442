"""What caller identification needs of one-time codes (``postguard.otp``, a layer above it), as a small
protocol the wiring fills in (``postguard.platform``): caller-ID names what it calls, not who."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class CodeSent(Protocol):
    """A code on its way: the challenge handle to send back with it, and its expiry."""

    @property
    def challenge(self) -> str: ...

    @property
    def expires_at(self) -> datetime: ...


class PhoneCodes(Protocol):
    """One-time codes proving control of a phone number, and the proofs they earn
    (``postguard.otp.OtpService``)."""

    def send(self, *, purpose: str, phone: str, client: str, org_id: int | None = None) -> CodeSent: ...

    def verify(self, *, purpose: str, phone: str, code: str, challenge: str | None) -> str: ...

    def issue_proof(self, *, purpose: str, phone: str, ttl: int = 1800) -> str: ...

    def open_proof(self, token: str | None, *, purpose: str) -> str: ...
