"""Each worker's memory of the courier registry, for the citizen check.

The anonymous check asks one question per call: what is this number in the registry (an active
courier's verified phone, an operator's proxy number, or nothing)? ``Directory`` keeps those answers
in memory, keyed by the keyed phone digest (never the number), and forgets all of them as soon as
anything in the registry changes anywhere:

- a change is a committed insert, update or delete of a courier phone or a proxy number, of a staff
  member's status, name or organisation, or of an operator's code, name or hotline, made through the
  ORM (every service writes that way). The session hooks installed by ``watch`` see it;
- the worker that commits it forgets at commit, before the request that made it returns;
- other workers on the same SQLite file see a shared 8-byte counter (``<database>-registry``,
  memory-mapped) that the committing worker bumps: one memory read per check;
- other workers on PostgreSQL get a notification sent inside the committing transaction (so only
  a commit sends it) on a connection each worker keeps listening. Its channel is named after the
  schema (``postguard_registry_`` and 16 hex digits of its MD5), because notifications are per
  database: deployments in other schemas of the same database neither wake nor empty this one's
  memory, and a stray ``NOTIFY postguard_registry`` does nothing. While that
  connection is down or not yet listening, the worker keeps nothing and reads the database for
  every check; each (re)connection forgets everything.

So a suspension or offboarding counts at the next check on the worker that made it, and on the
others within the notification's delivery time (milliseconds; on SQLite, at once).
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import make_url

from postguard import memo
from postguard.logging import get_logger

log = get_logger("postguard.callerid.directory")

CHANNEL = "postguard_registry"  # + "_" + 16 hex digits of the MD5 of the schema's name
# the channel of the transaction's own schema, computed by the server where the change commits
_NOTIFY_SQL = (f"SELECT pg_notify('{CHANNEL}_' || left(md5(coalesce(current_schema(), '')), 16), '')")
MAX_ENTRIES = 200_000  # answers kept per worker (oldest dropped first)
_PENDING = "postguard_registry_changed"
_MISSING = object()


class Signal:
    """Moves whenever the registry may have changed. ``current()`` is the version, or None while it
    cannot be trusted (then nothing is kept). This one sees only its own process's commits: for an
    in-memory database, which no other process can open."""

    def __init__(self) -> None:
        self.version = 0
        self._lock = threading.Lock()

    def current(self) -> int | None:
        return self.version

    def committed(self) -> None:
        """A transaction that changed the registry has committed in this process."""
        with self._lock:
            self.version += 1

    def notify_sql(self) -> str | None:
        """SQL to run inside the changing transaction (PostgreSQL's NOTIFY), or None."""
        return None

    def close(self) -> None:
        pass


class FileSignal(Signal):
    """Every process using one SQLite file shares a memory-mapped counter beside it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)
            self._map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)
        self._counter = ctypes.c_uint64.from_buffer(self._map)  # reads the shared page directly

    def current(self) -> int | None:
        return self._counter.value

    def committed(self) -> None:
        import fcntl

        with self._lock, open(self.path, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # against other processes' read-modify-write; released at close
            self._counter.value += 1

    def close(self) -> None:
        self._counter = ctypes.c_uint64(self._counter.value)  # let go of the mapping before closing it
        with contextlib.suppress(Exception):
            self._map.close()


class PostgresSignal(Signal):
    """LISTENs on its own connection in a daemon thread; every notification moves the version.
    Not live (``current()`` is None) until listening, and again whenever the connection drops."""

    def __init__(self, engine, *, retry_seconds: float = 1.0) -> None:
        super().__init__()
        self.engine, self.retry_seconds = engine, retry_seconds
        self.live = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> int | None:
        if not self.live:
            self._start()
            return None
        return self.version

    def notify_sql(self) -> str | None:
        return _NOTIFY_SQL

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._listen, name="postguard-registry-listen", daemon=True)
                self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self.engine.raw_connection()
                conn = raw.driver_connection
                raw.detach()  # this thread's own, outside the pool
                try:
                    conn.rollback()
                    conn.autocommit = True
                    (channel,) = conn.execute(
                        f"SELECT '{CHANNEL}_' || left(md5(coalesce(current_schema(), '')), 16)").fetchone()
                    conn.execute(f'LISTEN "{channel}"')
                    self.committed()  # forget what was kept before listening
                    self.live = True
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.committed()
                finally:
                    self.live = False
                    self.committed()
                    with contextlib.suppress(Exception):
                        conn.close()
            except Exception as exc:  # the database is away: read it for every check until back
                if not self._stop.is_set():
                    log.warning("registry listener down", error=type(exc).__name__)
            self._stop.wait(self.retry_seconds)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


def signal_for(engine) -> Signal:
    """The signal fitting the database: PostgreSQL's NOTIFY, a counter file beside an SQLite file,
    or this process alone for an in-memory database."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "postgresql":
        return PostgresSignal(engine)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        return FileSignal(path.with_name(path.name + "-registry"))
    return Signal()


# -- what counts as a change -------------------------------------------------------------------------
def _watched() -> dict[type, tuple[str, ...] | None]:
    """Mapped class → the attributes whose change matters (None: any change, insert or delete)."""
    from postguard.access.models import Staff
    from postguard.callerid.models import CourierPhone, ProxyNumber
    from postguard.orgs.models import Organisation

    return {CourierPhone: None, ProxyNumber: None, Staff: ("status", "display_name", "org_id"),
            Organisation: ("code", "name", "hotline")}


def _changes_registry(session, watched) -> bool:
    for obj in chain(session.new, session.deleted):
        if type(obj) in watched:
            return True
    for obj in session.dirty:
        attrs = watched.get(type(obj), ())
        if attrs is None:
            return True
        if attrs:
            state = inspect(obj).attrs
            if any(state[a].history.has_changes() for a in attrs):
                return True
    return False


def watch(sessions, signal: Signal) -> None:
    """Install the session hooks on a ``sessionmaker``: a flush that changes the registry marks the
    transaction (and, on PostgreSQL, queues its NOTIFY in it); its commit moves ``signal``."""
    watched = _watched()

    @event.listens_for(sessions, "after_flush")
    def _flushed(session, _ctx) -> None:
        if session.info.get(_PENDING) or not _changes_registry(session, watched):
            return
        session.info[_PENDING] = True
        sql = signal.notify_sql()
        if sql:
            session.connection().exec_driver_sql(sql)

    @event.listens_for(sessions, "after_commit")
    def _committed(session) -> None:
        if session.info.pop(_PENDING, False):
            signal.committed()

    @event.listens_for(sessions, "after_soft_rollback")
    def _rolled_back(session, _previous) -> None:
        session.info.pop(_PENDING, None)


class Directory:
    """Registry answers by phone digest, kept while ``signal`` stays at the version they were read at."""

    def __init__(self, signal: Signal, *, max_entries: int = MAX_ENTRIES) -> None:
        self.signal = signal
        self.max_entries = max_entries
        # (version, answers by digest, what callers derive from them): replaced, never cleared, when
        # the version moves, so a late writer fills the old dicts.
        self._state: tuple[int | None, OrderedDict[bytes, Any], OrderedDict] = (None, OrderedDict(), OrderedDict())

    def _current(self) -> tuple[int | None, OrderedDict[bytes, Any], OrderedDict] | None:
        version = self.signal.current()
        if version is None:
            return None
        state = self._state
        if state[0] != version:
            state = self._state = (version, OrderedDict(), OrderedDict())
        return state

    def get(self, digest: bytes, load: Callable[[], Any]) -> Any:
        found = self.peek(digest)
        if found is not _MISSING:
            return found
        return self.load(digest, load)

    def peek(self, digest: bytes) -> Any:
        """The kept answer, or ``MISSING``."""
        state = self._current()
        return _MISSING if state is None else state[1].get(digest, _MISSING)

    def derived(self) -> OrderedDict | None:
        """A dict for values computed from the kept answers (fill it with ``keep``), forgotten with
        them; None while nothing can be kept."""
        state = self._current()
        return None if state is None else state[2]

    def keep(self, entries: OrderedDict, key: Any, value: Any) -> None:
        """Add to one of the kept dicts, dropping its oldest entry when full."""
        memo.keep(entries, key, value, self.max_entries)

    def load(self, digest: bytes, load: Callable[[], Any]) -> Any:
        """Read through ``load`` and keep the answer if nothing changed meanwhile."""
        version = self.signal.current()
        value = load()
        if version is not None and self.signal.current() == version:
            state = self._state
            if state[0] == version:
                self.keep(state[1], digest, value)
        return value


MISSING = _MISSING
