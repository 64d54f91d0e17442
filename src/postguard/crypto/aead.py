"""AES-256-GCM, and the field AEAD layout: pure functions, no I/O.

``cipher`` gives an AES-256-GCM object (``encrypt``/``decrypt`` with nonce, data and associated
data) without the caller importing ``cryptography``; ``decrypt`` opens one ciphertext and turns every
failure into the one opaque ``DecryptionFailed``.

Field ciphertext layout (every ciphertext carries the id of the key that sealed it)::

    0x01 | key id (4 bytes) | nonce (12) | AES-GCM(padded plaintext) with tag (16)

Associated data binds each ciphertext to organisation, table, column and record id; a ciphertext
copied to another row or column fails with the one opaque ``DecryptionFailed``.

Plaintext is padded (ISO/IEC 7816-4: 0x80 then zeros) to a power-of-two bucket no smaller than the
column's minimum, so the length of a ciphertext tells at most the bucket, not the name's or the
address's length.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from postguard.errors import DecryptionFailed

VERSION = 1
HEADER = 1 + 4 + 12
OVERHEAD = HEADER + 16

# Smallest bucket per kind of field, in bytes of UTF-8 (E.164 numbers fit in 16).
MIN_BUCKET = {"phone": 16, "name": 32, "address": 64, "text": 32}


class Cipher(Protocol):
    """An AES-256-GCM key ready to use (``cryptography``'s ``AESGCM``)."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


# AES-GCM under ``key`` (32 bytes: AES-256). The class itself, not a wrapper: the vault builds one per
# record in its sealing loop.
cipher: Callable[[bytes], Cipher] = AESGCM


def decrypt(aead: Cipher, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
    """The plaintext of ``data`` (ciphertext and tag), or ``DecryptionFailed`` whatever went wrong."""
    try:
        return aead.decrypt(nonce, data, aad)
    except (InvalidTag, ValueError, TypeError):
        raise DecryptionFailed() from None


def pad(data: bytes, minimum: int) -> bytes:
    n = len(data)
    size = minimum
    while size <= n:
        size <<= 1
    return data + b"\x80" + bytes(size - n - 1)


def unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end or end[-1] != 0x80:
        raise DecryptionFailed()
    return end[:-1]


def context(*parts: str | int) -> bytes:
    """Unambiguous associated data: each part length-prefixed."""
    out = bytearray()
    for p in parts:
        b = str(p).encode("utf-8")
        out += struct.pack(">H", len(b)) + b
    return bytes(out)


def seal(aead: Cipher, key_id: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return b"\x01" + key_id + nonce + aead.encrypt(nonce, plaintext, aad)


def open_(aead: Cipher, key_id: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < OVERHEAD or blob[0] != VERSION or blob[1:5] != key_id:
        raise DecryptionFailed()
    try:
        return aead.decrypt(blob[5:17], blob[17:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionFailed() from None


def key_id_of(blob: bytes) -> int:
    if len(blob) < OVERHEAD or blob[0] != VERSION:
        raise DecryptionFailed()
    return int.from_bytes(blob[1:5], "big")
