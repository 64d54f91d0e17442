"""Spoken verification codes (pure, no I/O).

A short code per shipment per day that the recipient can ask a caller for: derived, never stored,
never printed on the label. It is a keyed MAC (HMAC-SHA256 under a service secret) of the shipment's
id and the date in Viet Nam, reduced to ``DIGITS`` decimal digits. Only the assigned courier (in
their view) and the recipient (after proving control of the recipient's number) are shown it; the
check endpoint confirms it only for the proven recipient, limited per client and per proven number
(see docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone

DIGITS = 4
VN = timezone(timedelta(hours=7), "ICT")  # Viet Nam has no daylight saving time


def vn_today(now: datetime | None = None) -> date:
    """The calendar date in Viet Nam at ``now`` (UTC+7)."""
    return (now or datetime.now(UTC)).astimezone(VN).date()


def spoken_code(key: bytes, *, shipment_id: int, day: date) -> str:
    """The ``DIGITS``-digit code of one shipment on one day."""
    mac = hmac.new(key, f"spoken-code|{shipment_id}|{day.isoformat()}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**DIGITS:0{DIGITS}d}"


def code_matches(key: bytes, *, shipment_id: int, day: date, code: str) -> bool:
    """Whether ``code`` (spaces and dashes ignored) is the shipment's code on ``day``; constant-time compare."""
    given = "".join(ch for ch in str(code) if ch not in " -.")
    return hmac.compare_digest(given.encode(), spoken_code(key, shipment_id=shipment_id, day=day).encode())
