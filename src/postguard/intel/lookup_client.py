"""Private lookups of scam indicators: k-anonymity buckets plus an oblivious PRF (RFC 9497).

The question a citizen asks ("is +84 91 234 5678 a known scam number?") is itself personal data.
This module answers it without the server learning the number, in the design used by breach
checkers with an OPRF ("Might I Get Pwned", Google Password Checkup):

Protocol
    Server, once per indicator it knows (its index)::

        out = oprf.evaluate(sk, normalised)                      # 64 bytes; sk never leaves
        index[bucket_prefix(normalised, bits)].append(out[:TRUNCATED_SIZE])

    Client, per check (``make_request``)::

        prefix  = bucket_prefix(normalised, bits)   # first ``bits`` of a PLAIN SHA-256: k-anonymity bucket
        blind, blinded = oprf.blind(normalised)      # a random-looking group element
        send (prefix, bits, blinded)

    Server (``answer_bucket``)::

        evaluated = oprf.blind_evaluate(sk, blinded)
        reply (evaluated, index[prefix])             # every stored output of that bucket, truncated

    Client (``matches``)::

        out = oprf.finalize(normalised, blind, evaluated)[:TRUNCATED_SIZE]
        known = out in reply.outputs                 # decided on the client

The prefix cannot be a prefix of the OPRF output, because the client only has that output after
the server has answered; hence the plain hash for the bucket and the OPRF for the match.

Threat model
    * **What the server learns from a lookup**: the ``bits``-bit bucket prefix, i.e. that the
      indicator is one of the ~2^30 / 2^bits Vietnamese numbers sharing it (2^14 = 16,384 numbers
      at the default 16 bits; fewer bits, a larger crowd, a larger answer). The blinded element is
      uniformly random and independent of the input; the server does not learn whether it matched.
    * **What a malicious client learns**: one OPRF value per evaluation, for the input it blinded,
      and the truncated outputs of one bucket. Those outputs are pseudorandom without ``sk``: they
      cannot be tested against guesses offline. A client can only test a guess by asking the
      server to evaluate it, so **rate limiting evaluations per client (and globally) is what stops
      enumeration** of the bucket or of the whole phone space; the server must apply it.
    * **What a stolen index or database snapshot leaks**: bucket prefixes (~``bits`` bits of a
      plain hash of each indicator, which by themselves say little) and truncated OPRF outputs,
      which are worthless without ``sk``: unlike a plain or salted hash of a phone number, they
      cannot be reversed by hashing all ~2^30 numbers. ``sk`` must be kept like a vault key; if it
      leaks, the index is as weak as an unkeyed hash and must be rebuilt under a new key.
    * Not covered: a server that lies (answers with another key to single a client out). That is
      what the verifiable mode (VOPRF, RFC 9497 mode 0x01, with a published public key) prevents;
      this module uses the base OPRF mode.

Everything here is pure (no I/O, no clock, no storage) except ``check_remote``, the whole client
round trip over HTTP (``postguard intel private-check`` uses it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from postguard.errors import FieldError, InvalidInput
from postguard.intel import oprf

__all__ = [
    "DEFAULT_PREFIX_BITS",
    "MAX_PREFIX_BITS",
    "MIN_PREFIX_BITS",
    "TRUNCATED_SIZE",
    "BucketAnswer",
    "LookupRequest",
    "LookupState",
    "answer_bucket",
    "bucket_key",
    "lookup_input",
    "bucket_prefix",
    "check_remote",
    "build_index",
    "make_request",
    "matches",
]

MIN_PREFIX_BITS = 8
MAX_PREFIX_BITS = 24
DEFAULT_PREFIX_BITS = 16
TRUNCATED_SIZE = 16  # bytes of each OPRF output kept in the index and sent: 2^-128 false matches
MAX_BUCKET = 100_000
_BUCKET_TAG = b"postguard/intel/bucket/v1\x00"


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(detail=f"The private lookup {field_name} is not valid: {message}.",
                        errors=[FieldError(field=field_name, message=message)])


def _bits(bits: object) -> int:
    if type(bits) is not int or not MIN_PREFIX_BITS <= bits <= MAX_PREFIX_BITS:
        raise _invalid("prefix_bits", f"must be an integer from {MIN_PREFIX_BITS} to {MAX_PREFIX_BITS}")
    return bits


def _indicator(value: object) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes | bytearray) or not value:
        raise _invalid("indicator", "must be a non-empty normalised string or bytes")
    if len(value) > oprf.MAX_INPUT:
        raise _invalid("indicator", "is too long")
    return bytes(value)


def lookup_input(type_: str, value: str) -> bytes:
    """What is blinded, bucketed and indexed for one indicator: ``type \0 normal form`` in UTF-8
    (the type keeps a domain and a link with the same text apart). Normalise with
    ``postguard.intel.normalize.detect`` first: every written form of a number gives one input."""
    if not isinstance(type_, str) or not type_ or "\0" in type_:
        raise _invalid("type", "must be an indicator type")
    if not isinstance(value, str) or not value:
        raise _invalid("indicator", "must be a non-empty normalised string")
    return f"{type_}\0{value}".encode()


def bucket_key(indicator: str | bytes) -> int:
    """The first 32 bits of SHA-256(tag || indicator): what a server stores so that it can serve a
    bucket at any prefix length (``bucket_prefix(x, bits) == bucket_key(x) >> (32 - bits)``)."""
    return int.from_bytes(hashlib.sha256(_BUCKET_TAG + _indicator(indicator)).digest()[:4], "big")


def bucket_prefix(indicator: str | bytes, bits: int = DEFAULT_PREFIX_BITS) -> int:
    """The k-anonymity bucket of a normalised indicator: the first ``bits`` bits of
    SHA-256(tag || indicator), as an integer. Unkeyed, so that the client can compute it."""
    return bucket_key(indicator) >> (32 - _bits(bits))


@dataclass(frozen=True)
class LookupRequest:
    """What the client sends: the bucket and the blinded element. No indicator, no plain hash."""

    prefix: int
    prefix_bits: int
    blinded_element: bytes


@dataclass(frozen=True)
class LookupState:
    """What the client keeps until the answer arrives (secret: the blind unlocks the result)."""

    indicator: bytes = field(repr=False)
    blind: bytes = field(repr=False)
    request: LookupRequest


@dataclass(frozen=True)
class BucketAnswer:
    """What the server returns: the evaluated element and the bucket's truncated outputs."""

    evaluated_element: bytes
    outputs: tuple[bytes, ...]


