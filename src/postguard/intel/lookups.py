"""Private lookups, server side: the k-anonymity bucket, the bare evaluation and the snapshot.

The protocol and its threat model are in ``postguard.intel.lookup_client`` and
docs/private-lookups.md. Here:

* **The key.** The OPRF key pair is derived (RFC 9497 ``DeriveKeyPair``) from the platform service
  secret ``intel-oprf``, stored wrapped by the KEK like every vault key; every worker derives the
  same key, nothing else is stored. ``key_id`` (16 hex digits of SHA-256 of the public key) names it
  in every answer, so that clients drop cached outputs if it ever changes.
* **The index lives in the database**: each indicator row carries its 16-bit bucket and its
  truncated OPRF output, computed once when the indicator is created (``IntelStore.get_or_create``); a bucket is
  one range query over indicators whose stored verdict is flagged (reported and above, not
  delisted), so verdict changes take effect on the next request on every worker. Rows created
  before the index existed are filled in once per process (``backfill``).
* **Evaluations are the oracle**: each one lets the caller test one guess, so bucket and evaluate
  requests share one per-client limit (``POSTGUARD_INTEL_LOOKUP_RATE``) and one global limit
  (``POSTGUARD_INTEL_LOOKUP_GLOBAL_RATE``). Nothing about a lookup is stored or logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from postguard.crypto import ristretto255 as group
from postguard.errors import FieldError, InvalidInput
from postguard.intel import oprf
from postguard.intel.exchange import FLAGGED
from postguard.intel.lookup_client import (
    MAX_BUCKET,
    MIN_PREFIX_BITS,
    TRUNCATED_SIZE,
    bucket_key,
    lookup_input,
)
from postguard.intel.models import Indicator

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.intel.store import IntelStore
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings
    from postguard.vault.service import Vault

KEY_PURPOSE = "intel-oprf"
KEY_INFO = b"postguard/intel/lookup/v1"
SNAPSHOT_FORMAT = "postguard-lookup-snapshot/1"
# Bits of the unkeyed bucket hash stored per indicator, and so the longest prefix served. No more:
# the stored bits are a plain hash of the value, and 2^30 phone numbers are hashed in seconds, so
# a stolen database narrows a flagged number to 2^30 / 2^16 = 16,384 candidates and no further.
STORED_BITS = 16
_HEX = re.compile(r"^[0-9a-f]+$")


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput("The private lookup was refused.", [FieldError(field, message)])


def decode_element(text: object, field: str = "blinded") -> bytes:
    """A base64 (standard or URL-safe, padding optional) 32-byte element, or ``InvalidInput``."""
    if not isinstance(text, str) or not 40 <= len(text) <= 46:
        raise _bad(field, "a base64 ristretto255 element (32 bytes)")
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(field, "a base64 ristretto255 element (32 bytes)") from None
    if len(raw) != oprf.ELEMENT_SIZE:
        raise _bad(field, "a base64 ristretto255 element (32 bytes)")
    try:
        return group.check_element(raw)
    except group.GroupError:
        raise _bad(field, "not a canonical ristretto255 element (or the identity)") from None


def parse_prefix(text: object) -> tuple[int, int]:
    """``(prefix, bits)`` from a hex prefix of 2 to 4 digits (8 to ``STORED_BITS`` bits)."""
    lo, hi = MIN_PREFIX_BITS // 4, STORED_BITS // 4
    if not isinstance(text, str) or not lo <= len(text) <= hi or not _HEX.match(text.lower()):
        raise _bad("prefix", f"{lo} to {hi} hexadecimal digits ({MIN_PREFIX_BITS} to {STORED_BITS} bits)")
    return int(text, 16), 4 * len(text)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class PrivateLookups:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, limiter: RateLimiter,
                 store: Callable[[], IntelStore]) -> None:
        """``store``: the intelligence store, whose values a backfill reads (reached when needed: the
        store itself enters every new indicator here)."""
        self.db = db
        self.settings = settings
        self.vault = vault
        self.limiter = limiter
        self._store = store
        self._lock = threading.Lock()
        self._keys: tuple[bytes, bytes] | None = None
        self._backfilled = False
        self._snapshot: tuple[str, dict[str, object]] | None = None

    # -- key and index entries -----------------------------------------------------------------
    def _key_pair(self) -> tuple[bytes, bytes]:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    with self.db.session() as s:
                        seed = self.vault.service_secret(s, purpose=KEY_PURPOSE)
                    self._keys = oprf.derive_key_pair(seed, KEY_INFO)
        return self._keys

    def ready(self) -> None:
        """Create (once) the key, before any session is open (on SQLite a write inside another
        session would wait on the database lock)."""
        self._key_pair()

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self._key_pair()[1]).hexdigest()[:16]

    def entry(self, type_: str, value: str) -> tuple[int, bytes]:
        """``(bucket, truncated OPRF output)`` of one normal form: what its indicator row stores (the
        bucket at ``STORED_BITS`` bits)."""
        data = lookup_input(type_, value)
        return bucket_key(data) >> (32 - STORED_BITS), oprf.evaluate(self._key_pair()[0], data)[:TRUNCATED_SIZE]

    def backfill(self) -> int:
        """Fill in the entries of indicators stored before the index existed (their personal normal
        forms are decrypted for this, inside the service, and never leave it). Returns how many."""
        self.ready()
        self._store().ready()
        done = 0
        while True:
            with self.db.session() as s:
                rows = s.execute(select(Indicator).where(Indicator.lookup_output.is_(None))
                                 .order_by(Indicator.id).limit(500)).scalars().all()
                # opened through the door (purpose ``lookup_index``, one entry per batch) before any write
                values = self._store().values_of(s, rows, purpose="lookup_index")
                for ind, value in zip(rows, values, strict=True):
                    ind.lookup_bucket, ind.lookup_output = self.entry(ind.type, value)
                done += len(rows)
            if len(rows) < 500:
                break
        self._backfilled = True
        return done

    def _ensure(self) -> None:
        if not self._backfilled:
            self.backfill()

    # -- answers -------------------------------------------------------------------------------
    def _limit(self, client: str) -> None:
        s = self.settings
        self.limiter.hit(s.intel_lookup_rate, "intel-lookup", client,
                           message="Too many private lookups from this client; try again later.")
        self.limiter.hit(s.intel_lookup_global_rate, "intel-lookup-all",
                           message="The private lookup service is busy; try again later.")

    def evaluate(self, *, blinded: str, client: str) -> dict:
        """Evaluate one blinded element (for a client that holds a snapshot)."""
        element = decode_element(blinded)
        self._limit(client)
        evaluated = oprf.blind_evaluate(self._key_pair()[0], element)
        return {"evaluated": b64(evaluated), "key_id": self.key_id}

    def bucket(self, *, prefix: str, blinded: str, client: str) -> dict:
        """Evaluate one blinded element and return every flagged output in the named bucket."""
        value, bits = parse_prefix(prefix)
        element = decode_element(blinded)
        self._limit(client)
        self._ensure()
        sk = self._key_pair()[0]
        lo, hi = value << (STORED_BITS - bits), (value + 1) << (STORED_BITS - bits)
        with self.db.read_session() as s:
            outputs = [o for o in s.execute(
                select(Indicator.lookup_output)
                .where(Indicator.lookup_bucket >= lo, Indicator.lookup_bucket < hi,
                       Indicator.verdict.in_(FLAGGED), Indicator.lookup_output.is_not(None))
                .limit(MAX_BUCKET + 1)).scalars() if o is not None]
        if len(outputs) > MAX_BUCKET:
            raise _bad("prefix", "this bucket is too large: send a longer prefix")
        evaluated = oprf.blind_evaluate(sk, element)
        return {"evaluated": b64(evaluated), "outputs": [b64(o) for o in sorted(set(outputs))],
                "prefix_bits": bits, "key_id": self.key_id}

    def snapshot_version(self) -> str:
        """A stamp that changes whenever the flagged set may have changed."""
        with self.db.read_session() as s:
            count, last = s.execute(select(func.count(), func.max(Indicator.updated_at))
                                    .where(Indicator.lookup_output.is_not(None))).one()
        raw = f"{self.key_id}|{count}|{last.isoformat() if last else '-'}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def snapshot(self, *, client: str) -> dict:
        """Every flagged truncated output, sorted and concatenated: membership can be decided
        offline once the client holds the OPRF output of its value (one evaluation each)."""
        self.limiter.hit(self.settings.intel_snapshot_rate, "intel-snapshot", client,
                           message="Too many snapshot downloads from this client; try again later.")
        self._ensure()
        version = self.snapshot_version()
        cached = self._snapshot
        if cached is not None and cached[0] == version:
            return cached[1]
        with self.db.read_session() as s:
            outputs = sorted({o for o in s.execute(
                select(Indicator.lookup_output)
                .where(Indicator.verdict.in_(FLAGGED), Indicator.lookup_output.is_not(None))).scalars()
                if o is not None})
        body = {"format": SNAPSHOT_FORMAT, "version": version, "key_id": self.key_id,
                "truncated_size": TRUNCATED_SIZE, "count": len(outputs), "outputs": b64(b"".join(outputs))}
        self._snapshot = (version, body)
        return body
