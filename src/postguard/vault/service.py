"""The vault: envelope keys, field encryption, blind indexes, rotation and shredding.

Key hierarchy::

    KEK (KeyProvider: local key file or an external KMS)
      └─ organisation data key, versioned (vault_keys, purpose "data")  ── counted, rotated
           └─ one data key per record (DEK), stored wrapped next to the record ── destroyed to shred
                └─ field ciphertexts (AES-256-GCM, padded, bound to org/table/column/record)
      └─ organisation index key (vault_keys, purpose "index") ── HMAC blind indexes

Only this package imports cryptography primitives; everything else calls it with keyword-only
arguments and gets one opaque ``DecryptionFailed`` for every ciphertext it cannot open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import ConfigurationError, DecryptionFailed, NotFound, Shredded
from postguard.vault import aead as fa
from postguard.vault.kek import KeyProvider
from postguard.vault.models import VaultKey

DATA, INDEX = "data", "index"
_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class SealedRecord:
    dek: bytes
    key_version: int
    fields: tuple[bytes | None, ...]


class FieldLayout:
    """The personal-data columns of one table, in a fixed order, with their padding buckets.

    Built once per table; sealing then costs no per-field lookups."""

    __slots__ = ("table", "columns", "_ad", "_min")

    def __init__(self, table: str, kinds: dict[str, str]) -> None:
        self.table = table
        self.columns = tuple(kinds)
        self._ad = tuple(fa.context(c) for c in self.columns)
        self._min = tuple(fa.MIN_BUCKET[k] for k in kinds.values())


class RecordSealer:
    """Seals records under one reserved data-key version (see ``Vault.sealer``)."""

    __slots__ = ("org_id", "version", "_aead", "_vbytes", "_org_ctx")

    def __init__(self, org_id: int, version: int, aead: AESGCM) -> None:
        self.org_id = org_id
        self.version = version
        self._aead = aead
        self._vbytes = version.to_bytes(4, "big")
        self._org_ctx = fa.context(org_id)

    def seal(self, values, *, layout: FieldLayout, record_id: str) -> SealedRecord:
        """Seal ``values`` (in ``layout.columns`` order, None for absent) under a fresh record key."""
        rnd = os.urandom(48 + 12 * len(values))
        kid, dek, wn = rnd[:4], rnd[4:36], rnd[36:48]
        prefix = self._org_ctx + fa.context(layout.table, record_id)
        wrapped = b"\x01" + self._vbytes + wn + self._aead.encrypt(wn, kid + dek, b"dek" + prefix)
        enc = AESGCM(dek).encrypt
        pad = fa.pad
        out = []
        off = 48
        for val, ad, minimum in zip(values, layout._ad, layout._min):
            if val is None:
                out.append(None)
            else:
                nonce = rnd[off : off + 12]
                out.append(b"\x01" + kid + nonce + enc(nonce, pad(val.encode(), minimum), prefix + ad))
            off += 12
        return SealedRecord(dek=wrapped, key_version=self.version, fields=tuple(out))


class Vault:
    def __init__(self, provider: KeyProvider, *, nonce_budget: int = 2**32) -> None:
        self.provider = provider
        self.nonce_budget = nonce_budget
        self._keys: dict[tuple[int, str, int], tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    # -- organisation keys -------------------------------------------------------------------
    def _kek_aad(self, org_id: int, purpose: str, version: int) -> bytes:
        return b"orgkey" + fa.context(org_id, purpose, version)

    def create_org_keys(self, session: Session, *, org_id: int) -> None:
        for purpose in (DATA, INDEX):
            self._insert_key(session, org_id=org_id, purpose=purpose, version=1)

    def _insert_key(self, session: Session, *, org_id: int, purpose: str, version: int) -> VaultKey:
        raw = os.urandom(32)
        row = VaultKey(
            org_id=org_id,
            purpose=purpose,
            version=version,
            wrapped=self.provider.wrap(raw, aad=self._kek_aad(org_id, purpose, version)),
            status="active",
            encryptions=0,
        )
        session.add(row)
        session.flush()
        return row

    def _key(self, session: Session, *, org_id: int, purpose: str, version: int) -> bytes:
        ck = (org_id, purpose, version)
        hit = self._keys.get(ck)
        now = time.monotonic()
        if hit and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
        wrapped = session.execute(
            select(VaultKey.wrapped).where(
                VaultKey.org_id == org_id, VaultKey.purpose == purpose, VaultKey.version == version
            )
        ).scalar_one_or_none()
        if wrapped is None:  # unknown or destroyed version
            raise DecryptionFailed()
        raw = self.provider.unwrap(wrapped, aad=self._kek_aad(org_id, purpose, version))
        with self._lock:
            self._keys[ck] = (now, raw)
        return raw

    def _active(self, session: Session, *, org_id: int, purpose: str) -> VaultKey:
        row = session.execute(
            select(VaultKey)
            .where(VaultKey.org_id == org_id, VaultKey.purpose == purpose, VaultKey.status == "active")
            .order_by(VaultKey.version.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            raise ConfigurationError(f"organisation {org_id} has no active {purpose} key")
        return row

    def active_version(self, session: Session, *, org_id: int) -> int:
        return self._active(session, org_id=org_id, purpose=DATA).version

    # -- sealing -----------------------------------------------------------------------------
    def sealer(self, session: Session, *, org_id: int, count: int) -> RecordSealer:
        """Reserve ``count`` encryptions under the active data key, rotating first if the
        budget would be exceeded. The counter is updated atomically in the database, so several
        workers share one budget."""
        if count > self.nonce_budget:
            raise ConfigurationError("a single batch exceeds the nonce budget")
        for _ in range(5):
            row = self._active(session, org_id=org_id, purpose=DATA)
            res = session.execute(
                update(VaultKey)
                .where(
                    VaultKey.id == row.id,
                    VaultKey.status == "active",
                    VaultKey.encryptions + count <= self.nonce_budget,
                )
                .values(encryptions=VaultKey.encryptions + count)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:
                raw = self._key(session, org_id=org_id, purpose=DATA, version=row.version)
                return RecordSealer(org_id, row.version, AESGCM(raw))
            self.rotate(session, org_id=org_id)
        raise ConfigurationError("could not reserve encryptions under a data key")

    def open_record(
        self,
        session: Session,
        *,
        org_id: int,
        table: str,
        record_id: str,
        dek: bytes | None,
        fields: dict[str, bytes | None],
    ) -> dict[str, str | None]:
        """Open a record's fields (``column → ciphertext``); only the access door calls this."""
        if dek is None:
            raise Shredded("This record's personal data has been destroyed.")
        prefix = fa.context(org_id, table, record_id)
        version = fa.key_id_of(dek)
        org_key = AESGCM(self._key(session, org_id=org_id, purpose=DATA, version=version))
        inner = fa.open_(org_key, dek[1:5], dek, b"dek" + prefix)
        kid, field_aead = inner[:4], AESGCM(inner[4:36])
        out: dict[str, str | None] = {}
        for col, blob in fields.items():
            if blob is None:
                out[col] = None
                continue
            pt = fa.open_(field_aead, kid, blob, prefix + fa.context(col))
            try:
                out[col] = fa.unpad(pt).decode("utf-8")
            except UnicodeDecodeError:
                raise DecryptionFailed() from None
        return out

    # -- generic single values (org data key, no per-record key) -----------------------------
    def encrypt(self, value: bytes, *, session: Session, org_id: int, table: str, column: str, record_id: str) -> bytes:
        sealer = self.sealer(session, org_id=org_id, count=1)
        nonce = os.urandom(12)
        aad = fa.context(org_id, table, column, record_id)
        return fa.seal(sealer._aead, sealer._vbytes, nonce, fa.pad(value, 16), aad)

    def decrypt(self, blob: bytes, *, session: Session, org_id: int, table: str, column: str, record_id: str) -> bytes:
        version = fa.key_id_of(blob)
        aead = AESGCM(self._key(session, org_id=org_id, purpose=DATA, version=version))
        return fa.unpad(fa.open_(aead, blob[1:5], blob, fa.context(org_id, table, column, record_id)))

    # -- blind indexes -----------------------------------------------------------------------
    def blind_indexer(self, session: Session, *, org_id: int, bits: int):
        """A function E.164 phone → truncated keyed index (``bits`` bits, fits a signed int32)."""
        key = self._key(session, org_id=org_id, purpose=INDEX, version=1)
        shift = 32 - bits
        digest = hmac.digest

        def index(e164: str) -> int:
            return int.from_bytes(digest(key, b"phone:" + e164.encode(), hashlib.sha256)[:4], "big") >> shift

        return index

    # -- rotation ----------------------------------------------------------------------------
    def rotate(self, session: Session, *, org_id: int) -> int:
        """Create a new data-key version and make it the only active one. Older versions are
        ``retired``: they still open what they sealed until ``rewrap`` moves it on."""
        current = self._active(session, org_id=org_id, purpose=DATA)
        try:
            with session.begin_nested():
                row = self._insert_key(session, org_id=org_id, purpose=DATA, version=current.version + 1)
        except IntegrityError:  # another worker rotated at the same moment: use theirs
            session.expire_all()
            return self._active(session, org_id=org_id, purpose=DATA).version
        session.execute(
            update(VaultKey)
            .where(VaultKey.org_id == org_id, VaultKey.purpose == DATA, VaultKey.version < row.version,
                   VaultKey.status == "active")
            .values(status="retired", retired_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return row.version

    def rewrap_dek(self, session: Session, *, org_id: int, table: str, record_id: str, dek: bytes,
                   sealer: RecordSealer) -> bytes:
        """Re-wrap one record's data key under ``sealer``'s version; fields are untouched."""
        prefix = fa.context(org_id, table, record_id)
        version = fa.key_id_of(dek)
        old = AESGCM(self._key(session, org_id=org_id, purpose=DATA, version=version))
        inner = fa.open_(old, dek[1:5], dek, b"dek" + prefix)
        wn = os.urandom(12)
        return b"\x01" + sealer._vbytes + wn + sealer._aead.encrypt(wn, inner, b"dek" + prefix)

    def destroy_retired(self, session: Session, *, org_id: int, in_use: set[int]) -> list[int]:
        """Destroy (erase) retired data-key versions that no record uses any more."""
        rows = session.execute(
            select(VaultKey).where(VaultKey.org_id == org_id, VaultKey.purpose == DATA,
                                   VaultKey.status == "retired")
        ).scalars().all()
        gone = []
        for r in rows:
            if r.version in in_use:
                continue
            r.wrapped = None
            r.status = "destroyed"
            gone.append(r.version)
            with self._lock:
                self._keys.pop((org_id, DATA, r.version), None)
        session.flush()
        return gone

    def rewrap_org_keys(self, session: Session) -> int:
        """Re-wrap every organisation key under the provider's active KEK (after a KEK rotation)."""
        n = 0
        for row in session.execute(select(VaultKey).where(VaultKey.wrapped.is_not(None))).scalars():
            aad = self._kek_aad(row.org_id, row.purpose, row.version)
            row.wrapped = self.provider.wrap(self.provider.unwrap(row.wrapped, aad=aad), aad=aad)
            n += 1
        session.flush()
        return n

    def key_status(self, session: Session, *, org_id: int) -> list[dict]:
        rows = session.execute(
            select(VaultKey).where(VaultKey.org_id == org_id).order_by(VaultKey.purpose, VaultKey.version)
        ).scalars().all()
        if not rows:
            raise NotFound(f"organisation {org_id} has no keys")
        return [
            {"purpose": r.purpose, "version": r.version, "status": r.status, "encryptions": r.encryptions,
             "budget": self.nonce_budget if r.purpose == DATA else None}
            for r in rows
        ]

