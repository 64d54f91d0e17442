"""C2SP signed-note keys (https://c2sp.org/signed-note, https://c2sp.org/tlog-cosignature): key
names, key IDs and verifier keys, for Ed25519 note signatures (type 0x01) and witness cosignatures
(type 0x04). Text formats over ``hashlib`` and ``base64``: no I/O.

A verifier key is written ``<name>+<hex key ID>+<base64(type || public key)>``, and the key ID is
``SHA-256(name || 0x0A || type || public key)[:4]``, as golang.org/x/mod/sumdb/note does. A witness
is configured as ``<URL> <witness verifier key>``. Malformed input raises ``MalformedNote``, which
says what is wrong. The access log (``audit.checkpoint``, ``audit.witness``) signs and verifies with
these keys; settings validation reads witness entries with ``parse_witness_entry``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from postguard.crypto import ed25519
from postguard.errors import InvalidInput

SIGNATURE_TYPE_ED25519 = 0x01
COSIGNATURE_TYPE = 0x04
KEY_ID_SIZE = 4

_KEY_ID_RE = re.compile(r"[0-9a-f]{8}")


class MalformedNote(InvalidInput, ValueError):
    """A note, key name or verifier key that does not follow the signed-note format."""


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes


# --- helpers ---------------------------------------------------------------------------------------


def has_control(text: str) -> bool:
    """True if ``text`` holds an ASCII control character other than newline, or is not UTF-8."""
    if any(c < " " and c != "\n" for c in text):
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return True
    return False


def decode_b64(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4, padded, canonical); None if it is anything else."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise MalformedNote("key name must be a non-empty string")
    if any(c.isspace() or c == "+" for c in name) or has_control(name):
        raise MalformedNote("key name must not contain spaces, '+' or control characters")
    return name


def _check_public_key(public_key: object) -> bytes:
    if not isinstance(public_key, bytes) or len(public_key) != ed25519.PUBLIC_KEY_SIZE:
        raise MalformedNote("Ed25519 public key must be 32 bytes")
    return public_key


# --- keys --------------------------------------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    name = check_name(name)
    public_key = _check_public_key(public_key)
    material = name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE_ED25519]) + public_key
    return hashlib.sha256(material).digest()[:KEY_ID_SIZE]


def vkey(name: str, public_key: bytes) -> str:
    """The verifier key string ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    kid = key_id(name, public_key)
    encoded = base64.b64encode(bytes([SIGNATURE_TYPE_ED25519]) + public_key).decode("ascii")
    return f"{name}+{kid.hex()}+{encoded}"


def parse_vkey(text: str) -> VerifierKey:
    """Read a verifier key string; the key ID must be the one the name and key imply."""
    if not isinstance(text, str):
        raise MalformedNote("verifier key must be a string")
    parts = text.split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        raise MalformedNote("verifier key must be <name>+<key id>+<key>")
    name, kid_hex, encoded = parts
    check_name(name)
    if not _KEY_ID_RE.fullmatch(kid_hex):
        raise MalformedNote("verifier key ID must be 8 lowercase hex digits")
    raw = decode_b64(encoded)
    if raw is None or len(raw) != 1 + ed25519.PUBLIC_KEY_SIZE or raw[0] != SIGNATURE_TYPE_ED25519:
        raise MalformedNote("verifier key must be base64 of 0x01 and a 32-byte Ed25519 public key")
    public_key = raw[1:]
    kid = bytes.fromhex(kid_hex)
    if kid != key_id(name, public_key):
        raise MalformedNote("verifier key ID does not match its name and key")
    return VerifierKey(name=name, key_id=kid, public_key=public_key)


# --- witness keys ------------------------------------------------------------------------------------


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    material = check_name(name).encode("utf-8") + b"\n" + bytes([COSIGNATURE_TYPE]) + _check_public_key(public_key)
    return hashlib.sha256(material).digest()[:KEY_ID_SIZE]


def witness_vkey(name: str, public_key: bytes) -> str:
    """The witness's verifier key ``<name>+<hex key ID>+<base64(0x04 || public key)>``."""
    encoded = base64.b64encode(bytes([COSIGNATURE_TYPE]) + public_key).decode("ascii")
    return f"{name}+{cosignature_key_id(name, public_key).hex()}+{encoded}"


def parse_witness_vkey(text: object) -> VerifierKey:
    """Read a witness verifier key (type 0x04); ``MalformedNote`` says what is wrong."""
    if not isinstance(text, str):
        raise MalformedNote("witness key must be a string")
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise MalformedNote("witness key must be <name>+<key id>+<key>")
    name, kid_hex, encoded = parts
    check_name(name)
    raw = decode_b64(encoded)
    if raw is None or len(raw) != 1 + ed25519.PUBLIC_KEY_SIZE or raw[0] != COSIGNATURE_TYPE:
        raise MalformedNote("witness key must be base64 of 0x04 and a 32-byte Ed25519 public key "
                            "(a cosignature/v1 key)")
    if not re.fullmatch(r"[0-9a-f]{8}", kid_hex) or bytes.fromhex(kid_hex) != cosignature_key_id(name, raw[1:]):
        raise MalformedNote("witness key ID does not match its name and key")
    return VerifierKey(name=name, key_id=bytes.fromhex(kid_hex), public_key=raw[1:])


@dataclass(frozen=True)
class WitnessEntry:
    """One configured witness: where to submit checkpoints, and the key its cosignatures verify with."""

    url: str
    vkey: str
    key: VerifierKey

    @property
    def ident(self) -> str:
        """``<name>+<hex key ID>``: how cosignatures by this witness are stored."""
        return f"{self.key.name}+{self.key.key_id.hex()}"


def parse_witness_entry(text: object) -> WitnessEntry:
    """``'<URL> <witness verifier key>'``; ``MalformedNote`` (a ``ValueError``) says what is wrong."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2 or not parts[0].startswith(("https://", "http://")):
        raise MalformedNote("a witness is '<http(s) URL> <witness verifier key>'")
    return WitnessEntry(url=parts[0].rstrip("/"), vkey=parts[1], key=parse_witness_vkey(parts[1]))
