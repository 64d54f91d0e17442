"""Schema changes only through Alembic migrations, on SQLite and PostgreSQL alike.

The schema the models declare (``postguard.models.metadata``, the registry above the services) is
handed in by the caller: this module imports no service. Without it, migrations run with the
kernel's ``Base.metadata``, which carries the constraint naming convention they rely on.

On PostgreSQL the upgrade holds a transaction-level advisory lock so that several workers
starting at once migrate one after another (the first does the work, the others find nothing to do).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, MetaData, text

from postguard.db.base import Base
from postguard.errors import ConfigurationError

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x706F73746775617264 & 0x7FFFFFFFFFFFFFFF  # "postguard"


def _config(connection, metadata: MetaData | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["metadata"] = Base.metadata if metadata is None else metadata
    return cfg


def upgrade(engine: Engine, revision: str = "head", *, metadata: MetaData | None = None) -> None:
    if revision == "head" and _at_head(engine):  # every start: no lock, no whole-database check
        return
    _run(engine, command.upgrade, revision, metadata)


def _at_head(engine: Engine) -> bool:
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(_config(conn)).get_current_head()
        return MigrationContext.configure(conn).get_current_revision() == head


def downgrade(engine: Engine, revision: str, *, metadata: MetaData | None = None) -> None:
    _run(engine, command.downgrade, revision, metadata)


def _run(engine: Engine, step, revision: str, metadata: MetaData | None = None) -> None:
    """One migration step in one transaction, on SQLite too: its driver opens a transaction only
    before a data change, so the step begins one itself, and a failure leaves no half-rebuilt table.
    On SQLite, foreign keys are off while it runs: a batch operation rebuilds a table (copy, drop,
    rename), and dropping a parent table with them on would delete every child row through
    ON DELETE CASCADE (an organisation's API keys, for one). Rows the step leaves without their
    parent (beyond those that were already) fail it."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # only outside a transaction does this pragma take effect
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            driver: Any = conn.connection.driver_connection  # sqlite3.Connection
            legacy, driver.isolation_level = driver.isolation_level, None  # the step's BEGIN is ours
        try:
            with conn.begin():
                if sqlite:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    dangling = set(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
                else:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
                try:
                    step(_config(conn, metadata), revision)
                except CommandError as e:  # e.g. a database migrated by a newer postguard
                    raise ConfigurationError(f"The database schema cannot be migrated: {e}") from None
                if sqlite and (broken := set(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()) - dangling):
                    raise ConfigurationError(f"A migration left rows without their parent row: {sorted(broken)[:5]}")
        finally:
            if sqlite:
                driver.isolation_level = legacy
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def pending_changes(engine: Engine, metadata: MetaData) -> list:
    """What the models in ``metadata`` declare that the migrated database lacks (empty when in step:
    `alembic check`)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"}
        )
        return compare_metadata(ctx, metadata)


def revision(engine: Engine, message: str, metadata: MetaData) -> None:
    """Autogenerate a new migration from the models in ``metadata`` (developers only)."""
    with engine.begin() as conn:
        command.revision(_config(conn, metadata), message=message, autogenerate=True)
