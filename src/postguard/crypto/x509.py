"""X.509 for STIR/SHAKEN: certificate loading, chain validation, the RFC 8226 TNAuthList, and the
self-signed certificate of an operator's call-signing key.

Everything that needs ``cryptography`` for certificates lives here; ``callerid.stir.passport`` and
``callerid.calls`` call these functions and never see a ``cryptography`` object. Failures raise the
small ``X509Error`` family below, which the caller maps onto its own (``PostguardError``) errors.

A small strict DER reader does two jobs ``cryptography`` does not:

* it reads the serial number and the SubjectPublicKeyInfo *before* ``cryptography`` parses the
  certificate, so a certificate with a zero or negative serial number (which RFC 5280 forbids, which
  pyca/cryptography 48+ warns about and a future release refuses) is refused here with a clear error,
  whichever version is installed;
* it decodes the TNAuthList extension (OID 1.3.6.1.5.5.7.1.26), which ``cryptography`` hands over as
  raw bytes (``UnrecognizedExtension.value``)::

      TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry
      TNEntry ::= CHOICE {
        spc   [0] ServiceProviderCode,          -- IA5String
        range [1] TelephoneNumberRange,         -- SEQUENCE { start TelephoneNumber, count INTEGER (2..MAX), ... }
        one   [2] TelephoneNumber }             -- IA5String (SIZE (1..15)) (FROM ("0123456789#*"))

  The RFC 8226 module uses EXPLICIT tags: ``[0]`` wraps a complete IA5String (``a0 03 16 01 31``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

from cryptography import x509 as _cx509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from postguard.crypto.es256 import ES256KeyError, SigningKey, VerifyingKey

TN_AUTH_LIST_OID = "1.3.6.1.5.5.7.1.26"
MAX_CHAIN_DEPTH = 6
CACHE_ENTRIES = 512  # certificate blobs (and validated paths) kept parsed; each is a few KiB


class X509Error(ValueError):
    """Base of the certificate errors raised by this module."""


class CertificateLoadError(X509Error):
    """Bytes that are not one well-formed, loadable certificate."""


class TNAuthListError(X509Error):
    """A TNAuthList extension that does not follow the RFC 8226 ASN.1."""


class ChainError(X509Error):
    """No valid path from a certificate to a trusted CA."""


# --------------------------------------------------------------------------------------------------
# A strict DER reader (definite, minimal lengths; low tag numbers only).


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """The element at ``pos``: (tag byte, content start, content end)."""
    if pos + 2 > end:
        raise X509Error("truncated DER")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise X509Error("DER high tag numbers are not supported")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise X509Error("indefinite length is not DER")
    else:
        n = first & 0x7F
        if n > 4 or pos + n > end:
            raise X509Error("bad DER length")
        if data[pos] == 0:
            raise X509Error("non-minimal DER length")
        length = int.from_bytes(data[pos:pos + n], "big")
        if length < 0x80:
            raise X509Error("non-minimal DER length")
        pos += n
    if pos + length > end:
        raise X509Error("truncated DER")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos, end)
        out.append((tag, s, e))
        pos = e
    return out


def _integer(data: bytes, s: int, e: int) -> int:
    if e <= s:
        raise X509Error("empty DER INTEGER")
    if e - s > 1 and (
        (data[s] == 0x00 and data[s + 1] < 0x80) or (data[s] == 0xFF and data[s + 1] >= 0x80)
    ):
        raise X509Error("non-minimal DER INTEGER")
    return int.from_bytes(data[s:e], "big", signed=True)


def _ia5(data: bytes, s: int, e: int) -> str:
    raw = data[s:e]
    if any(b > 0x7F for b in raw):
        raise X509Error("IA5String with non-ASCII bytes")
    return raw.decode("ascii")


def _single(data: bytes, start: int, end: int) -> tuple[int, int, int]:
    kids = _children(data, start, end)
    if len(kids) != 1:
        raise X509Error("expected exactly one DER element")
    return kids[0]


@dataclass(frozen=True)
class RawCertificate:
    """What the DER reader alone sees: serial, SubjectPublicKeyInfo, extensions (oid → (critical,
    value))."""

    serial: int
    spki: bytes
    extensions: dict[str, tuple[bool, bytes]]


def _raw_certificate(der: bytes) -> RawCertificate:
    """Serial, SubjectPublicKeyInfo and extensions, read without ``cryptography``."""
    tag, cs, ce = _tlv(der, 0, len(der))
    if tag != 0x30 or ce != len(der):
        raise X509Error("not a DER certificate")
    parts = _children(der, cs, ce)
    if len(parts) != 3 or parts[0][0] != 0x30:
        raise X509Error("not a DER certificate")
    tbs = _children(der, parts[0][1], parts[0][2])
    i = 1 if tbs and tbs[0][0] == 0xA0 else 0  # [0] EXPLICIT version, optional
    if len(tbs) < i + 6 or tbs[i][0] != 0x02:
        raise X509Error("not a DER certificate")
    serial = _integer(der, tbs[i][1], tbs[i][2])
    spki_tag, spki_s, spki_e = tbs[i + 5]
    if spki_tag != 0x30:
        raise X509Error("not a DER certificate")
    # The SPKI element including its own tag and length: it starts where the subject ends.
    spki = der[tbs[i + 4][2]:spki_e]
    extensions: dict[str, tuple[bool, bytes]] = {}
    for tag, s, e in tbs[i + 6:]:
        if tag != 0xA3:
            continue
        seq_tag, ss, se = _single(der, s, e)
        if seq_tag != 0x30:
            raise X509Error("bad extensions")
        for ext_tag, es, ee in _children(der, ss, se):
            if ext_tag != 0x30:
                raise X509Error("bad extension")
            fields = _children(der, es, ee)
            if len(fields) not in (2, 3) or fields[0][0] != 0x06 or fields[-1][0] != 0x04:
                raise X509Error("bad extension")
            critical = len(fields) == 3 and der[fields[1][1]:fields[1][2]] == b"\xff"
            oid = _oid(der[fields[0][1]:fields[0][2]])
            if oid in extensions:
                raise X509Error("duplicate extension")
            extensions[oid] = (critical, der[fields[-1][1]:fields[-1][2]])
    return RawCertificate(serial=serial, spki=spki, extensions=extensions)


def _oid(raw: bytes) -> str:
    if not raw or raw[-1] & 0x80:
        raise X509Error("bad OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for b in raw:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


# --------------------------------------------------------------------------------------------------
# TNAuthList (RFC 8226 §9)

_TN = re.compile(r"[0-9#*]{1,15}")


@dataclass(frozen=True)
class TNEntry:
    """One TNAuthList entry: a service provider code, a number range, or one number."""

    kind: Literal["spc", "range", "one"]
    value: str  # the SPC, the first number of the range, or the number
    count: int | None = None  # numbers in the range (range only)

    def covers(self, tn: str) -> bool:
        """Whether the canonical (digits-only) number ``tn`` is within this entry."""
        if self.kind == "one":
            return tn == self.value
        if self.kind == "range" and self.count is not None:
            if not (tn.isdigit() and self.value.isdigit() and len(tn) == len(self.value)):
                return False
            first = int(self.value)
            return first <= int(tn) < first + self.count
        return False


@dataclass(frozen=True)
class TNAuthList:
    entries: tuple[TNEntry, ...]

    @property
    def spcs(self) -> tuple[str, ...]:
        return tuple(e.value for e in self.entries if e.kind == "spc")

    @cached_property
    def has_numbers(self) -> bool:
        return any(e.kind in ("range", "one") for e in self.entries)

    def covers(self, tn: str) -> bool:
        """Whether any entry covers ``tn`` (``TNEntry.covers``), from an index built once."""
        ones, ranges = self._index
        if tn in ones:
            return True
        if ranges and tn.isdigit():
            n, size = int(tn), len(tn)
            for length, first, end in ranges:
                if length == size and first <= n < end:
                    return True
        return False

    @cached_property
    def _index(self) -> tuple[frozenset[str], tuple[tuple[int, int, int], ...]]:
        # the single numbers, and (digits, first, first + count) of each range, as TNEntry.covers reads them
        ones = frozenset(e.value for e in self.entries if e.kind == "one")
        ranges = tuple((len(e.value), int(e.value), int(e.value) + e.count) for e in self.entries
                       if e.kind == "range" and e.count is not None and e.value.isdigit())
        return ones, ranges


def parse_tn_auth_list(*, der: bytes) -> TNAuthList:
    """Decode a DER TNAuthorizationList; raise ``TNAuthListError`` for anything else."""
    try:
        tag, s, e = _tlv(der, 0, len(der))
        if tag != 0x30 or e != len(der):
            raise X509Error("TNAuthList is not a DER SEQUENCE")
        entries: list[TNEntry] = []
        for etag, es, ee in _children(der, s, e):
            if etag == 0xA0:  # spc [0] EXPLICIT IA5String
                t, vs, ve = _single(der, es, ee)
                if t != 0x16:
                    raise X509Error("spc is not an IA5String")
                spc = _ia5(der, vs, ve)
                if not spc:
                    raise X509Error("empty spc")
                entries.append(TNEntry(kind="spc", value=spc))
            elif etag == 0xA1:  # range [1] EXPLICIT SEQUENCE { start, count, ... }
                t, rs, re_ = _single(der, es, ee)
                if t != 0x30:
                    raise X509Error("range is not a SEQUENCE")
                fields = _children(der, rs, re_)
                if len(fields) < 2 or fields[0][0] != 0x16 or fields[1][0] != 0x02:
                    raise X509Error("range must hold start (IA5String) and count (INTEGER)")
                start = _ia5(der, fields[0][1], fields[0][2])
                count = _integer(der, fields[1][1], fields[1][2])
                if not _TN.fullmatch(start):
                    raise X509Error("range start is not a TelephoneNumber")
                if count < 2:
                    raise X509Error("range count must be at least 2")
                entries.append(TNEntry(kind="range", value=start, count=count))
            elif etag == 0xA2:  # one [2] EXPLICIT IA5String
                t, vs, ve = _single(der, es, ee)
                if t != 0x16:
                    raise X509Error("one is not an IA5String")
                tn = _ia5(der, vs, ve)
                if not _TN.fullmatch(tn):
                    raise X509Error("one is not a TelephoneNumber")
                entries.append(TNEntry(kind="one", value=tn))
            else:
                raise X509Error(f"unknown TNEntry tag 0x{etag:02x}")
        if not entries:
            raise X509Error("TNAuthList is empty")
    except TNAuthListError:
        raise
    except X509Error as exc:
        raise TNAuthListError(f"malformed TNAuthList: {exc}") from None
    return TNAuthList(entries=tuple(entries))


def encode_tn_auth_list(*, entries: Sequence[TNEntry]) -> bytes:
    """DER for a TNAuthList (for issuing test and demo certificates)."""

    def tlv(tag: int, content: bytes) -> bytes:
        n = len(content)
        if n < 0x80:
            return bytes([tag, n]) + content
        ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([tag, 0x80 | len(ln)]) + ln + content

    def integer(v: int) -> bytes:
        return tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big", signed=True))

    body = b""
    for e in entries:
        if e.kind == "spc":
            body += tlv(0xA0, tlv(0x16, e.value.encode("ascii")))
        elif e.kind == "range":
            body += tlv(0xA1, tlv(0x30, tlv(0x16, e.value.encode("ascii")) + integer(e.count or 0)))
        else:
            body += tlv(0xA2, tlv(0x16, e.value.encode("ascii")))
    return tlv(0x30, body)


# --------------------------------------------------------------------------------------------------
# Certificates

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


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


def split_pem_certificates(*, data: bytes) -> list[bytes]:
    """The DER of each ``CERTIFICATE`` block of a PEM bundle, in order (other blocks are skipped)."""
    out = []
    for m in _PEM.finditer(data):
        if m.group(1) != b"CERTIFICATE":
            continue
        body = b"".join(m.group(2).split())
        try:
            out.append(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            raise CertificateLoadError("a PEM block is not valid base64") from None
    if not out:
        raise CertificateLoadError("no PEM CERTIFICATE block found")
    return out


def _ders(data: bytes) -> list[bytes]:
    if not isinstance(data, bytes | bytearray):
        raise CertificateLoadError("certificate must be bytes (PEM or DER)")
    data = bytes(data)
    if b"-----BEGIN" in data:
        return split_pem_certificates(data=data)
    return [data]


@dataclass(frozen=True, eq=False)
class Certificate:
    """A loaded certificate with the few facts STIR/SHAKEN needs."""

    der: bytes = field(repr=False)
    serial: int
    subject: str
    issuer: str
    not_before: int
    not_after: int
    is_ca: bool
    path_length: int | None
    can_sign_certificates: bool
    tn_auth_list_der: bytes | None = field(repr=False)
    _cert: _cx509.Certificate = field(repr=False)

    def valid_at(self, now: int) -> bool:
        return self.not_before <= now <= self.not_after

    def es256_key(self) -> VerifyingKey:
        """The subject's P-256 public key; ``CertificateLoadError`` for any other key."""
        key = self._es256_key
        if isinstance(key, VerifyingKey):
            return key
        raise CertificateLoadError("certificate key is not EC P-256") from key

    @cached_property
    def _es256_key(self) -> VerifyingKey | Exception:
        # Worked out once per certificate: the key (or why there is none) never changes.
        try:
            return VerifyingKey(self._cert.public_key())  # type: ignore[arg-type]
        except (ES256KeyError, ValueError, UnsupportedAlgorithm) as exc:
            return exc

    def tn_auth_list(self) -> TNAuthList | None:
        """The parsed TNAuthList, ``None`` when the extension is absent."""
        parsed = self._tn_auth_list
        if isinstance(parsed, TNAuthListError):
            raise TNAuthListError(str(parsed))
        return parsed

    @cached_property
    def _tn_auth_list(self) -> TNAuthList | TNAuthListError | None:
        if self.tn_auth_list_der is None:
            return None
        try:
            return parse_tn_auth_list(der=self.tn_auth_list_der)
        except TNAuthListError as exc:
            return exc


