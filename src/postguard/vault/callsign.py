"""Operators' call-signing keys (ES256) and their certificates.

The private key is an organisation vault key of purpose ``callsign``: stored in ``vault_keys`` wrapped
by the KEK (so a KEK rotation re-wraps it with every other organisation key) and cached unwrapped for a
few minutes like the others. The certificate carries the RFC 8226 TNAuthList with the operator's
service provider code. In development it is self-signed; in production the operator installs the
certificate its STI certification authority issued for the same key (see docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import time

from cryptography import x509 as _cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.errors import ConfigurationError
from postguard.vault.es256 import SigningKey
from postguard.vault.models import VaultKey
from postguard.vault.x509 import TN_AUTH_LIST_OID, TNEntry, encode_tn_auth_list

CALLSIGN = "callsign"
_CACHE_SECONDS = 300.0


def issue_certificate(key: SigningKey, *, common_name: str, spc: str, not_before: int, not_after: int) -> bytes:
    """A self-signed certificate (PEM) for ``key`` whose TNAuthList names the service provider code ``spc``."""
    name = _cx509.Name([_cx509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    tn = encode_tn_auth_list(entries=[TNEntry(kind="spc", value=spc)])
    cert = (
        _cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key._key.public_key())
        .serial_number(_cx509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp(not_before, tz=dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(not_after, tz=dt.UTC))
        .add_extension(_cx509.UnrecognizedExtension(_cx509.ObjectIdentifier(TN_AUTH_LIST_OID), tn), critical=False)
        .sign(key._key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def create_signing_key(vault, session: Session, *, org_id: int) -> tuple[SigningKey, int]:
    """A fresh signing key stored as the organisation's next ``callsign`` key version."""
    current = session.execute(
        select(func.max(VaultKey.version)).where(VaultKey.org_id == org_id, VaultKey.purpose == CALLSIGN)
    ).scalar_one()
    version = (current or 0) + 1
    key = SigningKey.generate()
    der = key._key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    session.add(VaultKey(org_id=org_id, purpose=CALLSIGN, version=version, status="active", encryptions=0,
                         wrapped=vault.provider.wrap(der, aad=vault._kek_aad(org_id, CALLSIGN, version))))
    session.flush()
    return key, version


def signing_key(vault, session: Session, *, org_id: int, version: int) -> SigningKey:
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
    key = SigningKey(serialization.load_der_private_key(der, password=None))  # type: ignore[arg-type]
    vault.signing_keys[ck] = (now, key)  # one dict store: atomic, so no lock
    return key
