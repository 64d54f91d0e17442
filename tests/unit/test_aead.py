import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from postguard.crypto import aead as fa
from postguard.errors import DecryptionFailed
from postguard.vault.service import FieldLayout, RecordSealer


@given(st.binary(max_size=600), st.sampled_from(sorted(fa.MIN_BUCKET.values())))
def test_pad_round_trip_and_buckets(data, minimum):
    padded = fa.pad(data, minimum)
    assert fa.unpad(padded) == data
    assert len(padded) >= minimum and len(padded) & (len(padded) - 1) == 0  # a power of two
    assert len(padded) > len(data)


@given(st.text(max_size=40), st.text(max_size=40))
def test_lengths_within_a_bucket_are_indistinguishable(a, b):
    pa, pb = fa.pad(a.encode(), 64), fa.pad(b.encode(), 64)
    if len(a.encode()) < 64 and len(b.encode()) < 64:
        assert len(pa) == len(pb)


@given(st.lists(st.text(max_size=5), min_size=1, max_size=4), st.lists(st.text(max_size=5), min_size=1, max_size=4))
def test_context_is_unambiguous(x, y):
    if x != y:
        assert fa.context(*x) != fa.context(*y)


def test_open_refuses_everything_but_the_original():
    aead, kid = AESGCM(os.urandom(32)), b"\x00\x00\x00\x07"
    nonce = os.urandom(12)
    blob = fa.seal(aead, kid, nonce, b"secret", b"ad")
    assert fa.open_(aead, kid, blob, b"ad") == b"secret"
    flipped = bytearray(blob)
    flipped[-1] ^= 1
    for bad_blob, ad, k in [(bytes(flipped), b"ad", kid), (blob, b"other", kid), (blob, b"ad", b"\x00\x00\x00\x08"),
                            (blob[:10], b"ad", kid), (b"\x02" + blob[1:], b"ad", kid)]:
        with pytest.raises(DecryptionFailed) as e:
            fa.open_(aead, k, bad_blob, ad)
        assert str(e.value) == "Protected data could not be read."


LAYOUT = FieldLayout("t", {"name": "name", "phone": "phone", "note": "text"})


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=20), st.one_of(st.none(), st.text(max_size=300)))
def test_sealed_fields_carry_key_ids_and_hide_lengths(name, phone, note):
    sealer = RecordSealer(1, 5, AESGCM(os.urandom(32)))
    rec = sealer.seal((name, phone, note), layout=LAYOUT, record_id="R1")
    assert fa.key_id_of(rec.dek) == 5 and rec.key_version == 5
    n_ct, p_ct, note_ct = rec.fields
    assert (note_ct is None) == (note is None)
    assert len(n_ct) - fa.OVERHEAD == len(fa.pad(name.encode(), 32))
    assert n_ct[1:5] == p_ct[1:5]  # one record key id for the whole record
