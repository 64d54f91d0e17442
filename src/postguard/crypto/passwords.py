"""Password hashing: argon2id (RFC 9106) in the PHC string format, through ``pwdlib``.

``hasher`` gives an object with ``hash(password) -> str`` and ``verify(password, hash) -> bool``;
hashes carry their own parameters, so a change of cost applies to new hashes and old ones still verify.
"""

from __future__ import annotations

from typing import Protocol

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class PasswordHasher(Protocol):
    def hash(self, password: str | bytes) -> str: ...

    def verify(self, password: str | bytes, hash: str | bytes) -> bool: ...


def hasher(*, time_cost: int, memory_kib: int) -> PasswordHasher:
    """argon2id with ``time_cost`` passes over ``memory_kib`` KiB."""
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
