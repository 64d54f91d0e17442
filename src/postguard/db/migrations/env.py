"""Alembic environment: the connection and the models' metadata are always handed in by
postguard.db.migrate."""

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - postguard always passes a connection
    raise RuntimeError("run migrations through `postguard db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=config.attributes["metadata"],
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
