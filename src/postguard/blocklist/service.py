"""The blocklist: confirmed scam domains and links, published signed in three formats.

- a DNS response policy zone (RPZ): ``$ORIGIN``, ``$TTL``, an SOA whose serial is the blocklist's
  version (it goes up with every change), an NS, then ``host CNAME .`` and ``*.host CNAME .`` for each
  confirmed domain (NXDOMAIN for the domain and every name under it);
- a hosts file: ``0.0.0.0 host`` for each confirmed domain;
- JSON: ``version``, ``generated_at`` and ``entries`` (``type``, ``value``, ``brand``,
  ``confirmed_at``), domains and links alike.

Links are published in JSON only: a confirmed link on a shared host (a free-hosting site, a URL
shortener) must not block the host; a host is blocked only when the domain itself is confirmed.

``blocklist_entries`` is the published list, kept by ``sync``: it runs when an analyst's decision on
a domain or link is committed (``IndicatorDecided``, subscribed by the wiring) and from the
reconcile job (``reconcile``: lapsed confirmations, appeals, a publication that failed). An entry is
listed while its indicator's verdict is ``confirmed``; its value is taken once, when it is listed (a
value stored sealed is opened then, through the door, purpose ``blocklist_publish``). Every change
raises the serial of ``blocklist_version`` in the same transaction, the row locked first, so
concurrent decisions end in the entries of the verdicts as they stand.

Each worker renders the formats from the table and keeps them with their Ed25519 signatures
(``Published``) until the stored serial differs; it looks at the serial at most every
``blocklist_refresh_seconds``. The signing key is the platform's service secret ``blocklist-signing``
(an RFC 8032 seed); the signature covers the exact bytes served.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postguard.blocklist.models import BlocklistEntry, BlocklistVersion
from postguard.crypto import ed25519
from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput
from postguard.events import IndicatorDecided
from postguard.intel.models import Indicator, LookalikeHit
from postguard.intel.store import table_of
from postguard.logging import get_logger

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.intel.store import IntelStore
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings

log = get_logger("postguard.blocklist")

TYPES = ("domain", "url")
FORMATS = {"rpz": "text/dns; charset=utf-8", "hosts": "text/plain; charset=utf-8",
           "json": "application/json"}
KEY_PURPOSE = "blocklist-signing"
VERSION_ROW = 1
# A host as it may appear in a zone file and a hosts file: lower-case LDH labels (underscores too, which
# names in the wild carry), at least two labels, none longer than 63, no leading or trailing hyphen.
HOST = re.compile(r"(?=.{1,253}\Z)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
# Ed25519 SubjectPublicKeyInfo (RFC 8410): this prefix, then the 32-byte key.
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@dataclass(frozen=True)
class Rendered:
    serial: int
    body: bytes
    signature: bytes
    etag: str
    media_type: str


@dataclass(frozen=True)
class Published:
    """What one worker serves for one version: every format, signed."""

    serial: int
    formats: dict[str, Rendered]


@dataclass(frozen=True)
class Entry:
    type: str
    value: str
    host: str
    brand: str | None
    confirmed_at: datetime


def public_key_pem(public_key: bytes) -> str:
    """The PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo) of a raw Ed25519 public key, as OpenSSL reads it."""
    b64 = base64.b64encode(SPKI_PREFIX + public_key).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def verify(body: bytes, signature: bytes, public_key: bytes) -> bool:
    """Whether ``signature`` is the blocklist key's signature of exactly ``body``."""
    return ed25519.verify(body, signature, public_key=public_key)


def url_host(value: str) -> str:
    """The host of a stored link's normal form (``host[:port]/path?query``)."""
    netloc = value.split("/", 1)[0]
    if netloc.startswith("["):
        return netloc.split("]", 1)[0] + "]"
    return netloc.rsplit(":", 1)[0] if ":" in netloc else netloc


def blockable(host: str, zone: str) -> bool:
    """Whether ``host`` can be a name in the zone file (and the hosts file): a valid host whose
    ``*.host.zone.`` fits in a domain name's 255 octets."""
    return bool(HOST.match(host)) and len(host) + len(zone) + 4 <= 253


def render_rpz(entries: list[Entry], *, serial: int, generated_at: datetime, zone: str, ttl: int) -> bytes:
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"; postguard blocklist: confirmed scam domains, response policy zone {zone}",
             f"; version {serial}, generated {stamp}; signature: the .sig beside this file (Ed25519)",
             f"$ORIGIN {zone}.", f"$TTL {ttl}",
             f"@ IN SOA localhost. hostmaster.localhost. ({serial % 2**32} 3600 600 604800 {ttl})",
             "@ IN NS localhost."]
    for host in sorted({e.host for e in entries if e.type == "domain" and blockable(e.host, zone)}):
        lines += [f"{host} CNAME .", f"*.{host} CNAME ."]
    return ("\n".join(lines) + "\n").encode("ascii")


