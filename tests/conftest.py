"""Shared fixtures.

Databases: tests that use ``backend`` (directly or through ``db_url``, ``make_settings``, ``settings``,
``platform``, ``prebuilt``) run on SQLite, and on PostgreSQL too when marked ``both_databases`` (where
dialect behaviour matters: concurrency, locks, NOTIFY, migrations, RETURNING claims, the access-log
writer). ``POSTGUARD_TEST_DATABASES`` overrides that choice for every database test: ``postgres`` runs
them all on PostgreSQL alone (and leaves out the tests that use no database; CI runs the suite so a
second time), ``sqlite,postgres`` runs them all on both. The PostgreSQL runs skip cleanly when no
server answers, unless POSTGUARD_TEST_REQUIRE_POSTGRES=1 (as in CI), where its absence is a failure.

Each test gets a database of its own, already migrated: a copy of a database migrated once per
process (SQLite: the file copied; PostgreSQL: ``CREATE DATABASE … TEMPLATE``, the schema
``postguard_test``, dropped in the background after the test). Tests marked ``fresh_database``
start from an empty one, as a first start does. ``prebuilt`` goes one step further: a whole world
(staff, parcels, reports…) built once per process and backend, copied for each test.

Staff passwords are hashed with cheap argon2 parameters (``POSTGUARD_PASSWORD_TIME_COST=1``,
``POSTGUARD_PASSWORD_MEMORY_KIB=1024``) unless the environment says otherwise; the defaults are
checked by tests/integration/test_staff.py.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import queue
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

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
PG_SCHEMA = "postguard_test"  # the schema of every cloned test database (not ``public``, as a deployment may)
CHEAP_PASSWORDS = {"POSTGUARD_PASSWORD_TIME_COST": "1", "POSTGUARD_PASSWORD_MEMORY_KIB": "1024"}
BACKENDS = ("sqlite", "postgres")
DROPPERS = 3  # threads per process dropping used PostgreSQL test databases
_pg_ok: bool | None = None


def postgres_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            import psycopg

            with psycopg.connect(**_conninfo(), connect_timeout=3):
                _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def _conninfo(dbname: str | None = None) -> dict:
    from sqlalchemy.engine import make_url

    u = make_url(PG_URL)
    return dict(host=u.host, port=u.port or 5432, user=u.username, dbname=dbname or u.database, password=u.password)


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
    """A throw-away, empty schema in the PostgreSQL database of ``PG_URL``: the URL points its search_path there."""

    def __init__(self) -> None:
        import psycopg

        self.name = "t_" + secrets.token_hex(6)
        self.conninfo = _conninfo()
        with psycopg.connect(**self.conninfo, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{self.name}"')
        self.url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(**self.conninfo, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


# -- which databases ---------------------------------------------------------------------------------
def chosen_databases() -> tuple[str, ...] | None:
    """``POSTGUARD_TEST_DATABASES`` as a tuple of backends, or None when unset (the default policy)."""
    raw = os.environ.get("POSTGUARD_TEST_DATABASES", "").strip()
    if not raw:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if not names or set(names) - set(BACKENDS):
        raise pytest.UsageError(f"POSTGUARD_TEST_DATABASES={raw!r}: a comma-separated list of {', '.join(BACKENDS)}")
    return names


def pytest_configure(config):
    chosen_databases()  # a typo fails at once


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    names = chosen_databases()
    if names is None:
        names = BACKENDS if metafunc.definition.get_closest_marker("both_databases") else ("sqlite",)
    metafunc.parametrize("backend", [pytest.param(b, marks=pytest.mark.postgres) if b == "postgres" else b
                                     for b in names], indirect=True)


def pytest_collection_modifyitems(config, items):
    """A PostgreSQL-only run (``POSTGUARD_TEST_DATABASES=postgres``) leaves out the tests that use no
    database: they ran already, and would run exactly the same."""
    names = chosen_databases()
    if names is None or "sqlite" in names:
        return
    keep, drop = [], []
    for item in items:
        uses_db = "backend" in getattr(item, "fixturenames", ()) or item.get_closest_marker("postgres")
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- migrated databases, made once and copied ----------------------------------------------------------
def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:4]


class Templates:
    """Databases migrated once per process (each xdist worker has its own), and worlds built once,
    copied for each test that asks. PostgreSQL databases are named ``pgt_<host>_<pid>_<run>_<n>``
    and dropped by background threads, those of processes that died on this host too. (Each
    DROP DATABASE waits for a checkpoint; several at once share one, so a few threads keep up.)"""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: Path | None = None
        self._pg: str | None = None
        self._worlds: dict[str, tuple[Path, str | None, Any]] = {}
        self._serial = count(1)
        self._prefix = f"pgt_{_host_tag()}_{os.getpid()}_{secrets.token_hex(2)}"
        self._admin = None
        self._drops: queue.Queue = queue.Queue()
        self._droppers: list[threading.Thread] = []
        self._lock = threading.Lock()

    # SQLite
    def sqlite_template(self) -> Path:
        if self._sqlite is None:
            from postguard.db import migrate
            from postguard.db.engine import build_engine

            path = self.root / "sqlite" / "postguard.db"
            engine = build_engine(f"sqlite:///{path.as_posix()}", pool_size=1)
            try:
                migrate.upgrade(engine)
                with engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            self._sqlite = path
        return self._sqlite

    def sqlite_copy(self, path: Path) -> None:
        """The migrated database at ``path``, in a private directory, as a first start leaves it."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(self.sqlite_template(), path)
        os.chmod(path, 0o600)

    # PostgreSQL
    def pg_url(self, dbname: str) -> str:
        from sqlalchemy.engine import make_url

        u = make_url(PG_URL).set(database=dbname)
        u = u.update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
        return u.render_as_string(hide_password=False)

    def _exec(self, sql: str) -> None:
        import psycopg

        with self._lock:
            if self._admin is None or self._admin.closed:
                self._admin = psycopg.connect(**_conninfo(), autocommit=True)
            self._admin.execute(sql)

    def pg_template(self) -> str:
        if self._pg is None:
            import psycopg

            from postguard.db import migrate
            from postguard.db.engine import build_engine

            self._start_dropper()
            name = f"{self._prefix}_tpl"
            self._exec(f'CREATE DATABASE "{name}"')
            with psycopg.connect(**_conninfo(name), autocommit=True) as c:
                c.execute(f'CREATE SCHEMA "{PG_SCHEMA}"')
            engine = build_engine(self.pg_url(name), pool_size=1)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            self._pg = name
        return self._pg

    def pg_clone(self, template: str | None = None) -> str:
        """A new database copied from ``template`` (default: the migrated one); its name."""
        template = template or self.pg_template()
        name = f"{self._prefix}_{next(self._serial)}"
        for attempt in range(50):
            try:
                self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return name
            except Exception as e:  # the template's last connection may still be closing
                if "being accessed by other users" not in str(e) or attempt == 49:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def pg_drop(self, name: str) -> None:
        self._drops.put(name)

    def _start_dropper(self) -> None:
        if self._droppers:
            return
        for stale in self._stale():
            self._drops.put(stale)
        for n in range(DROPPERS):
            t = threading.Thread(target=self._drop_loop, name=f"drop-test-databases-{n}", daemon=True)
            t.start()
            self._droppers.append(t)

    def _stale(self) -> list[str]:
        """Test databases left on this host by processes that no longer run."""
        import psycopg
        from sqlalchemy.engine import make_url

        if make_url(PG_URL).host not in ("127.0.0.1", "localhost", "::1"):
            return []
        with psycopg.connect(**_conninfo(), autocommit=True) as c:
            names = c.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                              (f"pgt\\_{_host_tag()}\\_%",)).fetchall()
        out = []
        for (name,) in names:
            try:
                pid = int(name.split("_")[2])
                os.kill(pid, 0)
            except ProcessLookupError:
                out.append(name)
            except (ValueError, IndexError, PermissionError):
                pass
        return out

    def _drop_loop(self) -> None:
        import psycopg

        conn = None
        while True:
            name = self._drops.get()
            if name is None:
                break
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(**_conninfo(), autocommit=True)
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # dropped by another process meanwhile, or the server went away
                pass
        if conn is not None:
            conn.close()

    # worlds
    def world(self, backend: str, key: str, build: Callable[[Settings], Any], overrides: dict) -> tuple:
        """``(data_dir, pg_database, state)`` of the world ``key`` on ``backend`` with ``overrides``, built once."""
        key = f"{key}-{backend}-" + hashlib.sha256(repr(sorted(overrides.items())).encode()).hexdigest()[:8]
        if key not in self._worlds:
            data = self.root / "worlds" / key / "data"
            if backend == "sqlite":
                self.sqlite_copy(data / "postguard.db")
                dbname, url = None, f"sqlite:///{(data / 'postguard.db').as_posix()}"
            else:
                dbname = self.pg_clone()
                url = self.pg_url(dbname)
            state = build(Settings(data_dir=data, database_url=url, log_format="json", **overrides))
            if backend == "sqlite":
                _checkpoint_sqlite(data / "postguard.db")
            self._worlds[key] = (data, dbname, state)
        return self._worlds[key]

    def close(self) -> None:
        for _, dbname, _ in self._worlds.values():
            if dbname:
                self._drops.put(dbname)
        if self._pg:
            self._drops.put(self._pg)
        for _ in self._droppers:
            self._drops.put(None)
        deadline = time.monotonic() + 600
        for t in self._droppers:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._admin is not None:
            self._admin.close()


