"""What every command module shares: the platform factory, JSON output and common options.

Command modules (one per command group) import this module; the root (``postguard.cli.main``)
imports the command modules. Nothing here imports a command module."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from postguard.errors import ConfigurationError
from postguard.settings import Settings

OrgOpt = typer.Option(..., "--org", help="Organisation code")


def new_in_missing_data_dir(settings: Settings) -> list[Path]:
    """What a start would create from nothing: the files (the embedded database, the key file) it
    would put in a data directory that does not exist. Empty when the data directory exists or
    nothing goes in it (a PostgreSQL database and a key file kept elsewhere)."""
    data_dir = Path(settings.data_dir)
    if data_dir.exists():
        return []
    db = Path(str(settings.database_url).removeprefix("sqlite:///")) if settings.is_sqlite else None
    return [p for p in (db, settings.key_file) if p is not None and Path(p).resolve().is_relative_to(data_dir.resolve())]


def open_platform(migrate: bool = True, *, create: bool = False):
    """The platform of this command: settings from the environment, logging configured, the
    database migrated first unless ``migrate`` is false. A data directory that does not exist is
    refused, not created empty with a new key (a command run from another folder would otherwise
    start a new, empty installation there): ``postguard init`` (``create``) creates one."""
    from postguard.logging import configure_logging
    from postguard.platform import Platform

    settings = Settings()
    configure_logging(settings)
    if not create and new_in_missing_data_dir(settings):
        where = Path(settings.data_dir).resolve()
        raise ConfigurationError(
            f"no postguard data directory at {where}; nothing was created. Run the command where its data "
            "directory is, or set POSTGUARD_DATA_DIR to it; to start a new installation there, run `postguard init`.")
    return Platform(settings, migrate_on_start=migrate)


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the word in the right number: ``1 label``, ``2 labels``, ``0 entries`` (``plural``
    for a word whose plural is not ``word`` + s)."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def print_json(data) -> None:
    """Print ``data`` as indented JSON (what most commands answer)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
