"""Shared fixtures. Integration tests run on SQLite and on PostgreSQL (each test in its own schema);
the PostgreSQL half skips cleanly when no server answers, unless POSTGUARD_TEST_REQUIRE_POSTGRES=1
(as in CI), where its absence is a failure."""

from __future__ import annotations

import io
import os
import secrets
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from postguard.platform import Platform
from postguard.settings import Settings

# Shared, noisy machines: no per-example deadline. CI explores more examples.
hypothesis_settings.register_profile("default", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, max_examples=300,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_URL = os.environ.get("POSTGUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_ok: bool | None = None


def postgres_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            import psycopg
            from sqlalchemy.engine import make_url

            u = make_url(PG_URL)
            with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database,
                                 password=u.password, connect_timeout=3):
                _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_available(), reason="no Redis server on 127.0.0.1:6379")


def require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("POSTGUARD_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but not reachable at {PG_URL}")
        pytest.skip("no PostgreSQL server reachable")


class PgSchema:
    """A throw-away schema: the URL points its search_path there."""

    def __init__(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.name = "t_" + secrets.token_hex(6)
        u = make_url(PG_URL)
        self.conninfo = dict(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, password=u.password)
        with psycopg.connect(**self.conninfo, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{self.name}"')
        self.url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(**self.conninfo, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory, monkeypatch):
    """`audit verify` pins checkpoints under $XDG_STATE_HOME: a throw-away one per test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request):
    return request.param


@pytest.fixture
def db_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'data' / 'postguard.db').as_posix()}"
        return
    require_postgres()
    schema = PgSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture
def make_settings(tmp_path, db_url):
    def make(**overrides) -> Settings:
        base = dict(data_dir=tmp_path / "data", database_url=db_url, log_format="json")
        base.update(overrides)
        return Settings(**base)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def platform(settings):
    p = Platform(settings)
    yield p
    p.close()


@pytest.fixture
def org(platform):
    o = platform.orgs.create(code="TESTPOST", name="Bưu chính Thử nghiệm")
    return o


@pytest.fixture
def principal(platform, org):
    return platform.orgs.principal(org.code, actor="test")


def csv_bytes(rows, *, bom: bool = False) -> bytes:
    from postguard.synthetic import write_csv

    buf = io.StringIO()
    write_csv(rows, buf, bom=bom)
    return buf.getvalue().encode("utf-8")


@pytest.fixture
def faker():
    from postguard.synthetic import Faker

    return Faker(42)


SHARED = Path(__file__).resolve().parents[2] / "shared"


def run_cli(monkeypatch, capsys, *args, stdin: str | None = None) -> tuple[int, str, str]:
    """Run the ``postguard`` command line in this process: (exit code, stdout, stderr)."""
    from postguard.cli.main import main

    monkeypatch.setattr("sys.argv", ["postguard", *args])
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