def render_hosts(entries: list[Entry], *, serial: int, generated_at: datetime, zone: str) -> bytes:
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = ["# postguard blocklist: confirmed scam domains (a hosts file cannot block the names under them;",
             "# use the response policy zone for that)", f"# version {serial}, generated {stamp}"]
    lines += [f"0.0.0.0 {h}" for h in sorted({e.host for e in entries if e.type == "domain"
                                              and blockable(e.host, zone)})]
    return ("\n".join(lines) + "\n").encode("ascii")


def render_json(entries: list[Entry], *, serial: int, generated_at: datetime) -> bytes:
    items = [{"type": e.type, "value": e.value, "brand": e.brand,
              "confirmed_at": e.confirmed_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
             for e in sorted(entries, key=lambda e: (e.type, e.value))]
    return orjson.dumps({"version": serial, "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "entries": items}, option=orjson.OPT_SORT_KEYS) + b"\n"


class Blocklist:
    def __init__(self, *, db: Database, settings: Settings, limiter: RateLimiter, store: IntelStore,
                 signing_seed: Callable[[Session], bytes]) -> None:
        """``store``: intelligence's store (``ready``, and ``values_of``, which opens a sealed value
        through the door); ``signing_seed``: the Ed25519 seed, read in the session given (the
        platform's service secret ``blocklist-signing``)."""
        self.db = db
        self.settings = settings
        self.limiter = limiter
        self.store = store
        self._signing_seed = signing_seed
        self._seed: bytes | None = None
        self._lock = threading.Lock()  # one rendering at a time
        self._key_lock = threading.Lock()
        self._published: Published | None = None
        self._checked = 0.0

    # -- keys ------------------------------------------------------------------------------------
    def _key(self) -> bytes:
        seed = self._seed
        if seed is None:
            with self._key_lock:
                seed = self._seed
                if seed is None:
                    with self.db.session() as s:
                        seed = self._seed = self._signing_seed(s)
        return seed

    def public_key(self) -> bytes:
        return ed25519.public_key_bytes(private_key=self._key())

    def key_info(self) -> dict:
        """The public key that signs the blocklist: raw (base64), as PEM, and its id."""
        pub = self.public_key()
        return {"algorithm": "Ed25519", "key_id": key_id(pub), "public_key": base64.b64encode(pub).decode(),
                "pem": public_key_pem(pub)}

    # -- keeping the entries -----------------------------------------------------------------------
    def on_decided(self, event: IndicatorDecided) -> None:
        """A committed decision on an indicator: publish or withdraw it if it is a domain or a link.
        The decision stands if this fails; the reconcile job publishes it within a minute."""
        if event.type not in TYPES:
            return
        try:
            self.sync(event.indicator_id)
        except Exception:
            log.exception("blocklist update failed; the reconcile job will retry", indicator=event.indicator_id)

    def _lock_version(self, s: Session) -> BlocklistVersion:
        """The version row, created if missing and locked (PostgreSQL: ``FOR UPDATE``; SQLite: the
        insert takes the database's write lock): blocklist writers take it first."""
        ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(
            table_of(BlocklistVersion))
        s.execute(ins.values(id=VERSION_ROW, serial=0, changed_at=utcnow()).on_conflict_do_nothing(
            index_elements=["id"]))
        return s.execute(select(BlocklistVersion).where(BlocklistVersion.id == VERSION_ROW)
                         .with_for_update()).scalar_one()

    def sync(self, indicator_id: int) -> bool:
        """List or withdraw one indicator as its verdict now stands; True if the list changed."""
        self.store.ready()
        value: str | None = None
        with self.db.read_session() as s:  # nothing written here: a sealed value is opened before any write
            ind = s.get(Indicator, indicator_id)
            listed = s.execute(select(BlocklistEntry.id).where(BlocklistEntry.indicator_id == indicator_id)
                               ).scalar_one_or_none()
            if ind is not None and ind.type in TYPES and ind.verdict == "confirmed" and listed is None:
                value = self.store.values_of(s, [ind], purpose="blocklist_publish")[0]
        with self.db.session() as s:
            version = self._lock_version(s)
            row = s.execute(select(Indicator.type, Indicator.verdict, Indicator.decision_at)
                            .where(Indicator.id == indicator_id)).one_or_none()
            entry = s.execute(select(BlocklistEntry).where(BlocklistEntry.indicator_id == indicator_id)
                              ).scalar_one_or_none()
            want = row is not None and row.type in TYPES and row.verdict == "confirmed"
            changed = False
            if want and entry is None and value is not None and row is not None:
                brand = s.execute(select(LookalikeHit.brand).where(LookalikeHit.indicator_id == indicator_id)
                                  .order_by(LookalikeHit.id).limit(1)).scalar_one_or_none()
                s.add(BlocklistEntry(indicator_id=indicator_id, type=row.type, value=value,
                                     host=value if row.type == "domain" else url_host(value), brand=brand,
                                     confirmed_at=row.decision_at or utcnow(), changed_at=utcnow()))
                changed = True
            elif not want and entry is not None:
                s.execute(delete(BlocklistEntry).where(BlocklistEntry.id == entry.id))
                changed = True
            if changed:
                s.execute(update(BlocklistVersion).where(BlocklistVersion.id == version.id)
                          .values(serial=BlocklistVersion.serial + 1, changed_at=utcnow())
                          .execution_options(synchronize_session=False))
        if changed:
            self._checked = 0.0  # this worker looks at the serial again on its next request
        return changed

    def reconcile(self) -> dict[str, int]:
        """Bring the entries in line with the stored verdicts: list confirmed domains and links
        that are missing, withdraw those no longer confirmed."""
        with self.db.read_session() as s:
            want = set(s.execute(select(Indicator.id).where(Indicator.type.in_(TYPES),
                                                            Indicator.verdict == "confirmed")).scalars())
            have = set(s.execute(select(BlocklistEntry.indicator_id)).scalars())
        added = sum(self.sync(i) for i in sorted(want - have))
        withdrawn = sum(self.sync(i) for i in sorted(have - want))
        return {"listed": len(want), "added": added, "withdrawn": withdrawn}

    # -- serving ---------------------------------------------------------------------------------
    def _load(self) -> tuple[int, datetime, list[Entry]]:
        for _ in range(5):
            with self.db.read_session() as s:
                first = s.execute(select(BlocklistVersion.serial, BlocklistVersion.changed_at)
                                  .where(BlocklistVersion.id == VERSION_ROW)).one_or_none()
                rows = s.execute(select(BlocklistEntry)).scalars().all()
                again = s.execute(select(BlocklistVersion.serial).where(BlocklistVersion.id == VERSION_ROW)
                                  ).scalar_one_or_none()
            serial = first.serial if first else 0
            if serial == (again or 0):
                # nothing published yet: the epoch, the same on every worker (identical bytes and ETags)
                at = first.changed_at if first else datetime(1970, 1, 1, tzinfo=utcnow().tzinfo)
                return serial, at, [Entry(r.type, r.value, r.host, r.brand, r.confirmed_at) for r in rows]
        raise RuntimeError("the blocklist kept changing while it was read")

    def _stored_serial(self) -> int:
        with self.db.read_session() as s:
            return s.execute(select(BlocklistVersion.serial).where(BlocklistVersion.id == VERSION_ROW)
                             ).scalar_one_or_none() or 0

    def published(self) -> Published:
        """This worker's rendering of the current version (rendered again when the stored serial moved)."""
        cached = self._published
        now = time.monotonic()
        if cached is not None and now - self._checked < self.settings.blocklist_refresh_seconds:
            return cached
        serial = self._stored_serial()
        if cached is not None and cached.serial == serial:
            self._checked = now
            return cached
        with self._lock:
            cached = self._published
            if cached is not None and cached.serial == serial:
                return cached
            serial, at, entries = self._load()
            zone = self.settings.blocklist_rpz_zone
            bodies = {"rpz": render_rpz(entries, serial=serial, generated_at=at, zone=zone,
                                        ttl=self.settings.blocklist_ttl_seconds),
                      "hosts": render_hosts(entries, serial=serial, generated_at=at, zone=zone),
                      "json": render_json(entries, serial=serial, generated_at=at)}
            key = self._key()
            formats = {f: Rendered(serial=serial, body=b, signature=ed25519.sign(b, private_key=key),
                                   etag=f'"{serial}-{f}-{hashlib.sha256(b).hexdigest()[:16]}"', media_type=FORMATS[f])
                       for f, b in bodies.items()}
            self._published = cached = Published(serial=serial, formats=formats)
            self._checked = now
        return cached

    def get(self, fmt: str, *, client: str | None = None) -> Rendered:
        """One format (``rpz``, ``hosts``, ``json``) as served, with its signature; ``client``: who a
        public download counts against (``blocklist_rate``)."""
        if fmt not in FORMATS:
            raise InvalidInput("Unknown format.", [FieldError("format", f"choose from: {', '.join(FORMATS)}")])
        if client is not None:
            self.hit(client)
        return self.published().formats[fmt]

    def hit(self, client: str) -> None:
        self.limiter.hit(self.settings.blocklist_rate, "blocklist", client,
                         message="Too many blocklist downloads from this client; try again later.")
