"""The vault against a real database: binding, tampering, rotation, budgets, shredding, key files."""

import os
import stat
import threading
from unittest.mock import patch

import pytest
from sqlalchemy import select, update

from postguard.crypto.aead import key_id_of as fa_version
from postguard.errors import ConfigurationError, DecryptionFailed, Shredded
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.shipments.models import PERSONAL_FIELDS, Shipment
from postguard.vault.models import VaultKey
from tests.conftest import csv_bytes

COLUMNS = tuple(PERSONAL_FIELDS)


def _import(platform, principal, rows):
    import io

    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert report.invalid == 0, report.errors
    return report


def _open(platform, s, sh, columns=COLUMNS):
    return platform.vault._open_record(s, org_id=sh.org_id, table="shipments", record_id=sh.waybill, dek=sh.dek,
                                      fields={c: getattr(sh, f"{c}_ct") for c in columns})


def _get(s, waybill):
    return s.execute(select(Shipment).where(Shipment.waybill == waybill)).scalar_one()


def test_round_trip(platform, principal, faker):
    rows = list(faker.rows(5))
    _import(platform, principal, rows)
    with platform.db.session() as s:
        for row in rows:
            got = _open(platform, s, _get(s, row["waybill"]))
            assert got["recipient_name"] == row["recipient_name"]
            assert got["goods_description"] == row["goods_description"]
            assert got["recipient_address"] == row["recipient_address"]


def test_tampered_or_moved_ciphertext_is_refused_with_one_opaque_error(platform, principal, faker):
    rows = list(faker.rows(2))
    _import(platform, principal, rows)
    a, b = rows[0]["waybill"], rows[1]["waybill"]
    with platform.db.session() as s:
        sa, sb = _get(s, a), _get(s, b)
        flipped = bytearray(sa.recipient_name_ct)
        flipped[20] ^= 0x01
        cases = {
            "flipped bit": dict(fields={"recipient_name": bytes(flipped)}, dek=sa.dek, record_id=a),
            "other row's ciphertext": dict(fields={"recipient_name": sb.recipient_name_ct}, dek=sa.dek, record_id=a),
            "other column": dict(fields={"recipient_name": sa.sender_name_ct}, dek=sa.dek, record_id=a),
            "row moved (record id)": dict(fields={"recipient_name": sa.recipient_name_ct}, dek=sa.dek, record_id=b),
            "other row's key": dict(fields={"recipient_name": sa.recipient_name_ct}, dek=sb.dek, record_id=a),
            "truncated": dict(fields={"recipient_name": sa.recipient_name_ct[:30]}, dek=sa.dek, record_id=a),
        }
        messages = set()
        for kw in cases.values():
            with pytest.raises(DecryptionFailed) as e:
                platform.vault._open_record(s, org_id=sa.org_id, table="shipments", **kw)
            messages.add(str(e.value))
        assert messages == {"Protected data could not be read."}
        with pytest.raises(DecryptionFailed):  # another organisation
            platform.vault._open_record(s, org_id=sa.org_id + 1, table="shipments", record_id=a, dek=sa.dek,
                                       fields={"recipient_name": sa.recipient_name_ct})


def test_ciphertext_copied_in_the_database_fails_to_decrypt(platform, principal, faker):
    rows = list(faker.rows(2))
    _import(platform, principal, rows)
    with platform.db.session() as s:
        sb = _get(s, rows[1]["waybill"])
        s.execute(update(Shipment).where(Shipment.waybill == rows[0]["waybill"])
                  .values(recipient_phone_ct=sb.recipient_phone_ct))
    with platform.db.session() as s:
        with pytest.raises(DecryptionFailed):
            _open(platform, s, _get(s, rows[0]["waybill"]), ("recipient_phone",))


@pytest.mark.both_databases
def test_rotation_rewraps_everything_and_reads_still_work(platform, principal, faker):
    rows = list(faker.rows(30))
    _import(platform, principal, rows)
    with platform.db.session() as s:
        assert platform.vault.rotate(s, org_id=principal.org_id) == 2
    # mid-rotation: old records (version 1) and new ones (version 2) both read
    more = list(faker.rows(5, prefix="NEW"))
    _import(platform, principal, more)
    with platform.db.session() as s:
        for row in rows[:3] + more:
            assert _open(platform, s, _get(s, row["waybill"]))["sender_name"] == row["sender_name"]
    out = platform.shipments.rewrap(principal, batch=7)
    assert out == {"rewrapped": 30, "destroyed_versions": [1]}
    with platform.db.session() as s:
        versions = set(s.execute(select(Shipment.dek_key_version)).scalars())
        assert versions == {2}
        old = s.execute(select(VaultKey).where(VaultKey.purpose == "data", VaultKey.version == 1)).scalar_one()
        assert old.status == "destroyed" and old.wrapped is None
        for row in rows + more:
            assert _open(platform, s, _get(s, row["waybill"]))["recipient_phone"] is not None


