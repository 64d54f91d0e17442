"""``postguard orgs …`` and ``staff …``: organisations and the staff accounts that sign in."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, open_platform, print_json

orgs_app = typer.Typer(no_args_is_help=True, help="Organisations (postal operators).")
staff_app = typer.Typer(no_args_is_help=True, help="Staff accounts (sign in at /staff/login).")


@orgs_app.command("create")
def orgs_create(
    code: str = typer.Argument(..., help="Short code, e.g. VNPOST"),
    name: str = typer.Option(..., "--name", help="Display name"),
    hotline: Optional[str] = typer.Option(None, help="Official customer hotline"),
) -> None:
    """Create an organisation and its vault keys."""
    org = open_platform().orgs.create(code=code, name=name, hotline=hotline)
    typer.echo(f"created organisation {org.code}")


@orgs_app.command("list")
def orgs_list() -> None:
    """List organisations."""
    print_json([{"code": o.code, "name": o.name, "hotline": o.hotline} for o in open_platform().orgs.list()])


@staff_app.command("create")
def staff_create(
    org: str = OrgOpt,
    username: str = typer.Option(..., "--username", help="2-64 lower-case letters, digits, '.', '_' or '-'"),
    name: str = typer.Option(..., "--name", help="The name shown in pages and the access log's views"),
    role: str = typer.Option(..., "--role", help="admin, hub, courier, cs, auditor, dpo; analyst at PG-INTEL only"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input "
                                        "(first line) instead of asking for it"),
) -> None:
    """Create a staff account; the password is asked for (never an argument) and stored as argon2id.
    Analysts are created at the platform organisation: ``--org PG-INTEL --role analyst``."""
    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                else typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    made = open_platform().staff.create(org_code=org, username=username, display_name=name, role=role,
                                    password=password, actor="cli")
    typer.echo(f"created {made.role} {made.username} at {made.org_code}")


@staff_app.command("status")
def staff_status(
    org: str = OrgOpt,
    username: str = typer.Option(..., "--username"),
    status: str = typer.Argument(..., help="active, suspended or offboarded (sessions end at once)"),
) -> None:
    """Suspend, offboard or reactivate a staff account (logged)."""
    open_platform().staff.set_status(org_code=org, username=username.strip().lower(), status=status, actor="cli")
    typer.echo(f"{username} at {org.upper()}: {status}")
