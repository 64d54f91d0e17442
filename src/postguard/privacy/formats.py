"""How the privacy answers write times, hashes and references."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_ref(prefix: str) -> str:
    """A fresh reference such as ``DSR-7KQ2M9XA`` (8 characters, no look-alikes)."""
    return prefix + "-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))


def iso(d: datetime | None) -> str | None:
    return d.astimezone(UTC).isoformat() if d else None


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")