def test_nonce_budget_rotates_before_it_is_exceeded(make_settings, faker):
    p = Platform(make_settings(nonce_budget=20, import_batch_size=8))
    try:
        org = p.orgs.create(code="SMALL", name="Budget")
        principal = p.orgs.principal(org.code, actor="t")
        _import(p, principal, list(faker.rows(50)))
        with p.db.session() as s:
            keys = s.execute(select(VaultKey).where(VaultKey.purpose == "data").order_by(VaultKey.version)).scalars().all()
        assert len(keys) >= 3
        assert all(k.encryptions <= 20 for k in keys)
        assert [k.status for k in keys].count("active") == 1
    finally:
        p.close()


def test_kek_rotation_rewraps_org_keys(platform, principal, faker):
    rows = list(faker.rows(3))
    _import(platform, principal, rows)
    platform.audit.append(actor="t", action="before")  # creates the log's service secrets
    kid = platform.kek.rotate()
    with platform.db.session() as s:
        assert platform.vault.rewrap_org_keys(s) == 2
    assert platform.kek.retire({kid}) == ["k1"]
    platform.vault._keys.clear()  # forget cached keys: read through the new KEK
    with platform.db.session() as s:
        assert _open(platform, s, _get(s, rows[0]["waybill"]))["recipient_name"] == rows[0]["recipient_name"]
    from postguard.audit.log import AuditLog

    # no cached secrets: they must unwrap under the new KEK
    fresh = AuditLog(platform.db, origin=platform.settings.audit_origin, keys=platform.audit_keys)
    assert fresh.append(actor="t", action="after") == 1 and fresh.verify().ok


@pytest.mark.both_databases
def test_shredded_shipment_cannot_be_recovered(platform, principal, faker):
    rows = list(faker.rows(3))
    _import(platform, principal, rows)
    w = rows[1]["waybill"]
    with platform.db.session() as s:
        before = _get(s, w)
        dek, ct = before.dek, before.recipient_name_ct
    platform.shipments.shred(principal, w)
    with platform.db.session() as s:
        after = _get(s, w)
        assert after.dek is None and all(getattr(after, f"{c}_ct") is None for c in COLUMNS)
        with pytest.raises(Shredded):
            _open(platform, s, after)
        # even with the old ciphertext kept somewhere, a rotation destroys the key that wrapped its record key
        platform.vault.rotate(s, org_id=principal.org_id)
    platform.shipments.rewrap(principal)
    with platform.db.session() as s:
        with pytest.raises(DecryptionFailed):
            platform.vault._open_record(s, org_id=principal.org_id, table="shipments", record_id=w, dek=dek,
                                       fields={"recipient_name": ct})
        # the others still read
        assert _open(platform, s, _get(s, rows[0]["waybill"]))["recipient_name"] == rows[0]["recipient_name"]
    stats = platform.shipments.stats(principal)
    assert stats["total"] == 3 and stats["shredded"] == 1


