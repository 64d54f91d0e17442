"""The caller-identification secrets: phone digests and spoken codes, cached after first use.

Both are platform-wide service secrets (created on first use, wrapped by the KEK); they never change,
so one unwrap per process is enough and the hot path costs one HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import TYPE_CHECKING

from postguard.phones import phone_field  # noqa: F401  (re-exported: the caller-ID modules import it here)

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.vault.service import Vault

# Names of the keys derived from the vault (labels, not secrets).
PHONE_SECRET = "callerid-phone"  # noqa: S105
CODE_SECRET = "callerid-code"  # noqa: S105
CLIENT_SECRET = "callerid-client"  # noqa: S105


class HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one key, with the inner and outer hash states keyed once and
    copied per message: the same digests as ``hmac.digest(key, msg, "sha256")`` at about a third of
    its cost (which fetches the algorithm from OpenSSL on every call)."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(key.translate(bytes(b ^ 0x36 for b in range(256))))
        self._outer = hashlib.sha256(key.translate(bytes(b ^ 0x5C for b in range(256))))

    def digest(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


class CallerIdKeys:
    """Built on first use (``Platform.callerid_keys``), which loads every secret in one short write
    transaction: call it outside an open write transaction (SQLite has one writer)."""

    def __init__(self, *, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()
        with self.db.session() as s:
            for purpose in (PHONE_SECRET, CODE_SECRET, CLIENT_SECRET):
                self._secrets[purpose] = self.vault.service_secret(s, purpose=purpose)
        self._phone_mac = HmacSha256(self._secrets[PHONE_SECRET])

    def secret(self, purpose: str) -> bytes:
        key = self._secrets.get(purpose)
        if key is None:
            with self.db.session() as s:
                key = self.vault.service_secret(s, purpose=purpose)
            with self._lock:
                self._secrets[purpose] = key
        return key

    def phone_digest(self, e164: str) -> bytes:
        """Keyed digest of an E.164 number: the only form in which a person's number is looked up."""
        return self._phone_mac.digest(e164.encode())

    def client_digest(self, client: str) -> bytes:
        return hmac.new(self.secret(CLIENT_SECRET), client.encode(), hashlib.sha256).digest()

    @property
    def code_key(self) -> bytes:
        return self.secret(CODE_SECRET)


