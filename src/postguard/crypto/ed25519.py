"""Ed25519 (RFC 8032) over raw keys: 32-byte private seeds, 32-byte public keys, 64-byte signatures.

The only place that touches Ed25519 (``audit.checkpoint`` signs and verifies log checkpoints
through it). Callers hold plain bytes, never a ``cryptography`` object. Signing with an unusable
private key raises one ``Ed25519KeyError`` that says nothing about the key; verification answers
``True`` or ``False`` and never raises.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

PRIVATE_KEY_SIZE = 32
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


class Ed25519KeyError(ValueError):
    """A private key that is not a raw 32-byte Ed25519 seed."""

    def __init__(self) -> None:
        super().__init__("not a usable Ed25519 private key")


def _private(private_key: object) -> Ed25519PrivateKey:
    if not isinstance(private_key, bytes) or len(private_key) != PRIVATE_KEY_SIZE:
        raise Ed25519KeyError()
    try:
        return Ed25519PrivateKey.from_private_bytes(private_key)
    except Exception:
        raise Ed25519KeyError() from None


def generate_private_key_bytes() -> bytes:
    """A fresh random private key: the raw 32-byte RFC 8032 seed."""
    return Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_key_bytes(*, private_key: bytes) -> bytes:
    """The raw 32-byte public key of a raw private key."""
    return _private(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(message: bytes, *, private_key: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``message`` (deterministic, RFC 8032)."""
    if not isinstance(message, bytes):
        raise TypeError("message must be bytes")
    return _private(private_key).sign(message)


def verify(message: bytes, signature: bytes, *, public_key: bytes) -> bool:
    """True iff ``signature`` is a valid signature of ``message`` by ``public_key``; False on any
    failure (wrong types or sizes, an invalid point, a bad signature)."""
    try:
        if not (isinstance(message, bytes) and isinstance(signature, bytes) and isinstance(public_key, bytes)):
            return False
        if len(signature) != SIGNATURE_SIZE or len(public_key) != PUBLIC_KEY_SIZE:
            return False
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except Exception:  # InvalidSignature, an invalid point, anything: the answer is False
        return False