def test_key_file_is_private_and_production_refuses_dev_keys(make_settings, tmp_path):
    s = make_settings()
    p = Platform(s)
    p.close()
    assert stat.S_IMODE(os.stat(s.key_file).st_mode) == 0o600
    with pytest.raises(ConfigurationError, match="development key"):
        Platform(make_settings(mode="production"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        Platform(make_settings(mode="production", key_file=tmp_path / "missing.json"))
    from postguard.vault.kek import LocalKeyFile

    prod = tmp_path / "prod.json"
    LocalKeyFile.create(prod, dev=False)
    os.chmod(prod, 0o644)
    with pytest.raises(ConfigurationError, match="readable by other users"):
        Platform(make_settings(mode="production", key_file=prod))
    os.chmod(prod, 0o600)
    Platform(make_settings(mode="production", key_file=prod)).close()


def test_call_signing_keys_are_never_served_across_vaults(platform, org, tmp_path):
    """The unwrapped call-signing key is cached on its vault: a second platform in the same process
    (tools and tests make several), even one whose vault takes a freed vault's address, unwraps its own."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from postguard.vault import callsign
    from postguard.vault.service import Vault

    other = Platform(Settings(data_dir=tmp_path / "other", log_format="json",
                              database_url=f"sqlite:///{(tmp_path / 'other' / 'pg.db').as_posix()}"))
    try:
        other_org = other.orgs.create(code=org.code, name=org.name)
        pems = [p.calls.certificate(org_code=org.code) for p in (platform, other)]
        first = Vault(platform.vault.provider)
        with platform.db.session() as s:
            mine = callsign.signing_key(first, s, org_id=org.id, version=1)
        del first
        second = Vault(other.vault.provider)  # CPython hands the freed block straight back
        with other.db.session() as s:
            theirs = callsign.signing_key(second, s, org_id=other_org.id, version=1)
        certified = [x509.load_pem_x509_certificate(pem).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) for pem in pems]
        assert [mine.public_key().spki_der(), theirs.public_key().spki_der()] == certified
        assert certified[0] != certified[1]
    finally:
        other.close()


@pytest.mark.both_databases
def test_a_record_read_before_a_rewrap_still_opens_after_it(platform, principal, faker):
    """A reader reads a shipment; a rotation and re-wrap then move its record key and destroy the version
    that wrapped it, before the reader unwraps it (the door logs in between). The door re-reads the moved
    key and opens the same fields; a stale key alone is refused."""
    rows = list(faker.rows(3))
    _import(platform, principal, rows)
    with platform.db.session() as s:
        sh = _get(s, rows[1]["waybill"])  # read under data-key version 1
        platform.orgs.rotate_data_key(principal.org_code)
        assert platform.shipments.rewrap(principal)["destroyed_versions"] == [1]
        assert fa_version(sh.dek) == 1
        opened = platform.door.open_shipments(s, principal=principal, shipments=[sh], columns=("recipient_phone",),
                                              purpose="phone_search")
        assert opened == [{"recipient_phone": normalize_phone(rows[1]["recipient_phone"])}]
        with pytest.raises(DecryptionFailed):  # without a way to re-read it, the destroyed version is final
            _open(platform, s, sh)


@pytest.mark.both_databases
def test_a_key_destroyed_while_being_unwrapped_is_not_cached(platform, principal, faker):
    """A reader fetches a wrapped data key just before a re-wrap destroys that version, and unwraps it
    just after: the destroyed key must not stay in the vault's cache."""
    _import(platform, principal, list(faker.rows(2)))
    vault, org_id = platform.vault, principal.org_id
    platform.orgs.rotate_data_key(principal.org_code)
    vault._keys.clear()
    unwrap = vault.provider.unwrap

    def unwrap_during_destruction(blob, *, aad):
        if threading.current_thread() is reader and not started:  # after the reader's SELECT, before it caches
            started.append(1)
            rewrapped.append(platform.shipments.rewrap(principal))
        return unwrap(blob, aad=aad)

    def read():
        with platform.db.session() as s:
            vault._key(s, org_id=org_id, purpose="data", version=1)

    started, rewrapped = [], []
    reader = threading.Thread(target=read)
    with patch.object(vault.provider, "unwrap", unwrap_during_destruction):
        reader.start()
        reader.join()
    assert rewrapped[0]["destroyed_versions"] == [1]
    with platform.db.session() as s:
        assert s.execute(select(VaultKey.status).where(VaultKey.org_id == org_id, VaultKey.version == 1,
                                                       VaultKey.purpose == "data")).scalar_one() == "destroyed"
    assert (org_id, "data", 1) not in set(vault._keys)


@pytest.mark.both_databases
def test_a_rewrap_does_not_give_a_record_shredded_meanwhile_its_key_back(platform, principal, faker):
    """A shipment shredded after the re-wrap read its batch and before it wrote it keeps no record key."""
    rows = list(faker.rows(3))
    _import(platform, principal, rows)
    w = rows[1]["waybill"]
    platform.orgs.rotate_data_key(principal.org_code)
    sealer = platform.vault.sealer

    def shred_first(session, **kw):
        if not shredded:
            shredded.append(platform.shipments.shred(principal, w))
        return sealer(session, **kw)

    shredded = []
    with patch.object(platform.vault, "sealer", shred_first):
        out = platform.shipments.rewrap(principal)
    assert shredded and out["rewrapped"] == 2 and out["destroyed_versions"] == [1]
    with platform.db.session() as s:
        after = _get(s, w)
        assert after.dek is None
        with pytest.raises(Shredded):
            _open(platform, s, after)