def _checkpoint_sqlite(path: Path) -> None:
    """Everything in the database file itself, so that copying the file copies all of it."""
    import sqlite3

    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()


@pytest.fixture(scope="session")
def _templates(tmp_path_factory):
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    t.close()


@pytest.fixture(scope="session", autouse=True)
def _cheap_passwords():
    """Cheap argon2 for every platform the tests start (in this process and the CLI's subprocesses),
    unless the environment asks for other parameters."""
    added = {k: v for k, v in CHEAP_PASSWORDS.items() if k not in os.environ}
    os.environ.update(added)
    yield
    for k in added:
        os.environ.pop(k, None)


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory, monkeypatch):
    """`audit verify` pins checkpoints under $XDG_STATE_HOME: a throw-away one per test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def backend(request):
    """``sqlite`` or ``postgres`` (parametrized by ``pytest_generate_tests`` above)."""
    return request.param


@pytest.fixture
def db_url(backend, tmp_path, request, _templates):
    """The URL of this test's own database: migrated already, or empty for ``fresh_database`` tests."""
    fresh = request.node.get_closest_marker("fresh_database") is not None
    if backend == "sqlite":
        path = tmp_path / "data" / "postguard.db"
        if not fresh:
            _templates.sqlite_copy(path)
        yield f"sqlite:///{path.as_posix()}"
        return
    require_postgres()
    if fresh:
        schema = PgSchema()
        try:
            yield schema.url
        finally:
            schema.drop()
        return
    name = _templates.pg_clone()
    try:
        yield _templates.pg_url(name)
    finally:
        _templates.pg_drop(name)


