"""RFC 9497 oblivious pseudorandom function: mode OPRF (0x00), suite ristretto255-SHA512.

The client learns ``F(sk, input)`` for an input of its choice; the server, holding ``sk``, learns
nothing about the input, and the client learns nothing about ``sk``. Private lookups use it so that
the server never sees what a citizen checks, while the stored outputs cannot be reversed offline by
enumerating the ~2^30 Vietnamese phone numbers: without ``sk`` an output is a random 64-byte string.

Protocol (RFC 9497 §3.3.1)::

    client                                      server (sk)
    blind, blinded = blind(input)
                          ---- blinded ---->
                                                evaluated = blind_evaluate(sk, blinded)
                          <--- evaluated ----
    output = finalize(input, blind, evaluated)  ==  evaluate(sk, input)

``evaluate`` is the server computing ``F`` directly (to build the index of known indicators).
Group arithmetic is ``postguard.crypto.ristretto255`` (libsodium). Hashing to the group and to
scalars is RFC 9380 ``expand_message_xmd`` with SHA-512 and the RFC 9497 domain separation tags.
Every bad input (an element that is not a canonical non-identity ristretto255 encoding, a scalar
that is zero or not below the group order, an input longer than 65535 bytes) raises ``InvalidInput``
naming the field.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from postguard.crypto import ristretto255 as group
from postguard.errors import FieldError, InvalidInput

__all__ = [
    "CONTEXT",
    "ELEMENT_SIZE",
    "MODE_OPRF",
    "OUTPUT_SIZE",
    "SCALAR_SIZE",
    "SUITE",
    "blind",
    "blind_evaluate",
    "derive_key_pair",
    "evaluate",
    "expand_message_xmd",
    "finalize",
    "generate_key_pair",
    "hash_to_group",
    "hash_to_scalar",
]

MODE_OPRF = 0x00
SUITE = b"ristretto255-SHA512"
CONTEXT = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + SUITE  # RFC 9497 §3.1 contextString
ELEMENT_SIZE = group.ELEMENT_SIZE  # Noe
SCALAR_SIZE = group.SCALAR_SIZE  # Ns
OUTPUT_SIZE = 64  # Nh, SHA-512
MAX_INPUT = 2**16 - 1

_DST_GROUP = b"HashToGroup-" + CONTEXT
_DST_SCALAR = b"HashToScalar-" + CONTEXT
_DST_DERIVE = b"DeriveKeyPair" + CONTEXT
_B_IN_BYTES = 64  # SHA-512 output size
_S_IN_BYTES = 128  # SHA-512 block size


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(detail=f"The OPRF {field} is not valid: {message}.",
                        errors=[FieldError(field=field, message=message)])


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512."""
    if len(dst) > 255:
        dst = hashlib.sha512(b"H2C-OVERSIZE-DST-" + dst).digest()
    ell = -(-length // _B_IN_BYTES)
    if ell > 255 or length > 65535:
        raise ValueError("expand_message_xmd: requested length too large")
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(_S_IN_BYTES) + msg + _i2osp(length, 2) + b"\x00" + dst_prime).digest()
    b = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        b.append(hashlib.sha512(bytes(x ^ y for x, y in zip(b0, b[-1], strict=True)) + _i2osp(i, 1)
                                + dst_prime).digest())
    return b"".join(b)[:length]


def hash_to_group(data: bytes) -> bytes:
    """RFC 9497 §4.1 HashToGroup: hash_to_ristretto255 with DST ``HashToGroup-`` || contextString."""
    return group.element_from_uniform(expand_message_xmd(data, _DST_GROUP, group.UNIFORM_SIZE))


def hash_to_scalar(data: bytes, dst: bytes = _DST_SCALAR) -> bytes:
    """RFC 9497 §4.1 HashToScalar: 64 expanded bytes, little-endian, reduced modulo the group order."""
    return group.scalar_from_uniform(expand_message_xmd(data, dst, group.UNIFORM_SIZE))


