"""One-time codes that prove control of a phone number, and the short-lived proofs they earn.

A code is 6 digits, sent through the ``Notifier``; only a keyed digest of the phone and a keyed MAC of
the code are stored, so the table holds no phone number and no usable code. Codes expire, allow a
few attempts, and are used once. Sending is rate limited per number and per client; every worker
shares the table and the limiter, so the limits hold across workers.

Every code goes with a *challenge*: a random handle returned only to whoever asked for the code
(only its SHA-256 is stored). Checking a code needs the handle, and the guesses count against that
challenge alone, so a stranger who knows a number can spend the attempts of the codes they asked for
themselves, never those of the owner's code.

A verified code earns a *proof*: an AES-GCM token (service key) binding the purpose, the E.164 number
and an expiry. The number inside is encrypted, so the token can live in a cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import CursorResult, ForeignKey, Integer, LargeBinary, String, delete, update
from sqlalchemy.orm import Mapped, mapped_column

from postguard.crypto import aead
from postguard.db.base import Base, BigId, UTCDateTime, utcnow
from postguard.errors import DecryptionFailed, FieldError, InvalidInput, Unauthenticated
from postguard.i18n import N_, SMS_LANGUAGE, texts
from postguard.metrics import Meter
from postguard.phones import phone_field

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.ratelimit import RateLimiter
    from postguard.vault.service import Vault

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
CHALLENGE_MAX = 64  # characters of a challenge handle accepted (a fresh one has 32)
# Sending limits. One client may send at most 10 codes an hour, and at most 3 in 10 minutes to one
# number for one purpose; one number receives at most 12 codes an hour for one purpose from every
# client together, more than any single client may send, so one client alone cannot keep the owner
# from getting a code.
SEND_PER_CLIENT = "10/hour"
SEND_PER_NUMBER_AND_CLIENT = "3/10 minutes"
SEND_PER_NUMBER = "12/hour"
# What a code is for, said in its text message (the message catalogs, in SMS_LANGUAGE).
PURPOSE_TEXT = {
    "recipient": N_("sms_purpose_recipient"),
    "courier_phone": N_("sms_purpose_courier_phone"),
    "parcel": N_("sms_purpose_parcel"),
}


class OtpChallenge(Base):
    """One code sent to one number for one purpose (no phone, no code: keyed digests only)."""

    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    phone_digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    # SHA-256 of the random handle returned to whoever asked for the code; a code is checked only
    # together with its handle.
    challenge_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, index=True)
    code_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Sent:
    """What the requester gets back: the challenge handle (to send with the code) and its expiry."""

    challenge: str
    expires_at: datetime


def challenge_digest(handle: str) -> bytes:
    """What the table keeps of a challenge handle."""
    return hashlib.sha256(handle.encode()).digest()


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class SmsSender(Protocol):
    """Where codes are sent (``postguard.notify.Notifier``, a peer: handed in by the wiring)."""

    def send_sms(self, phone: str, text: str) -> None: ...


class OtpService:
    def __init__(self, *, db: Database, vault: Vault, limiter: RateLimiter, notifier: SmsSender,
                 meter: Meter | None = None) -> None:
        """``meter``: counts codes sent and checked, by purpose (``postguard_otp_*``)."""
        meter = meter or Meter()
        self._sent = meter.counter("postguard_otp_codes_sent", "One-time codes sent, by purpose", ("purpose",))
        self._checked = meter.counter("postguard_otp_verifications", "One-time codes checked, by purpose and "
                                      "outcome (verified or failed)", ("purpose", "outcome"))
        self.db = db
        self.vault = vault
        self.limiter = limiter
        self.notifier = notifier

    def _key(self, session, name: str) -> bytes:
        return self.vault.service_secret(session, purpose=f"otp-{name}")

    def send(self, *, purpose: str, phone: str, client: str, org_id: int | None = None) -> Sent:
        """Send a fresh code and return its challenge handle. Limits: 10 codes an hour per client, 3
        per 10 minutes per number, purpose and client, and 12 an hour per number and purpose."""
        if purpose not in PURPOSE_TEXT:
            raise InvalidInput("Unknown code purpose.", [FieldError("purpose", ", ".join(PURPOSE_TEXT))])
        e164 = phone_field(phone, "phone")
        with self.db.session() as s:
            digest = self.vault.keyed_digest(s, purpose="otp-phone")(e164)
            key = self._key(s, "code")
        lim, number = self.limiter, digest.hex()
        lim.hit(SEND_PER_CLIENT, "otp-client", client, message="Too many codes requested from here; try again later.")
        lim.hit(SEND_PER_NUMBER_AND_CLIENT, "otp-phone-client", purpose, number, client,
                message="Too many codes sent to this number; wait a few minutes.")
        lim.hit(SEND_PER_NUMBER, "otp-phone", purpose, number,
                message="Too many codes sent to this number; try again later.")
        code = f"{secrets.randbelow(10**6):06d}"
        handle = secrets.token_urlsafe(24)
        with self.db.session() as s:
            ch = OtpChallenge(purpose=purpose, phone_digest=digest, challenge_digest=challenge_digest(handle),
                              org_id=org_id, expires_at=utcnow() + CODE_TTL,
                              code_mac=hmac.new(key, f"{purpose}|{code}".encode(), hashlib.sha256).digest())
            s.add(ch)
            s.flush()
            sent = Sent(handle, ch.expires_at)
        _ = texts(SMS_LANGUAGE)
        self.notifier.send_sms(e164, _("sms_code").format(code=code, purpose=_(PURPOSE_TEXT[purpose])))
        self._sent.inc(purpose)
        return sent

    def verify(self, *, purpose: str, phone: str, code: str, challenge: str | None) -> str:
        """Check a code against the live challenge whose handle is ``challenge``, sent to this number
        for this purpose; returns the E.164 number. Every guess, right or wrong, first claims one of
        that challenge's 5 attempts with a single conditional ``UPDATE ... RETURNING`` (increment and
        check in one row-locked statement), and is compared only if the claim succeeded: however many
        guesses arrive at once, at most 5 are compared. Guesses never touch another challenge, so a
        stranger cannot spend the attempts of a code sent to someone else. One message for every
        failure (wrong code, missing, unknown or foreign handle, expired, used)."""
        e164 = phone_field(phone, "phone")
        fail = Unauthenticated("The code is wrong or has expired; ask for a new one.")
        code = (code or "").strip()
        known = purpose if purpose in PURPOSE_TEXT else "other"
        if not isinstance(challenge, str) or not 0 < len(challenge) <= CHALLENGE_MAX:
            self._checked.inc(known, "failed")
            raise fail
        now = utcnow()
        with self.db.session() as s:
            digest = self.vault.keyed_digest(s, purpose="otp-phone")(e164)
            mac = hmac.new(self._key(s, "code"), f"{purpose}|{code}".encode(), hashlib.sha256).digest()
            claimed = s.execute(
                update(OtpChallenge)
                .where(OtpChallenge.challenge_digest == challenge_digest(challenge),
                       OtpChallenge.purpose == purpose, OtpChallenge.phone_digest == digest,
                       OtpChallenge.used_at.is_(None), OtpChallenge.expires_at > now,
                       OtpChallenge.attempts < MAX_ATTEMPTS)
                .values(attempts=OtpChallenge.attempts + 1).returning(OtpChallenge.id, OtpChallenge.code_mac)
                .execution_options(synchronize_session=False)
            ).first()
            ok = (claimed is not None and len(code) == 6 and code.isdigit()
                  and hmac.compare_digest(mac, claimed.code_mac))
            if ok and claimed is not None:  # used once: the conditional update wins for exactly one caller
                ok = cast(CursorResult[Any], s.execute(
                    update(OtpChallenge).where(OtpChallenge.id == claimed.id, OtpChallenge.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))).rowcount == 1
        if not ok:
            self._checked.inc(known, "failed")
            raise fail
        self._checked.inc(known, "verified")
        return e164

    def forget(self, session, e164: str) -> int:
        """Delete every challenge sent to this number (a data-subject deletion), in the caller's
        transaction."""
        digest = self.vault.keyed_digest(session, purpose="otp-phone")(e164)
        return session.execute(delete(OtpChallenge).where(OtpChallenge.phone_digest == digest)
                               .execution_options(synchronize_session=False)).rowcount

    def purge_spent(self, *, now: datetime | None = None) -> int:
        """Delete challenges that can no longer be answered (expired or used): the digest of a number
        and when a code went to it are not kept past their use."""
        now = now or utcnow()
        with self.db.session() as s:
            return cast(CursorResult[Any], s.execute(
                delete(OtpChallenge).where((OtpChallenge.expires_at <= now) | OtpChallenge.used_at.is_not(None))
                .execution_options(synchronize_session=False))).rowcount

    # -- proofs ---------------------------------------------------------------------------------
    def issue_proof(self, *, purpose: str, phone: str, ttl: int = 1800) -> str:
        with self.db.session() as s:
            key = self._key(s, "proof")
        nonce = os.urandom(12)
        body = json.dumps({"p": purpose, "n": phone, "e": int(time.time()) + ttl}, separators=(",", ":")).encode()
        return _b64(nonce + aead.cipher(key).encrypt(nonce, body, b"otp-proof"))

    def open_proof(self, token: str | None, *, purpose: str) -> str:
        """The E.164 number a live proof was issued for; ``Unauthenticated`` for anything else."""
        fail = Unauthenticated("Confirm your phone number with a one-time code first.")
        if not token:
            raise fail
        with self.db.session() as s:
            key = self._key(s, "proof")
        try:
            raw = _unb64(token)
            body = json.loads(aead.decrypt(aead.cipher(key), raw[:12], raw[12:], b"otp-proof"))
        except (DecryptionFailed, ValueError, TypeError):
            raise fail from None
        if body.get("p") != purpose or body.get("e", 0) < time.time():
            raise fail
        return body["n"]

