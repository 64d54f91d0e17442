"""The caller-identification secrets: phone digests and spoken codes, cached after first use.

Both are platform-wide service secrets (created on first use, wrapped by the KEK); they never change,
so one unwrap per process is enough and the hot path costs one HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import threading

from postguard.phones import phone_field  # noqa: F401  (re-exported: the caller-ID modules import it here)

PHONE_SECRET = "callerid-phone"
CODE_SECRET = "callerid-code"
CLIENT_SECRET = "callerid-client"


class CallerIdKeys:
    """Built on first use (``Platform.callerid_keys``), which loads every secret in one short write
    transaction: call it outside an open write transaction (SQLite has one writer)."""

    def __init__(self, platform) -> None:
        self.p = platform
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()
        with self.p.db.session() as s:
            for purpose in (PHONE_SECRET, CODE_SECRET, CLIENT_SECRET):
                self._secrets[purpose] = self.p.vault.service_secret(s, purpose=purpose)
        self._phone_key = self._secrets[PHONE_SECRET]

    def secret(self, purpose: str) -> bytes:
        key = self._secrets.get(purpose)
        if key is None:
            with self.p.db.session() as s:
                key = self.p.vault.service_secret(s, purpose=purpose)
            with self._lock:
                self._secrets[purpose] = key
        return key

    def phone_digest(self, e164: str) -> bytes:
        """Keyed digest of an E.164 number: the only form in which a person's number is looked up."""
        return hmac.digest(self._phone_key, e164.encode(), "sha256")  # HMAC-SHA256 in one call

    def client_digest(self, client: str) -> bytes:
        return hmac.new(self.secret(CLIENT_SECRET), client.encode(), hashlib.sha256).digest()

    @property
    def code_key(self) -> bytes:
        return self.secret(CODE_SECRET)