def _load_der(der: bytes) -> Certificate:
    try:
        raw = _raw_certificate(der)
    except X509Error as exc:
        raise CertificateLoadError(f"malformed certificate: {exc}") from None
    if raw.serial <= 0:
        raise CertificateLoadError("certificate serial number is not positive (RFC 5280 §4.1.2.2)")
    try:
        cert = _cx509.load_der_x509_certificate(der)
        exts = cert.extensions
        try:
            bc = exts.get_extension_for_class(_cx509.BasicConstraints).value
            is_ca, path_length = bc.ca, bc.path_length
        except _cx509.ExtensionNotFound:
            is_ca, path_length = False, None
        try:
            ku = exts.get_extension_for_class(_cx509.KeyUsage).value
            can_sign = bool(ku.key_cert_sign)
        except _cx509.ExtensionNotFound:
            can_sign = True
        tn = raw.extensions.get(TN_AUTH_LIST_OID)
        return Certificate(
            der=der,
            serial=raw.serial,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            not_before=int(cert.not_valid_before_utc.timestamp()),
            not_after=int(cert.not_valid_after_utc.timestamp()),
            is_ca=is_ca,
            path_length=path_length,
            can_sign_certificates=can_sign,
            tn_auth_list_der=tn[1] if tn else None,
            _cert=cert,
        )
    except (ValueError, TypeError, UnsupportedAlgorithm, _cx509.InvalidVersion) as exc:
        raise CertificateLoadError("certificate could not be loaded") from exc


