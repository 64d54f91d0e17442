"""The batch sealing API (RecordSealer.seal_many) and the blind index, opened by the vault's own reader."""

import os
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from postguard.crypto import aead as fa
from postguard.errors import ConfigurationError, DecryptionFailed
from postguard.vault.service import FieldLayout, RecordSealer, Vault

ORG, VERSION = 7, 3
LAYOUT = FieldLayout("shipments", {"name": "name", "phone": "phone", "address": "address", "note": "text"})
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)  # what validation lets through


def _vault_and_sealer(reserved=None):
    """A vault whose organisation data key is already cached, so opening needs no database."""
    raw = os.urandom(32)
    vault = Vault(provider=None)
    vault._keys[(ORG, "data", VERSION)] = (time.monotonic(), raw)
    return vault, RecordSealer(ORG, VERSION, AESGCM(raw), reserved=reserved)


def _open(vault, record_id, sealed, columns=LAYOUT.columns):
    dek, *cts = sealed
    return vault._open_record(None, org_id=ORG, table=LAYOUT.table, record_id=record_id, dek=bytes(dek),
                             fields={c: None if ct is None else bytes(ct) for c, ct in zip(columns, cts)})


@given(st.lists(st.tuples(text.filter(bool), text, text, st.one_of(st.none(), text)), min_size=1, max_size=5))
def test_seal_many_round_trips_and_pads_to_buckets(values):
    vault, sealer = _vault_and_sealer()
    records = [(f"W{i:05d}", v) for i, v in enumerate(values)]
    for (record_id, v), sealed in zip(records, sealer.seal_many(records, layout=LAYOUT)):
        assert _open(vault, record_id, sealed) == dict(zip(LAYOUT.columns, v))
        dek, *cts = sealed
        assert fa.key_id_of(dek) == VERSION
        for value, ct, (_, minimum) in zip(v, cts, LAYOUT._fields):
            assert (ct is None) == (value is None)
            if ct is not None:
                assert len(ct) == fa.OVERHEAD + len(fa.pad(value.encode(), minimum))
                assert ct[1:5] == cts[0][1:5]  # one record key id for the whole record


def test_every_key_and_nonce_is_fresh():
    _, sealer = _vault_and_sealer()
    out = sealer.seal_many([(f"W{i}", ("An", "+84912345678", "Số 1", "x")) for i in range(200)], layout=LAYOUT)
    nonces = [bytes(ct[5:17]) for sealed in out for ct in sealed[1:]] + [bytes(sealed[0][5:17]) for sealed in out]
    assert len(set(nonces)) == len(nonces) == 200 * 5
    assert len({bytes(sealed[1][1:5]) for sealed in out}) == 200  # record key ids


def test_single_seal_is_the_same_format():
    vault, sealer = _vault_and_sealer()
    rec = sealer.seal(("Lan", "+84912345678", "Số 2", None), layout=LAYOUT, record_id="W1")
    assert rec.key_version == VERSION
    assert _open(vault, "W1", (rec.dek, *rec.fields))["phone"] == "+84912345678"


def test_ciphertexts_are_bound_to_record_and_column():
    vault, sealer = _vault_and_sealer()
    a, b = sealer.seal_many([("W1", ("Lan", "+84912345678", "Số 1", "a")), ("W2", ("Hoa", "+84987654321", "Số 2", "b"))],
                            layout=LAYOUT)
    with pytest.raises(DecryptionFailed):
        _open(vault, "W2", a)  # a whole record moved to another waybill
    with pytest.raises(DecryptionFailed):
        _open(vault, "W1", (a[0], b[1], a[2], a[3], a[4]))  # a field copied from another record
    with pytest.raises(DecryptionFailed):
        _open(vault, "W1", (a[0], a[4], a[2], a[3], a[1]))  # two columns swapped


def test_a_sealer_wraps_no_more_record_keys_than_reserved():
    _, sealer = _vault_and_sealer(reserved=3)
    sealer.seal_many([("W1", ("A", "+8491", "S", None)), ("W2", ("B", "+8492", "S", None))], layout=LAYOUT)
    with pytest.raises(ConfigurationError):
        sealer.seal_many([("W3", ("C", "+8493", "S", None)), ("W4", ("D", "+8494", "S", None))], layout=LAYOUT)


def test_values_must_match_the_layout():
    _, sealer = _vault_and_sealer()
    with pytest.raises(ValueError):
        sealer.seal_many([("W1", ("only", "three", "values"))], layout=LAYOUT)


@pytest.mark.parametrize("bits", [8, 16, 31])
def test_blind_index_is_keyed_truncated_and_fits_int32(bits):
    vault = Vault(provider=None)
    for org, key in ((1, os.urandom(32)), (2, os.urandom(32))):
        vault._keys[(org, "index", 1)] = (time.monotonic(), key)
    one, two = (vault.blind_indexer(None, org_id=o, bits=bits) for o in (1, 2))
    phones = [f"+8491{i:07d}" for i in range(300)]
    assert [one(p) for p in phones] == [one(p) for p in phones]
    assert all(0 <= one(p) < 2**bits <= 2**31 for p in phones)
    assert [one(p) for p in phones] != [two(p) for p in phones]  # another organisation's key
