"""Canonical JSON (RFC 8785, JCS) for access-log entries, fast.

Entries use a restricted grammar: objects with ASCII keys, strings, integers within ±2^53, booleans,
null and arrays. For that grammar JCS is exactly ``json.dumps`` with sorted keys, no whitespace and
no ASCII escaping (same string escapes, keys sorted by code point = by UTF-16 unit for ASCII), at a
fifth of the cost of a general JCS encoder; a property test checks it against the ``rfc8785``
package. Anything outside the grammar (floats, non-ASCII keys, other types, nesting deeper than
``MAX_DEPTH``) is refused.

``fragment`` gives the canonical text of one checked value without the per-call set-up of
``json.dumps`` (the access log builds each entry from such fragments, see ``audit.log``).
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]  # CPython's, untyped
from typing import Any, NoReturn

from postguard.errors import FieldError, InvalidInput

_MAX_INT = 2**53 - 1
MAX_DEPTH = 32
_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode


def _no_default(o: object) -> NoReturn:
    raise TypeError(f"{type(o).__name__} is not canonicalisable")


# The C encoder ``json.dumps`` builds on every call, built once. No cycle markers: ``check`` bounds
# the depth, so a checked value cannot be cyclic.
_c_encode = (c_make_encoder(None, _no_default, encode_basestring, None, ":", ",", True, False, False)
             if c_make_encoder is not None else None)


_SCALARS = (str, bool, type(None))


def _refuse(path: str, why: str) -> NoReturn:
    raise InvalidInput("Log entry not canonicalisable.", [FieldError(path, why)])


def _check(value: Any, path: str) -> None:
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        v, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            _refuse(where, f"nested deeper than {MAX_DEPTH} levels")
        t = type(v)
        if t in _SCALARS:
            continue
        if t is int:
            if -_MAX_INT <= v <= _MAX_INT:
                continue
            _refuse(where, "integer beyond ±2^53")
        elif t is dict:
            for k, item in v.items():
                if type(k) is not str or not k.isascii():
                    _refuse(where, "keys must be ASCII text")
                if type(item) not in _SCALARS:
                    stack.append((item, f"{where}.{k}", depth + 1))
        elif t is list or t is tuple:
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(v) if type(item) not in _SCALARS)
        else:
            _refuse(where, f"{t.__name__} not allowed")


def check(value: Any, path: str = "entry") -> None:
    """Refuse anything outside the grammar (raises ``InvalidInput`` naming the path, which
    starts with ``path``)."""
    _check(value, path)


def fragment(value: Any) -> str:
    """Canonical JSON text of a value already ``check``-ed (a string, null, an object, …)."""
    if type(value) is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if _c_encode is not None:
        return "".join(_c_encode(value, 0))
    return _dumps(value)  # pragma: no cover - interpreters without the C encoder


def encode(value: Any) -> bytes:
    """Canonical bytes of a value already ``check``-ed (or built only from checked parts)."""
    return _dumps(value).encode("utf-8")


def canonical(value: Any) -> bytes:
    check(value)
    return encode(value)
