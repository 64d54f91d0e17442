"""A secret sealed under a passphrase: scrypt (RFC 7914) derives an AES-256-GCM key.

Layout (the scrypt parameters travel with the blob, so a stronger default later still opens old ones)::

    b"pgpw1" | log2(N) (1 byte) | r (1) | p (1) | salt (16) | nonce (12) | AES-GCM(plaintext) with tag (16)

Every failure to open (wrong passphrase, changed byte, truncated blob) is the one opaque
``DecryptionFailed``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from postguard.errors import DecryptionFailed

MAGIC = b"pgpw1"
LOG2_N = 17  # N = 131,072, r = 8: 128 MiB and about a third of a second per derivation
R, P = 8, 1
_HEAD = len(MAGIC) + 3 + 16 + 12


def _key(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(passphrase)


def seal(passphrase: bytes, plaintext: bytes, aad: bytes) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    head = MAGIC + bytes([LOG2_N, R, P]) + salt + nonce
    return head + AESGCM(_key(passphrase, salt, LOG2_N, R, P)).encrypt(nonce, plaintext, head + aad)


def open_(passphrase: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < _HEAD + 16 or not blob.startswith(MAGIC):
        raise DecryptionFailed()
    log2_n, r, p = blob[5], blob[6], blob[7]
    if not (10 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):  # a forged header cannot make us spin
        raise DecryptionFailed()
    salt, nonce, head = blob[8:24], blob[24:36], blob[:_HEAD]
    try:
        return AESGCM(_key(passphrase, salt, log2_n, r, p)).decrypt(nonce, blob[_HEAD:], head + aad)
    except (InvalidTag, ValueError):
        raise DecryptionFailed() from None
