"""RFC 9497 OPRF, mode OPRF (0x00), ristretto255-SHA512."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.crypto import ristretto255 as group
from postguard.errors import InvalidInput
from postguard.intel import oprf

# RFC 9497 Appendix A.1.1 (ristretto255-SHA512, OPRF mode): the published test vectors.
SEED = bytes.fromhex("a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3")
KEY_INFO = bytes.fromhex("74657374206b6579")  # "test key"
SK_SM = bytes.fromhex("5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e")
VECTORS = [
    {  # Test Vector 1, Batch Size 1
        "input": "00",
        "blind": "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706",
        "blinded_element": "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
        "evaluation_element": "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
        "output": "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
                  "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
    },
    {  # Test Vector 2, Batch Size 1
        "input": "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        "blind": "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706",
        "blinded_element": "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
        "evaluation_element": "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
        "output": "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
                  "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
    },
]


def fixed_rng(blind: bytes):
    """An rng whose 64 bytes reduce to exactly ``blind`` (which is below the group order)."""
    return lambda n: blind + bytes(n - len(blind))


def test_context_string():
    assert oprf.CONTEXT == b"OPRFV1-\x00-ristretto255-SHA512"


def test_derive_key_pair_matches_rfc9497():
    sk, pk = oprf.derive_key_pair(SEED, KEY_INFO)
    assert sk == SK_SM
    assert pk == group.scalar_mult_base(SK_SM)


@pytest.mark.parametrize("v", VECTORS, ids=["vector1", "vector2"])
def test_rfc9497_vectors(v):
    data, r = bytes.fromhex(v["input"]), bytes.fromhex(v["blind"])
    got_blind, blinded = oprf.blind(data, rng=fixed_rng(r))
    assert got_blind == r
    assert blinded.hex() == v["blinded_element"]
    evaluated = oprf.blind_evaluate(SK_SM, blinded)
    assert evaluated.hex() == v["evaluation_element"]
    assert oprf.finalize(data, r, evaluated).hex() == v["output"]
    assert oprf.evaluate(SK_SM, data).hex() == v["output"]


def test_expand_message_xmd_sha512_rfc9380_vectors():
    # RFC 9380 Appendix K.3 (expand_message_xmd(SHA-512)), DST "QUUX-V01-CS02-with-expander-SHA512-256"
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    assert oprf.expand_message_xmd(b"", dst, 0x20).hex() == (
        "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba")
    assert oprf.expand_message_xmd(b"abc", dst, 0x20).hex() == (
        "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc")


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300), key_seed=st.binary(min_size=32, max_size=32))
def test_finalize_of_blind_evaluate_equals_evaluate(data, key_seed):
    sk, _ = oprf.derive_key_pair(key_seed, b"postguard test")
    r, blinded = oprf.blind(data)
    out = oprf.finalize(data, r, oprf.blind_evaluate(sk, blinded))
    assert out == oprf.evaluate(sk, data) and len(out) == oprf.OUTPUT_SIZE


@settings(max_examples=30, deadline=None)
@given(a=st.binary(max_size=40), b=st.binary(max_size=40))
def test_outputs_depend_on_input_and_key(a, b):
    sk1, _ = oprf.derive_key_pair(bytes(32), b"one")
    sk2, _ = oprf.derive_key_pair(bytes(32), b"two")
    assert (oprf.evaluate(sk1, a) == oprf.evaluate(sk1, b)) is (a == b)
    assert oprf.evaluate(sk1, a) != oprf.evaluate(sk2, a)


def test_blinding_hides_the_input():
    """Two blindings of one input are unrelated elements; the blinded element is never the plain
    hash of the input."""
    data = b"+84912345678"
    (_, b1), (_, b2) = oprf.blind(data), oprf.blind(data)
    assert b1 != b2 and oprf.hash_to_group(data) not in (b1, b2)


L = group.ORDER
BAD_SCALARS = [bytes(32), L.to_bytes(32, "little"), (L + 1).to_bytes(32, "little"), b"\xff" * 32, b"\x01" * 31,
               "00" * 32, None]
IDENTITY = bytes(32)
NON_CANONICAL = (2**255 - 19 + 1).to_bytes(32, "little")  # a field element encoding >= p
NEGATIVE = (1).to_bytes(32, "little")  # an odd ("negative") field element: not a canonical encoding
BAD_ELEMENTS = [IDENTITY, NON_CANONICAL, NEGATIVE, b"\xff" * 32, bytes(31), b"\x02" * 33, "ab", None]


@pytest.mark.parametrize("bad", BAD_SCALARS)
def test_bad_scalars_are_invalid_input(bad):
    _, blinded = oprf.blind(b"x")
    with pytest.raises(InvalidInput) as err:
        oprf.blind_evaluate(bad, blinded)
    assert err.value.errors[0].field == "sk"
    with pytest.raises(InvalidInput) as err:
        oprf.finalize(b"x", bad, blinded)
    assert err.value.errors[0].field == "blind"
    with pytest.raises(InvalidInput):
        oprf.evaluate(bad, b"x")


@pytest.mark.parametrize("bad", BAD_ELEMENTS)
def test_bad_elements_are_invalid_input(bad):
    with pytest.raises(InvalidInput) as err:
        oprf.blind_evaluate(SK_SM, bad)
    assert err.value.errors[0].field == "blinded_element"
    with pytest.raises(InvalidInput) as err:
        oprf.finalize(b"x", bytes.fromhex(VECTORS[0]["blind"]), bad)
    assert err.value.errors[0].field == "evaluated_element"


def test_other_bad_inputs():
    with pytest.raises(InvalidInput):
        oprf.blind("not bytes")
    with pytest.raises(InvalidInput):
        oprf.blind(b"x" * 65536)
    with pytest.raises(InvalidInput):
        oprf.derive_key_pair(b"short", b"info")
    with pytest.raises(InvalidInput):
        oprf.blind(b"x", rng=lambda n: b"\x00" * n)  # only zero scalars
    with pytest.raises(InvalidInput):
        oprf.blind(b"x", rng=lambda n: os.urandom(n - 1))


def test_generated_keys_work():
    sk, pk = oprf.generate_key_pair()
    assert pk == group.scalar_mult_base(sk)
    r, blinded = oprf.blind(b"0912345678")
    assert oprf.finalize(b"0912345678", r, oprf.blind_evaluate(sk, blinded)) == oprf.evaluate(sk, b"0912345678")
    assert hashlib.sha512(b"").digest_size == oprf.OUTPUT_SIZE
