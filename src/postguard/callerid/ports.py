"""What caller identification needs of the layers above it, as small protocols the wiring fills in
(``postguard.platform``): one-time codes (``postguard.otp``), a call's transcript read by the message
check's rules (``postguard.messages``) and the operators' registered COD accounts
(``postguard.senders``). Caller-ID names what it calls, not who."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


# -- what the call check reads in a call's transcript, and the COD rule ---------------------------------
@dataclass(frozen=True)
class Said:
    """A red flag in what the caller said: the code of the message check's rule, its weight (the chance,
    on its own, that a call showing it is a scam) and the reason in Vietnamese and English."""

    code: str
    weight: float
    text_vi: str
    text_en: str


@dataclass(frozen=True)
class Payee:
    """An account or e-wallet a caller asked to be paid into: ``type`` ``bank_account`` or ``ewallet``,
    its normal form (``value``, as the scam database and the COD registry key it) and its masked
    ``display``."""

    type: str
    value: str
    display: str


@dataclass(frozen=True)
class TranscriptReading:
    """What a transcript says, read by the message check's rules (``postguard.messages.transcript``):

    - ``flags``: red flags besides what ``asked`` says (remote-control apps, threats, urgency, …);
    - ``asked``: what the caller asked for, in the call check's words (transfer, fee, otp, app, link);
    - ``claims``: who the caller said they were (courier, bank: a bank or an e-wallet);
    - ``payees``: the accounts and wallets named in a call that asks for a payment (at most three);
    - ``amount_vnd``: the first amount named in such a call."""

    flags: tuple[Said, ...] = ()
    asked: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    payees: tuple[Payee, ...] = ()
    amount_vnd: int | None = None


class Transcripts(Protocol):
    """Reads a call's transcript (NFC text of at most ``check.MAX_TRANSCRIPT_BYTES`` bytes); pure: it
    keeps, logs and looks up nothing."""

    def __call__(self, text: str) -> TranscriptReading: ...


class CodAccounts(Protocol):
    """The COD rule's registry (``postguard.senders.service.Senders``): whose registered COD account or
    wallet a payee is, and which operators have a parcel in delivery to a proven number (through the
    door, logged there)."""

    def registered_cod(self, type_: str, value: str) -> str | None:
        """The short name of the operator whose verified COD account or wallet ``value`` (a normal form
        of ``type_`` ``bank_account`` or ``ewallet``) is, or None."""
        ...

    def in_delivery(self, e164: str) -> Sequence[str]:
        """One operator's short name for each parcel in delivery to ``e164``."""
        ...
