"""The vault: envelope keys, field encryption, blind indexes, rotation and shredding.

Key hierarchy::

    KEK (KeyProvider: local key file or an external KMS)
      └─ organisation data key, versioned (vault_keys, purpose "data")  ── counted, rotated
           └─ one data key per record (DEK), stored wrapped next to the record ── destroyed to shred
                └─ field ciphertexts (AES-256-GCM, padded, bound to org/table/column/record)
      └─ organisation index key (vault_keys, purpose "index") ── keyed BLAKE2b blind indexes

The primitives are ``postguard.crypto``'s (AES-256-GCM and the field layout in ``crypto.aead``);
everything else calls the vault with keyword-only arguments and gets one opaque ``DecryptionFailed``
for every ciphertext it cannot open.

Anyone may seal; only the access door opens. The vault's opening methods are private
(``_open_record``, ``_decrypt``, ``_open_service``); the one way to call them from outside the vault is a
``VaultOpener``, which the wiring (``postguard.platform``) builds once and hands to the door
(``postguard.access.door``). ``tests/unit/test_one_door.py`` fails if any other module opens.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.crypto import aead as fa
from postguard.crypto.aead import Cipher
from postguard.crypto.es256 import SigningKey
from postguard.db.base import utcnow
from postguard.errors import ConfigurationError, DecryptionFailed, NotFound, Shredded
from postguard.vault.kek import KeyProvider
from postguard.vault.models import ServiceKey, VaultKey

DATA, INDEX = "data", "index"
_CACHE_SECONDS = 300.0
_REREADS = 3  # a record re-read this many times at most when its key moved while it was being opened


class _VersionGone(DecryptionFailed):
    """The organisation key version a blob names is destroyed (or never existed)."""


@dataclass(frozen=True)
class SealedRecord:
    dek: bytes | bytearray  # bytearray as sealed (see seal_many), bytes as read back
    key_version: int
    fields: tuple[bytes | bytearray | None, ...]


class FieldLayout:
    """The personal-data columns of one table, in a fixed order, with their padding buckets.

    Built once per table; sealing then costs no per-field lookups."""

    __slots__ = ("table", "columns", "_table_ctx", "_fields")

    def __init__(self, table: str, kinds: dict[str, str]) -> None:
        self.table = table
        self.columns = tuple(kinds)
        self._table_ctx = fa.context(table)
        # Per column: its associated-data suffix and its smallest padding bucket.
        self._fields = tuple((fa.context(c), fa.MIN_BUCKET[k]) for c, k in kinds.items())
        if any(m & (m - 1) for _, m in self._fields):
            raise ValueError("padding minimums must be powers of two")


class RecordSealer:
    """Seals records under one reserved data-key version (see ``Vault.sealer``).

    Each record gets a fresh random 256-bit key (DEK) with a random 4-byte id, wrapped by the
    organisation's data key with associated data ``b"dek" | org | table | record id``; each field is
    AES-256-GCM under the DEK with its own random 96-bit nonce and associated data
    ``org | table | record id | column``, padded as ``aead.pad`` pads (see ``postguard.crypto.aead``).
    """

    __slots__ = ("org_id", "version", "_aead", "_vbytes", "_org_ctx", "_left")

    def __init__(self, org_id: int, version: int, aead: Cipher, *, reserved: int | None = None) -> None:
        self.org_id = org_id
        self.version = version
        self._aead = aead
        self._vbytes = version.to_bytes(4, "big")
        self._org_ctx = fa.context(org_id)
        self._left = reserved  # record keys this sealer may still wrap (None: not counted here)

    def seal(self, values: Sequence[str | None], *, layout: FieldLayout, record_id: str) -> SealedRecord:
        """Seal ``values`` (in ``layout.columns`` order, None for absent) under a fresh record key."""
        dek, *fields = self.seal_many([(record_id, values)], layout=layout)[0]
        if dek is None:  # never: the record key is always sealed
            raise ConfigurationError("a record key was not sealed")
        return SealedRecord(dek=dek, key_version=self.version, fields=tuple(fields))

    def seal_many(self, records: Sequence[tuple[object, Sequence[str | None]]], *,
                  layout: FieldLayout) -> list[tuple[bytearray | None, ...]]:
        """Seal a batch: ``records`` is a sequence of ``(record_id, values)``; returns per record
        ``(wrapped DEK, ciphertext or None per column)``.

        The randomness of the whole batch is drawn with one ``os.urandom`` call and cut into
        distinct pieces: per record the DEK id (4 bytes), the DEK (32), the wrapping nonce (12) and
        one nonce (12) per column. Ciphertexts are ``bytearray``: the sqlite3 driver binds those
        directly, while each ``bytes`` value costs it an adapter lookup (~0.5 µs on Python 3.11),
        and ``bytearray().join`` builds one in a single copy.
        """
        n = len(records)
        if self._left is not None:
            if n > self._left:
                raise ConfigurationError("more records than data-key encryptions reserved")
            self._left -= n
        width = len(layout.columns)
        if any(len(values) != width for _, values in records):
            raise ValueError(f"each record needs {width} values, in layout order")
        rnd = os.urandom((48 + 12 * width) * n)
        head = self._org_ctx + layout._table_ctx
        wrap, wrap_header = self._aead.encrypt, b"\x01" + self._vbytes
        columns = layout._fields
        join = bytearray().join
        out = []
        off = 0
        for record_id, values in records:
            rid = str(record_id).encode()
            prefix = head + len(rid).to_bytes(2, "big") + rid  # fa.context(org, table, record_id)
            wn = rnd[off + 36 : off + 48]
            sealed: list[bytearray | None] = [join((wrap_header, wn, wrap(wn, rnd[off : off + 36], b"dek" + prefix)))]
            enc = fa.cipher(rnd[off + 4 : off + 36]).encrypt
            field_header = b"\x01" + rnd[off : off + 4]
            off += 48
            for value, (ad, minimum) in zip(values, columns, strict=True):
                if value is None:
                    sealed.append(None)
                else:
                    # fa.pad inlined: 0x80 then zeros up to the next power of two, at least minimum.
                    data = value.encode()
                    size = 1 << len(data).bit_length()
                    data = (data + b"\x80").ljust(size if size > minimum else minimum, b"\0")
                    nonce = rnd[off : off + 12]
                    sealed.append(join((field_header, nonce, enc(nonce, data, prefix + ad))))
                off += 12
            out.append(tuple(sealed))
        return out


class Vault:
    def __init__(self, provider: KeyProvider, *, nonce_budget: int = 2**32) -> None:
        self.provider = provider
        self.nonce_budget = nonce_budget
        self._keys: dict[tuple[int, str, int], tuple[float, bytes]] = {}
        # Unwrapped call-signing keys, (org, version) -> (when, key): see ``vault.callsign``. Kept
        # on the vault, like ``_keys``, so that two platforms in one process never share one.
        self.signing_keys: dict[tuple[int, int], tuple[float, SigningKey]] = {}
        self._lock = threading.Lock()
        # Bumped whenever key versions are destroyed: a key unwrapped from a row read before the
        # destruction is not cached after it (see ``_key``).
        self._generation = 0

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
        generation = self._generation
        wrapped = session.execute(
            select(VaultKey.wrapped).where(
                VaultKey.org_id == org_id, VaultKey.purpose == purpose, VaultKey.version == version
            )
        ).scalar_one_or_none()
        if wrapped is None:  # unknown or destroyed version
            raise _VersionGone()
        raw = self.provider.unwrap(wrapped, aad=self._kek_aad(org_id, purpose, version))
        with self._lock:
            if self._generation == generation:  # else it may have been destroyed since it was read
                self._keys[ck] = (now, raw)
        return raw

    def _forget(self, org_id: int, versions: list[int]) -> None:
        with self._lock:
            self._generation += 1
            for v in versions:
                self._keys.pop((org_id, DATA, v), None)

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
            res = cast(CursorResult[Any], session.execute(
                update(VaultKey)
                .where(
                    VaultKey.id == row.id,
                    VaultKey.status == "active",
                    VaultKey.encryptions + count <= self.nonce_budget,
                )
                .values(encryptions=VaultKey.encryptions + count)
                .execution_options(synchronize_session=False)
            ))
            if res.rowcount == 1:
                raw = self._key(session, org_id=org_id, purpose=DATA, version=row.version)
                return RecordSealer(org_id, row.version, fa.cipher(raw), reserved=count)
            self.rotate(session, org_id=org_id)
        raise ConfigurationError("could not reserve encryptions under a data key")

    def _open_record(
        self,
        session: Session,
        *,
        org_id: int,
        table: str,
        record_id: str,
        dek: bytes | None,
        fields: dict[str, bytes | None],
        reload: Callable[[], bytes | None] | None = None,
    ) -> dict[str, str | None]:
        """Open a record's fields (``column → ciphertext``); only the access door calls this (through
        its ``VaultOpener``).

        ``reload`` reads the record's wrapped key (``dek``) again. A re-wrap moves record keys to the
        new data-key version and then destroys the old version, each in its own transaction, so a
        reader that read the record before its batch moved may find the version its ``dek`` names
        destroyed by the time it unwraps it. The record key inside is the same under either version
        and the fields are untouched, so the reader re-reads the wrapped key (at most ``_REREADS``
        times) and opens the same fields with it."""
        prefix = fa.context(org_id, table, record_id)
        for attempt in range(_REREADS + 1):
            if dek is None:
                raise Shredded("This record's personal data has been destroyed.")
            try:
                inner = self._unwrap_dek(session, org_id=org_id, dek=dek, prefix=prefix)
                break
            except _VersionGone:
                fresh = reload() if reload is not None and attempt < _REREADS else dek
                if fresh == dek:  # not moved: the version is really gone
                    raise DecryptionFailed() from None
                dek = fresh
        kid, field_aead = inner[:4], fa.cipher(inner[4:36])
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

    def _decrypt(self, blob: bytes, *, session: Session, org_id: int, table: str, column: str, record_id: str) -> bytes:
        version = fa.key_id_of(blob)
        aead = fa.cipher(self._key(session, org_id=org_id, purpose=DATA, version=version))
        return fa.unpad(fa.open_(aead, blob[1:5], blob, fa.context(org_id, table, column, record_id)))

    # -- blind indexes -----------------------------------------------------------------------
    def blind_indexer(self, session: Session, *, org_id: int, bits: int) -> Callable[[str], int]:
        """A function E.164 phone → truncated keyed index (``bits`` bits, fits a signed int32).

        The index is keyed BLAKE2b (a PRF, and a MAC by design) with a personalisation string for
        domain separation; the keyed state is built once and copied per call (~4x cheaper than HMAC-SHA256,
        which re-keys on every call)."""
        if not 1 <= bits <= 31:
            raise ConfigurationError("blind index bits must be between 1 and 31")
        keyed = hashlib.blake2b(key=self._key(session, org_id=org_id, purpose=INDEX, version=1),
                                digest_size=4, person=b"pg-phone-bidx")
        shift = 32 - bits

        def index(e164: str) -> int:
            h = keyed.copy()
            h.update(e164.encode())
            return int.from_bytes(h.digest(), "big") >> shift

        return index

    def linker(self, session: Session, *, org_id: int, purpose: bytes) -> Callable[[str], int]:
        """A function text → keyed 63-bit digest under the organisation's index key, ``purpose`` (at
        most 8 bytes) separating its uses: whether two of the organisation's records hold the same
        value (an ID number, a holder, a date of birth), without saying which. Untruncated, unlike
        the blind index: equal digests are equal values, so records are grouped without opening them."""
        if not 1 <= len(purpose) <= 8:
            raise ConfigurationError("a link purpose is 1 to 8 bytes")
        keyed = hashlib.blake2b(key=self._key(session, org_id=org_id, purpose=INDEX, version=1),
                                digest_size=8, person=b"pg-link-" + purpose)

        def link(text: str) -> int:
            h = keyed.copy()
            h.update(text.encode())
            return int.from_bytes(h.digest(), "big") >> 1

        return link

    def keyed_digest(self, session: Session, *, purpose: str) -> Callable[[str], bytes]:
        """A function text → 32-byte keyed BLAKE2b digest under the platform service secret for
        ``purpose`` (exact, untruncated: for lookups of values that belong to no organisation, such as
        scam indicators and reporters' client addresses)."""
        keyed = hashlib.blake2b(key=self.service_secret(session, purpose=purpose), digest_size=32,
                                person=b"pg-keyed-digest")

        def digest(text: str) -> bytes:
            h = keyed.copy()
            h.update(text.encode("utf-8"))
            return h.digest()

        return digest

    def kept_digest(self, session: Callable[[], AbstractContextManager[Session]], *, purpose: str
                    ) -> Callable[[str], bytes]:
        """``keyed_digest`` for ``purpose``, its secret read (or created) in a ``session()`` of its own
        on the first call, once whatever the threads, and kept for the service's life."""
        lock = threading.Lock()
        kept: list[Callable[[str], bytes]] = []

        def digest(text: str) -> bytes:
            if not kept:
                with lock:
                    if not kept:
                        with session() as s:
                            kept.append(self.keyed_digest(s, purpose=purpose))
            return kept[0](text)

        return digest

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

    def _unwrap_dek(self, session: Session, *, org_id: int, dek: bytes, prefix: bytes) -> bytes:
        """The record key id and key (``id(4) | key(32)``) from a wrapped DEK, under the org key
        version its header names."""
        org_key = fa.cipher(self._key(session, org_id=org_id, purpose=DATA, version=fa.key_id_of(dek)))
        return fa.open_(org_key, dek[1:5], dek, b"dek" + prefix)

    def rewrap_dek(self, session: Session, *, org_id: int, table: str, record_id: str, dek: bytes,
                   sealer: RecordSealer) -> bytes:
        """Re-wrap one record's data key under ``sealer``'s version; fields are untouched."""
        prefix = fa.context(org_id, table, record_id)
        inner = self._unwrap_dek(session, org_id=org_id, dek=dek, prefix=prefix)
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
        session.flush()
        if gone:  # forgotten now, and again once committed: a reader may unwrap a row read in between
            self._forget(org_id, gone)
            event.listen(session, "after_commit", lambda _s: self._forget(org_id, gone), once=True)
        return gone

    def rewrap_org_keys(self, session: Session) -> int:
        """Re-wrap every organisation key and service secret under the provider's active KEK (after a
        KEK rotation); returns how many organisation keys moved."""
        n = 0
        for row in session.execute(select(VaultKey).where(VaultKey.wrapped.is_not(None))).scalars():
            aad = self._kek_aad(row.org_id, row.purpose, row.version)
            row.wrapped = self.provider.wrap(self.provider.unwrap(cast(bytes, row.wrapped), aad=aad), aad=aad)
            n += 1
        for secret in session.execute(select(ServiceKey)).scalars():
            aad = b"service" + fa.context(secret.purpose)
            secret.wrapped = self.provider.wrap(self.provider.unwrap(secret.wrapped, aad=aad), aad=aad)
        session.flush()
        return n

    def service_secret(self, session: Session, *, purpose: str) -> bytes:
        """A platform-wide 256-bit secret for ``purpose`` (created on first use, wrapped by the KEK);
        several workers asking at once all get the one that was stored first."""
        aad = b"service" + fa.context(purpose)
        wrapped = session.execute(select(ServiceKey.wrapped).where(ServiceKey.purpose == purpose)).scalar_one_or_none()
        if wrapped is None:
            try:
                with session.begin_nested():
                    session.add(ServiceKey(purpose=purpose, wrapped=self.provider.wrap(os.urandom(32), aad=aad)))
            except IntegrityError:
                pass
            wrapped = session.execute(select(ServiceKey.wrapped).where(ServiceKey.purpose == purpose)).scalar_one()
        return self.provider.unwrap(wrapped, aad=aad)

    def seal_service(self, value: str, *, session: Session, purpose: str, record_id: str) -> bytes:
        """Encrypt a small value under the platform secret ``purpose`` (not an organisation key), bound
        to ``record_id``: for data that belongs to no single organisation, such as a data subject's
        contact number on their request."""
        aead = fa.cipher(self.service_secret(session, purpose=purpose))
        return fa.seal(aead, b"\0\0\0\0", os.urandom(12), fa.pad(value.encode("utf-8"), 16),
                       fa.context("service", purpose, record_id))

    def _open_service(self, blob: bytes, *, session: Session, purpose: str, record_id: str) -> str:
        aead = fa.cipher(self.service_secret(session, purpose=purpose))
        pt = fa.unpad(fa.open_(aead, b"\0\0\0\0", blob, fa.context("service", purpose, record_id)))
        try:
            return pt.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed() from None

    @staticmethod
    def record_key_id(blob: bytes | None) -> str | None:
        """The public id (hex) of the record key that sealed a field ciphertext: what a shredding
        receipt names, never the key itself."""
        if not blob or len(blob) < fa.OVERHEAD:
            return None
        return bytes(blob[1:5]).hex()

    def key_status(self, session: Session, *, org_id: int) -> list[dict[str, Any]]:
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


@dataclass(frozen=True)
class SealedValue:
    """One protected value as stored, with what it is bound to: sealed by ``Vault.encrypt`` under the
    organisation's data key (``service`` None), or by ``Vault.seal_service`` under the platform secret
    ``service`` (``org_id`` is then the organisation whose record it is, for the door's decision only).
    Opened as UTF-8 text."""

    org_id: int
    table: str
    column: str
    record_id: str
    blob: bytes | None
    service: str | None = None


@dataclass(frozen=True)
class SealedFields:
    """A record's protected fields (``column → ciphertext``) under its wrapped record key ``dek``;
    ``reload`` reads the wrapped key again (see ``Vault._open_record``)."""

    org_id: int
    table: str
    record_id: str
    dek: bytes | None
    fields: dict[str, bytes | None]
    reload: Callable[[], bytes | None] | None = None


class VaultOpener:
    """The vault's opening side, handed by the wiring to the access door and to nothing else."""

    __slots__ = ("_vault",)

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def open_value(self, session: Session, secret: SealedValue) -> str | None:
        """A value's plaintext, None for an absent value."""
        if secret.blob is None:
            return None
        if secret.service is not None:
            return self._vault._open_service(secret.blob, session=session, purpose=secret.service,
                                             record_id=secret.record_id)
        raw = self._vault._decrypt(secret.blob, session=session, org_id=secret.org_id, table=secret.table,
                                   column=secret.column, record_id=secret.record_id)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed() from None

    def open_bytes(self, session: Session, secret: SealedValue) -> bytes | None:
        """A file's content as sealed (``Vault.encrypt`` of bytes, no service secret), None when absent."""
        if secret.blob is None:
            return None
        if secret.service is not None:
            raise DecryptionFailed()  # service-sealed values are text
        return self._vault._decrypt(secret.blob, session=session, org_id=secret.org_id, table=secret.table,
                                    column=secret.column, record_id=secret.record_id)

    def open_fields(self, session: Session, record: SealedFields) -> dict[str, str | None]:
        return self._vault._open_record(session, org_id=record.org_id, table=record.table,
                                        record_id=record.record_id, dek=record.dek, fields=record.fields,
                                        reload=record.reload)


def versions_sealed_in(session: Session, column: Any, *where: Any, base64_text: bool = False) -> set[int]:
    """The data-key versions that the ciphertexts stored in ``column`` name (a rotation must not
    destroy them). A ciphertext starts ``0x01 | version(4)``; ``base64_text`` for a column holding
    it base64-encoded (its first 8 characters carry those 5 bytes)."""
    if base64_text:
        heads = session.execute(select(func.substr(column, 1, 8)).where(
            column.is_not(None), func.length(column) >= 8, *where).distinct()).scalars()
        return {int.from_bytes(base64.b64decode(h)[1:5], "big") for h in heads}
    ids = session.execute(select(func.substr(column, 2, 4)).where(
        column.is_not(None), func.length(column) > 5, *where).distinct()).scalars()
    return {int.from_bytes(bytes(i), "big") for i in ids}