@lru_cache(maxsize=CACHE_ENTRIES)
def _load_blob(data: bytes) -> tuple[Certificate, ...]:
    # A pure function of the bytes: the same blob always gives the same (immutable) certificates, so
    # a verifier that sees one signer's certificate for every call parses it once. Failures are not
    # cached (lru_cache does not keep exceptions) and are raised afresh each time.
    return tuple(_load_der(d) for d in _ders(data))


def _load(data: bytes) -> tuple[Certificate, ...]:
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray):
            raise CertificateLoadError("certificate must be bytes (PEM or DER)")
        data = bytes(data)
    return _load_blob(data)


def load_certificate(*, data: bytes) -> Certificate:
    """Exactly one certificate from PEM or DER bytes (parsed once per distinct blob, then cached)."""
    certs = _load(data)
    if len(certs) != 1:
        raise CertificateLoadError("expected exactly one certificate")
    return certs[0]


def load_certificates(*, data: bytes) -> list[Certificate]:
    """Every certificate of a PEM bundle (or the one DER certificate); cached like ``load_certificate``."""
    return list(_load(data))


def raw_certificate(*, certificate: bytes) -> RawCertificate:
    """Serial, SubjectPublicKeyInfo and extensions read with the DER reader alone: works on
    certificates that ``cryptography`` refuses, such as one with serial number 0. Nothing is
    validated beyond the DER structure; use it to inspect, never to trust."""
    ders = _ders(certificate)
    if len(ders) != 1:
        raise CertificateLoadError("expected exactly one certificate")
    try:
        return _raw_certificate(ders[0])
    except X509Error as exc:
        raise CertificateLoadError(f"malformed certificate: {exc}") from None


