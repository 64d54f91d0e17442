"""Database: engine, sessions, schema (through Alembic migrations only)."""

from postguard.db.engine import Database

__all__ = ["Database"]
