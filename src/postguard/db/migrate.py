"""Schema changes only through Alembic migrations, on SQLite and PostgreSQL alike.

On PostgreSQL the upgrade holds a transaction-level advisory lock so that several workers
starting at once migrate one after another (the first does the work, the others find nothing to do).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from postguard.db.models import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x706F73746775617264 & 0x7FFFFFFFFFFFFFFF  # "postguard"


def _config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        command.upgrade(_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        command.downgrade(_config(conn), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def pending_changes(engine: Engine) -> list:
    """What the models declare that the migrated database lacks (empty when in step: `alembic check`)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"}
        )
        return compare_metadata(ctx, metadata)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration (developers only)."""
    with engine.begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