def subject_public_key_info(*, certificate: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo (see ``raw_certificate``)."""
    return raw_certificate(certificate=certificate).spki


def _issuer_problem(child: Certificate, parent: Certificate, now: int) -> str | None:
    if child._cert.issuer != parent._cert.subject:
        return "issuer name does not match"
    if not parent.valid_at(now):
        return "issuing CA certificate is expired or not yet valid"
    if not parent.is_ca:
        return "issuing certificate is not a CA"
    if not parent.can_sign_certificates:
        return "issuing CA may not sign certificates (keyUsage)"
    try:
        child._cert.verify_directly_issued_by(parent._cert)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return "certificate signature does not verify with the issuing CA's key"
    return None


def validate_chain(*, leaf: Certificate, intermediates: Sequence[Certificate] = (),
                   anchors: Sequence[Certificate], now: int) -> list[Certificate]:
    """The path ``[leaf, intermediates..., anchor]`` valid at ``now``, or ``ChainError``.

    Each issuer must match by name, be valid at ``now``, be a CA (basicConstraints) allowed to sign
    certificates (keyUsage, when present), respect its pathLenConstraint, and its key must verify the
    certificate below it. The leaf's own validity is the caller's to check.
    """
    if not anchors:
        raise ChainError("no trusted CA given")
    key = (leaf.der, tuple(c.der for c in intermediates), tuple(c.der for c in anchors))
    path = _paths.get(key)
    if path is not None and all(c.valid_at(now) for c in path[1:]):
        # The signatures, names and constraints along a path do not depend on time: a path found
        # before is still a path whenever every certificate on it is within its validity period.
        return list(path)
    found = _find_path(leaf, intermediates, anchors, now)
    _paths.put(key, tuple(found))
    return found


_PathKey = tuple[bytes, tuple[bytes, ...], tuple[bytes, ...]]  # DER of leaf, intermediates, anchors


class _PathCache:
    """A small thread-safe LRU of validated paths keyed by the DER of leaf, intermediates and anchors."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[_PathKey, tuple[Certificate, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _PathKey) -> tuple[Certificate, ...] | None:
        with self._lock:
            path = self._items.get(key)
            if path is not None:
                self._items.move_to_end(key)
            return path

    def put(self, key: _PathKey, path: tuple[Certificate, ...]) -> None:
        with self._lock:
            self._items[key] = path
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_paths = _PathCache(CACHE_ENTRIES)


def clear_caches() -> None:
    """Forget every parsed certificate and validated path (tests; a trust-store change)."""
    _load_blob.cache_clear()
    _paths.clear()


def _find_path(leaf: Certificate, intermediates: Sequence[Certificate], anchors: Sequence[Certificate],
               now: int) -> list[Certificate]:
    if any(a.der == leaf.der for a in anchors):
        return [leaf]
    reasons: list[str] = []

    def walk(cert: Certificate, used: frozenset[int]) -> list[Certificate] | None:
        for a in anchors:
            if cert._cert.issuer != a._cert.subject:
                continue
            problem = _issuer_problem(cert, a, now)
            if problem is None:
                return [a]
            reasons.append(problem)
        if len(used) >= MAX_CHAIN_DEPTH:
            return None
        for i, im in enumerate(intermediates):
            if i in used or cert._cert.issuer != im._cert.subject:
                continue
            problem = _issuer_problem(cert, im, now)
            if problem is not None:
                reasons.append(problem)
                continue
            rest = walk(im, used | {i})
            if rest is not None:
                return [im, *rest]
        return None

    rest = walk(leaf, frozenset())
    if rest is None:
        raise ChainError(reasons[0] if reasons else "certificate is not issued by a trusted CA")
    path = [leaf, *rest]
    # pathLenConstraint: CA at index k has k-1 intermediate CAs below it (the leaf is not counted).
    for k in range(2, len(path)):
        limit = path[k].path_length
        if limit is not None and k - 1 > limit:
            raise ChainError("path length constraint exceeded")
    return path
