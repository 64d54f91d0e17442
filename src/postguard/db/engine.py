"""Engines and sessions, built from injected settings (never at import time)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from postguard.files import private_file
from postguard.settings import Settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL for concurrent readers; FULL so every commit is fsync'd; secure_delete so that
    # shredded key material and ciphertext are overwritten in the file, not left in free pages.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache per connection (allocated as used; the default is 2 MiB): keeps the
    # indexes of a large shipments table in memory, so a bulk import's random index inserts neither
    # re-read evicted pages nor spill half-written ones to the WAL (about -3 µs per imported row).
    cur.execute("PRAGMA cache_size=-65536")
    # Checkpoint every ~40 MiB of WAL instead of every 4 MiB: a bulk import rewrites the same random
    # blind-index pages in every batch, and a checkpoint copies each page once however many times
    # it was rewritten since the last one (-25% insert time into a table of 400,000 shipments).
    # Shredding still checkpoints and truncates the WAL at once (ShipmentService._compact).
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def placeholder(dialect) -> str:
    """The driver's positional parameter marker, for statements run with ``exec_driver_sql``."""
    return "%s" if dialect.paramstyle in ("format", "pyformat") else "?"


def _file_db(parsed) -> bool:
    """A SQLite database in a file (SQLAlchemy pools its connections), not one in memory (one per thread)."""
    db = parsed.database or ""
    return db not in ("", ":memory:") and not db.startswith("file::memory:") and parsed.query.get("mode") != "memory"


def build_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> Engine:
    """An engine with at most ``pool_size`` connections, each kept once opened: a caller finding them
    all busy waits for one (up to 30 s) rather than opening a short-lived extra, since a new
    connection costs a round of pragmas (SQLite) or a log-in (PostgreSQL) and starts with a cold
    cache. An in-memory SQLite database keeps SQLAlchemy's one connection per thread."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            private_file(Path(parsed.database))  # 0600 in a 0700 directory: it holds personal data
        pool = {"pool_size": pool_size, "max_overflow": 0} if _file_db(parsed) else {}
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=0)


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and not _file_db(engine.url)


class Database:
    """The primary engine, optional read replicas, and a session factory for each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = build_engine(str(settings.database_url), pool_size=settings.database_pool_size)
        # The access-log writer's own connection (``AuditLog``): the thread leading a group commit
        # usually holds a request connection already (a reveal decides in its session, then
        # appends, then decrypts), so a writer drawing from the request pool would wait for
        # connections held by the very callers waiting for it, and time out with the pool full.
        # One connection suffices: one thread writes at a time. (An in-memory SQLite database is
        # one per connection, so there the writer shares the engine.)
        self.log_engine = self.engine if _in_memory(self.engine) else build_engine(
            str(settings.database_url), pool_size=1)
        self.replicas = [build_engine(u, pool_size=settings.database_pool_size) for u in settings.database_replica_urls]
        self.primary_sessions = self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._log_sessions = sessionmaker(self.log_engine, expire_on_commit=False)
        self._read_sessions = [sessionmaker(e, expire_on_commit=False) for e in self.replicas]
        self._rr = 0

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work on the primary: commits on success, rolls back on any error."""
        with self._sessions() as s:
            with s.begin():
                yield s

    @contextlib.contextmanager
    def log_session(self) -> Iterator[Session]:
        """A unit of work on the access-log writer's own connection; only the thread writing the
        log uses it (see ``AuditLog``)."""
        with self._log_sessions() as s:
            with s.begin():
                yield s

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only session on a replica when configured (round robin), else the primary."""
        if not self._read_sessions:
            with self._sessions() as s:
                yield s
            return
        self._rr = (self._rr + 1) % len(self._read_sessions)
        with self._read_sessions[self._rr]() as s:
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
        if self.log_engine is not self.engine:
            self.log_engine.dispose()
        for e in self.replicas:
            e.dispose()