def _input(data: object, field: str = "input") -> bytes:
    if not isinstance(data, bytes | bytearray):
        raise _invalid(field, "must be bytes")
    if len(data) > MAX_INPUT:
        raise _invalid(field, f"must be at most {MAX_INPUT} bytes")
    return bytes(data)


def _scalar(data: object, field: str) -> bytes:
    try:
        return group.check_scalar(data)
    except group.GroupError:
        raise _invalid(field, "not a non-zero ristretto255 scalar below the group order") from None


def _element(data: object, field: str) -> bytes:
    try:
        return group.check_element(data)
    except group.GroupError:
        raise _invalid(field, "not a canonical ristretto255 element (or the identity)") from None


def derive_key_pair(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9497 §3.2.1 DeriveKeyPair: ``(skS, pkS)`` from a 32-byte secret seed and public info."""
    if not isinstance(seed, bytes | bytearray) or len(seed) != 32:
        raise _invalid("seed", "must be 32 bytes")
    info = _input(info, "info")
    derive_input = bytes(seed) + _i2osp(len(info), 2) + info
    for counter in range(256):
        sk = hash_to_scalar(derive_input + _i2osp(counter, 1), _DST_DERIVE)
        if not group.is_zero_scalar(sk):
            return sk, group.scalar_mult_base(sk)
    raise _invalid("seed", "DeriveKeyPairError: no non-zero scalar in 256 tries")  # pragma: no cover


def generate_key_pair(rng: Callable[[int], bytes] = os.urandom) -> tuple[bytes, bytes]:
    """A fresh random ``(skS, pkS)``."""
    sk = _random_scalar(rng)
    return sk, group.scalar_mult_base(sk)


def _random_scalar(rng: Callable[[int], bytes]) -> bytes:
    for _ in range(16):
        raw = rng(group.UNIFORM_SIZE)
        if not isinstance(raw, bytes) or len(raw) != group.UNIFORM_SIZE:
            raise _invalid("rng", "must return the number of bytes asked for")
        s = group.scalar_from_uniform(raw)
        if not group.is_zero_scalar(s):
            return s
    raise _invalid("rng", "returned only zero scalars")


def _input_element(data: bytes) -> bytes:
    element = hash_to_group(data)
    if element == group.IDENTITY:  # RFC 9497 InvalidInputError; probability ~2^-252
        raise _invalid("input", "hashes to the identity element")  # pragma: no cover
    return element


def blind(input: bytes, *, rng: Callable[[int], bytes] = os.urandom) -> tuple[bytes, bytes]:
    """Client, RFC 9497 §3.3.1 Blind: ``(blind, blindedElement)``.

    ``rng(n)`` returns ``n`` random bytes (default ``os.urandom``); the blind is 64 of them reduced
    modulo the group order, redrawn if zero. Keep ``blind`` secret and use it once.
    """
    data = _input(input)
    r = _random_scalar(rng)
    return r, group.scalar_mult(r, _input_element(data))


def blind_evaluate(sk: bytes, blinded_element: bytes) -> bytes:
    """Server, RFC 9497 §3.3.1 BlindEvaluate: ``evaluatedElement = skS * blindedElement``."""
    s = _scalar(sk, "sk")
    return group.scalar_mult(s, _element(blinded_element, "blinded_element"))


def _finalize_hash(data: bytes, element: bytes) -> bytes:
    return hashlib.sha512(_i2osp(len(data), 2) + data + _i2osp(len(element), 2) + element
                          + b"Finalize").digest()


def finalize(input: bytes, blind: bytes, evaluated_element: bytes) -> bytes:
    """Client, RFC 9497 §3.3.1 Finalize: the 64-byte PRF output."""
    data = _input(input)
    r = _scalar(blind, "blind")
    unblinded = group.scalar_mult(group.scalar_invert(r), _element(evaluated_element, "evaluated_element"))
    return _finalize_hash(data, unblinded)


def evaluate(sk: bytes, input: bytes) -> bytes:
    """Server, RFC 9497 §3.3.1 Evaluate: the PRF output computed directly (to build an index)."""
    s = _scalar(sk, "sk")
    data = _input(input)
    return _finalize_hash(data, group.scalar_mult(s, _input_element(data)))
