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


def read_with_progress(file: Path, run):
    """``run(stream, progress)`` over ``file`` opened for reading, with a progress bar on a terminal."""
    import sys

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    with file.open("rb") as f, Progress(
        TextColumn("importing"), BarColumn(), TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("import", total=file.stat().st_size)
        return run(f, lambda pos: bar.update(task, completed=pos))


SHOWN_ERRORS = 20  # row errors an import prints; the rest are counted (and written with --errors-out)


def print_import_report(report, errors_out: Path | None) -> None:
    """An import's report (``postguard.csvimport.ImportReport``): counts, notes and the first row errors
    on stderr (all of them as JSON in ``errors_out``); exit code 2 when a row was invalid."""
    data = report.as_dict()
    if errors_out:
        errors_out.write_text(json.dumps(data["errors"], ensure_ascii=False, indent=1))
    typer.echo(f"rows: {report.rows}  imported: {report.imported}  already present: {report.already_present}  "
               f"invalid: {report.invalid}")
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    for example in report.examples():
        typer.echo(f"  {example}", err=True)
    shown = report.errors[:SHOWN_ERRORS]
    for e in shown:
        typer.echo(f"  line {e.row}: {e.field}: {e.message}", err=True)
    if report.errors_total > len(shown):
        rows = report.invalid - len({e.row for e in shown})
        more = f"  … and {count(report.errors_total - len(shown), 'more error')}"
        more += f" in {count(rows, 'more invalid row')}" if rows > 0 else ""
        if errors_out:
            more += f" (written to {errors_out}" + (f", the first {len(report.errors):,})" if data["errors_truncated"] else ")")
        else:
            more += " (use --errors-out FILE to see them)"
        typer.echo(more, err=True)
    if report.invalid:
        raise typer.Exit(2)


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
