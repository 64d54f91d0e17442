"""An operator's careless set-up: demo data in production, readable database files, a lost key
file, one demo API key after another."""

from __future__ import annotations

import os
import stat

import pytest

from postguard.demo import seed
from postguard.errors import ConfigurationError, NotFound, Unauthenticated
from postguard.platform import Platform
from postguard.vault.kek import LocalKeyFile


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_demo_seed_is_refused_in_production(make_settings, tmp_path):
    key = tmp_path / "keys" / "kek.json"
    LocalKeyFile.create(key, dev=False)
    p = Platform(make_settings(mode="production", key_file=key))
    try:
        with pytest.raises(ConfigurationError, match="refused in production mode"):
            seed(p, shipments=5)
        with pytest.raises(NotFound):  # nothing was created: no operator, no staff, no key
            p.orgs.get("DEMO")
    finally:
        p.close()


def test_each_demo_start_leaves_one_valid_demo_key(make_settings):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    try:
        first = seed(p, shipments=5)["api_key"]
        assert p.orgs.authenticate(first).org_code == "DEMO"
        second = seed(p, shipments=5)["api_key"]
        third = seed(p, shipments=5)["api_key"]
        for old in (first, second):
            with pytest.raises(Unauthenticated):
                p.orgs.authenticate(old)
        assert p.orgs.authenticate(third).org_code == "DEMO"
        assert len(p.orgs.api_key_prefixes("DEMO", label="demo")) == 1
    finally:
        p.close()


@pytest.mark.fresh_database  # what a first start creates, not a copy
def test_data_directory_and_database_are_private(backend, make_settings, tmp_path, umask_022):
    p = Platform(make_settings())
    try:
        p.orgs.create(code="PERMPOST", name="Bưu chính Quyền")
        data = tmp_path / "data"
        assert _mode(data) == 0o700
        assert _mode(data / "kek.json") == 0o600
        if backend == "sqlite":
            files = [f for f in data.iterdir() if f.name.startswith("postguard.db")]
            assert {f.name for f in files} >= {"postguard.db", "postguard.db-wal"}
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        p.close()


def test_wide_permissions_left_by_an_earlier_version_are_narrowed(backend, make_settings, tmp_path, umask_022):
    Platform(make_settings()).close()
    data = tmp_path / "data"
    os.chmod(data, 0o755)
    db = data / "postguard.db"
    if backend == "sqlite":
        os.chmod(db, 0o644)
    p = Platform(make_settings())
    try:
        assert _mode(data) == 0o700
        if backend == "sqlite":
            assert _mode(db) == 0o600
    finally:
        p.close()


def test_a_missing_or_other_key_file_is_refused_over_protected_data(backend, make_settings, tmp_path):
    settings = make_settings()
    p = Platform(settings)
    p.orgs.create(code="KEYPOST", name="Bưu chính Khoá")
    p.close()
    key = settings.key_file
    kept = key.read_bytes()
    key.unlink()
    with pytest.raises(ConfigurationError) as missing:
        Platform(settings)
    assert "protected data exists" in missing.value.detail and "missing" in missing.value.detail
    assert str(key) in missing.value.detail and "restore the key file" in missing.value.detail
    assert not key.exists()  # no new key was made over the old data
    LocalKeyFile.create(key, dev=True)  # another key
    with pytest.raises(ConfigurationError) as other:
        Platform(settings)
    assert "protected data exists" in other.value.detail and "does not match it" in other.value.detail
    key.unlink()
    key.write_bytes(kept)
    os.chmod(key, 0o600)
    p = Platform(settings)  # the right key: starts, and the data reads
    try:
        assert p.orgs.get("KEYPOST").code == "KEYPOST"
        assert p.orgs.rotate_data_key("KEYPOST") == 2
    finally:
        p.close()


def test_platform_secrets_alone_count_as_protected_data(backend, make_settings):
    settings = make_settings()
    p = Platform(settings)
    p.audit.append(actor="test", action="probe")  # creates the access log's wrapped secrets, no organisation
    p.close()
    settings.key_file.unlink()
    LocalKeyFile.create(settings.key_file, dev=True)
    with pytest.raises(ConfigurationError, match="does not match it"):
        Platform(settings)
