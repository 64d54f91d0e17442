"""What every command module shares: the platform factory, JSON output and common options.

Command modules (one per command group) import this module; the root (``postguard.cli.main``)
imports the command modules. Nothing here imports a command module."""

from __future__ import annotations

import json

import typer

from postguard.settings import Settings

OrgOpt = typer.Option(..., "--org", help="Organisation code")


def open_platform(migrate: bool = True):
    """The platform of this command: settings from the environment, logging configured, the
    database migrated first unless ``migrate`` is false."""
    from postguard.logging import configure_logging
    from postguard.platform import Platform

    settings = Settings()
    configure_logging(settings)
    return Platform(settings, migrate_on_start=migrate)


def print_json(data) -> None:
    """Print ``data`` as indented JSON (what most commands answer)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