@pytest.fixture
def migrated_sqlite(_templates) -> Callable[[Path], None]:
    """``migrated_sqlite(path)`` puts a copy of a migrated SQLite database at ``path``, for tests that
    make their own settings."""
    return _templates.sqlite_copy


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
def prebuilt(backend, tmp_path, _templates):
    """``prebuilt(key, build, **settings) -> (settings, state)``: a private copy of a world that
    ``build(settings)`` made once per process, backend and ``settings`` (``build`` starts a platform
    on the settings it is given, builds, closes the platform and returns what the tests need to
    know). The copy's settings are ``settings`` with a data directory (``tmp_path/world0``, beside
    ``make_settings``' ``tmp_path/data``) and a database of this test's own; ``state`` is deep-copied
    for each test, so keep it small (a ``Faker``'s random state rather than the ``Faker``)."""
    made = []

    def get(key: str, build: Callable[[Settings], Any], **overrides) -> tuple[Settings, Any]:
        data, dbname, state = _templates.world(backend, key, build, overrides)
        own = tmp_path / f"world{next(serial)}"
        shutil.copytree(data, own)
        if dbname is None:
            url = f"sqlite:///{(own / 'postguard.db').as_posix()}"
        else:
            name = _templates.pg_clone(dbname)
            made.append(name)
            url = _templates.pg_url(name)
        return Settings(data_dir=own, database_url=url, log_format="json", **overrides), copy.deepcopy(state)

    serial = count()
    if backend == "postgres":
        require_postgres()
    yield get
    for name in made:
        _templates.pg_drop(name)


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


FAKER_SEED = 42


@pytest.fixture
def faker():
    from postguard.synthetic import Faker

    return Faker(FAKER_SEED)


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


def parcel_out_for_delivery(p: Platform, faker, *, password: str, rows: int = 1, hours: int = 1):
    """Operator VNP with a hub (``hub``) and a courier (``an``), ``rows`` shipments imported and the first
    out for delivery, assigned to the courier from an hour ago for ``hours`` more: ``(courier, rows)``."""
    from datetime import timedelta

    from postguard.db.base import utcnow

    p.orgs.create(code="VNP", name="Bưu điện")
    system = p.orgs.principal("VNP", actor="test")
    hub = p.staff.create(org_code="VNP", username="hub", display_name="Hub", role="hub", password=password)
    courier = p.staff.create(org_code="VNP", username="an", display_name="An", role="courier", password=password)
    made = list(faker.rows(rows))
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(made)))
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(system, made[0]["waybill"], status)
    now = utcnow()
    p.access.assign(hub, waybill=made[0]["waybill"], courier="an", window_start=now - timedelta(hours=1),
                    window_end=now + timedelta(hours=hours))
    return courier, made