def make_request(indicator: str | bytes, *, prefix_bits: int = DEFAULT_PREFIX_BITS,
                 rng: Callable[[int], bytes] = os.urandom) -> LookupState:
    """Client: blind a normalised indicator and name its bucket. Send ``state.request``."""
    data = _indicator(indicator)
    blind, blinded = oprf.blind(data, rng=rng)
    request = LookupRequest(prefix=bucket_prefix(data, prefix_bits), prefix_bits=prefix_bits,
                            blinded_element=blinded)
    return LookupState(indicator=data, blind=blind, request=request)


def build_index(sk: bytes, indicators: Iterable[str | bytes], *,
                prefix_bits: int = DEFAULT_PREFIX_BITS) -> dict[int, list[bytes]]:
    """Server: ``{prefix: [truncated OPRF output, ...]}`` for normalised indicators, each bucket
    sorted (so its order says nothing about when an indicator was added) and without repeats."""
    bits = _bits(prefix_bits)
    index: dict[int, set[bytes]] = {}
    for value in indicators:
        data = _indicator(value)
        index.setdefault(bucket_prefix(data, bits), set()).add(oprf.evaluate(sk, data)[:TRUNCATED_SIZE])
    return {p: sorted(outs) for p, outs in index.items()}


def answer_bucket(sk: bytes, prefix: int, blinded: bytes, outputs_by_prefix: Mapping[int, Sequence[bytes]], *,
                  prefix_bits: int = DEFAULT_PREFIX_BITS) -> BucketAnswer:
    """Server: evaluate the blinded element and return the bucket named by ``prefix``.

    Pure: the caller rate-limits (see the threat model) and loads ``outputs_by_prefix`` (as made
    by ``build_index`` with the same ``prefix_bits``). A bad prefix, element or key raises
    ``InvalidInput``; an empty bucket is an ordinary answer (the client then finds no match).
    """
    bits = _bits(prefix_bits)
    if type(prefix) is not int or not 0 <= prefix < (1 << bits):
        raise _invalid("prefix", f"must be an integer below 2^{bits}")
    evaluated = oprf.blind_evaluate(sk, blinded)
    outputs = tuple(outputs_by_prefix.get(prefix, ()))
    if len(outputs) > MAX_BUCKET:
        raise _invalid("prefix_bits", "buckets are too large for this index: use more bits")
    return BucketAnswer(evaluated_element=evaluated, outputs=outputs)


def matches(state: LookupState, answer: BucketAnswer) -> bool:
    """Client: finalize the OPRF and look for the result in the bucket (every entry compared, in
    constant time each)."""
    mine = oprf.finalize(state.indicator, state.blind, answer.evaluated_element)[:TRUNCATED_SIZE]
    found = False
    for out in answer.outputs:
        if isinstance(out, bytes | bytearray) and hmac.compare_digest(mine, bytes(out)):
            found = True
    return found


def _http_post(url: str, body: dict, timeout: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310  as below
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310  http(s) checked by check_remote
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        detail = ""
        try:
            detail = json.loads(e.read()).get("detail", "")
        except (ValueError, AttributeError):
            pass
        raise RuntimeError(f"the server answered {e.code}{': ' + detail if detail else ''}") from None


def check_remote(raw: str, *, server: str, type: str | None = None, prefix_bits: int = DEFAULT_PREFIX_BITS,
                 timeout: float = 10.0, post: Callable[[str, dict, float], dict] | None = None) -> dict:
    """The whole private lookup: normalise ``raw`` here, send only the bucket prefix and a blinded
    element to ``server`` (``POST /v1/lookup/bucket``), decide here. Returns ``{"type", "display",
    "flagged", "bucket_size", "key_id"}``; ``flagged`` False means nothing reported (not "safe")."""
    from postguard.intel.normalize import detect

    if not server.startswith(("http://", "https://")):
        raise _invalid("server", "must be an http(s) URL")
    n = detect(raw, type)
    state = make_request(lookup_input(n.type, n.value), prefix_bits=prefix_bits)
    digits = _bits(prefix_bits) // 4
    if prefix_bits % 4:
        raise _invalid("prefix_bits", "must be a multiple of 4")
    body = {"prefix": f"{state.request.prefix:0{digits}x}",
            "blinded": base64.b64encode(state.request.blinded_element).decode()}
    reply = (post or _http_post)(server.rstrip("/") + "/v1/lookup/bucket", body, timeout)
    try:
        answer = BucketAnswer(evaluated_element=base64.b64decode(reply["evaluated"], validate=True),
                              outputs=tuple(base64.b64decode(o, validate=True) for o in reply["outputs"]))
    except (KeyError, TypeError, ValueError):
        raise _invalid("answer", "the server's answer is malformed") from None
    return {"type": n.type, "display": n.display, "flagged": matches(state, answer),
            "bucket_size": len(answer.outputs), "key_id": reply.get("key_id")}
