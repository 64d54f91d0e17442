"""Operators' call-signing keys (ES256), kept by the vault.

The private key is an organisation vault key of purpose ``callsign``: stored in ``vault_keys`` wrapped
by the KEK (so a KEK rotation re-wraps it with every other organisation key) and cached unwrapped for a
few minutes like the others. Its certificate (``crypto.x509.issue_certificate``) carries the RFC 8226
TNAuthList with the operator's service provider code. In development it is self-signed; in production
the operator installs the certificate its STI certification authority issued for the same key (see
docs/security.md).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.crypto.es256 import SigningKey
from postguard.errors import ConfigurationError
from postguard.vault.models import VaultKey

if TYPE_CHECKING:
    from postguard.vault.service import Vault

CALLSIGN = "callsign"
_CACHE_SECONDS = 300.0


def create_signing_key(vault: Vault, session: Session, *, org_id: int) -> tuple[SigningKey, int]:
    """A fresh signing key stored as the organisation's next ``callsign`` key version."""
    current = session.execute(
        select(func.max(VaultKey.version)).where(VaultKey.org_id == org_id, VaultKey.purpose == CALLSIGN)
    ).scalar_one()
    version = (current or 0) + 1
    key = SigningKey.generate()
    wrapped = vault.provider.wrap(key.private_der(), aad=vault._kek_aad(org_id, CALLSIGN, version))
    session.add(VaultKey(org_id=org_id, purpose=CALLSIGN, version=version, status="active", encryptions=0,
                         wrapped=wrapped))
    session.flush()
    return key, version


def signing_key(vault: Vault, session: Session, *, org_id: int, version: int) -> SigningKey:
    """The organisation's ``callsign`` key ``version``, unwrapped (cached for a few minutes)."""
    ck = (org_id, version)
    now = time.monotonic()
    hit = vault.signing_keys.get(ck)
    if hit and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    wrapped = session.execute(
        select(VaultKey.wrapped).where(VaultKey.org_id == org_id, VaultKey.purpose == CALLSIGN,
                                       VaultKey.version == version)
    ).scalar_one_or_none()
    if wrapped is None:
        raise ConfigurationError("the organisation has no call-signing key of that version")
    der = vault.provider.unwrap(wrapped, aad=vault._kek_aad(org_id, CALLSIGN, version))
    key = SigningKey.from_der(der=der)
    vault.signing_keys[ck] = (now, key)  # one dict store: atomic, so no lock
    return key
