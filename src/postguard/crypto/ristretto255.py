"""The ristretto255 prime-order group (RFC 9496), for the OPRF of ``postguard.intel.oprf``.

Thin, strict wrappers over libsodium's ``crypto_core_ristretto255_*`` and
``crypto_scalarmult_ristretto255*`` functions, as bundled by ``rbcl`` (PyNaCl's wheels are built
with libsodium's minimal API, which leaves the ristretto255 functions out). Elements and scalars are
their 32-byte canonical encodings; scalars are little-endian integers below the group order L.
Every refusal raises ``GroupError`` (a ``ValueError``); the caller maps it onto its own errors.
"""

from __future__ import annotations

import rbcl

ELEMENT_SIZE = 32
SCALAR_SIZE = 32
UNIFORM_SIZE = 64  # bytes of uniform input to the one-way map and to scalar reduction
ORDER = 2**252 + 27742317777372353535851937790883648493  # L
IDENTITY = bytes(ELEMENT_SIZE)


class GroupError(ValueError):
    """An encoding that is not a canonical element or scalar, or an operation yielding the identity."""


def element_from_uniform(data: bytes) -> bytes:
    """The element for 64 uniformly random bytes (RFC 9496 §4.3.4, as RFC 9380 hash_to_ristretto255
    uses it)."""
    if not isinstance(data, bytes) or len(data) != UNIFORM_SIZE:
        raise GroupError("uniform input must be 64 bytes")
    out: bytes = rbcl.crypto_core_ristretto255_from_hash(data)  # rbcl has no type hints
    return out


def scalar_from_uniform(data: bytes) -> bytes:
    """64 bytes read as a little-endian integer, reduced modulo L."""
    if not isinstance(data, bytes) or len(data) != UNIFORM_SIZE:
        raise GroupError("uniform input must be 64 bytes")
    out: bytes = rbcl.crypto_core_ristretto255_scalar_reduce(data)
    return out


def check_element(data: object) -> bytes:
    """``data`` if it is the canonical encoding of a group element other than the identity."""
    if not isinstance(data, bytes | bytearray) or len(data) != ELEMENT_SIZE:
        raise GroupError("an element is 32 bytes")
    data = bytes(data)
    if data == IDENTITY or not rbcl.crypto_core_ristretto255_is_valid_point(data):
        raise GroupError("not a canonical ristretto255 element, or the identity")
    return data


def check_scalar(data: object) -> bytes:
    """``data`` if it is a canonical (below L), non-zero scalar."""
    if not isinstance(data, bytes | bytearray) or len(data) != SCALAR_SIZE:
        raise GroupError("a scalar is 32 bytes")
    data = bytes(data)
    n = int.from_bytes(data, "little")
    if n == 0 or n >= ORDER:
        raise GroupError("a scalar must be non-zero and below the group order")
    return data


def is_zero_scalar(data: bytes) -> bool:
    return not any(data)


def scalar_invert(s: bytes) -> bytes:
    out: bytes = rbcl.crypto_core_ristretto255_scalar_invert(check_scalar(s))
    return out


def scalar_mult(s: bytes, element: bytes) -> bytes:
    """``s * element`` for a valid non-zero scalar and a valid non-identity element."""
    s, element = check_scalar(s), check_element(element)
    try:
        out: bytes = rbcl.crypto_scalarmult_ristretto255(s, element)
        return out
    except (RuntimeError, ValueError, TypeError):
        raise GroupError("scalar multiplication failed") from None


def scalar_mult_base(s: bytes) -> bytes:
    """``s * G`` for a valid non-zero scalar."""
    try:
        out: bytes = rbcl.crypto_scalarmult_ristretto255_base(check_scalar(s))
        return out
    except (RuntimeError, ValueError, TypeError):
        raise GroupError("scalar multiplication failed") from None
