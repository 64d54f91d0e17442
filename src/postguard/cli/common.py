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


def new_in_missing_data_dir(settings: Settings) -> bool:
    """Whether a start would make a new, empty installation: an embedded database created, with a new
    key file, in a data directory that does not exist. (A database that exists, PostgreSQL's above
    all, is never started with a new key over its protected data: ``postguard.vault.keycheck``.)"""
    data_dir = Path(settings.data_dir)
    if data_dir.exists() or not settings.is_sqlite:
        return False
    db = Path(str(settings.database_url).removeprefix("sqlite:///"))
    return not db.exists() and db.resolve().is_relative_to(data_dir.resolve())


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


def local_time(text: str | None, field: str):
    """An ISO 8601 time given on the command line (None stays None); without an offset it is Viet Nam time."""
    from datetime import datetime

    from postguard.errors import FieldError, InvalidInput
    from postguard.privacy.deadlines import VN

    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field} is not a date and time; nothing was done.", [FieldError(field, "ISO 8601, e.g. "
                                                                "2026-12-01T08:00+07:00")]) from None
    return when if when.tzinfo else when.replace(tzinfo=VN)  # a local time typed in Viet Nam
