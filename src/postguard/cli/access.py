"""``postguard orgs …`` and ``staff …``: organisations and the staff accounts that sign in."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, local_time, open_platform, print_json

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


duties_app = typer.Typer(no_args_is_help=True, help="Staff duties: the confidentiality policy and who acknowledged it.")
ManagerOpt = typer.Option(..., "--by", help="Username of the administrator or data-protection officer acting (logged)")


@duties_app.command("publish")
def duties_publish(
    org: str = OrgOpt, by: str = ManagerOpt,
    version: str = typer.Option(..., "--version", help="The version's name, e.g. 2026.1"),
    title: str = typer.Option(..., "--title", help="The policy's title"),
    text: Path = typer.Option(..., "--text", exists=True, dir_okay=False, help="A UTF-8 file with the policy's text"),
    effective_at: Optional[str] = typer.Option(None, "--effective-at", help="When it takes effect (default now; "
                                               "a time without an offset is Viet Nam time)"),
    valid_days: int = typer.Option(365, "--valid-days", help="Days an acknowledgement lasts"),
    training: bool = typer.Option(False, "--training", help="Staff must also complete training"),
) -> None:
    """Publish a version of the confidentiality policy. Once it is in force, the door refuses personal data
    to staff who have not acknowledged it."""
    p = open_platform()
    print_json(p.duties.publish(p.duties.member(org, by), version=version, title=title,
                                body=text.read_text(encoding="utf-8"), effective_at=local_time(effective_at, "effective_at"),
                                valid_days=valid_days, training_required=training))


@duties_app.command("record")
def duties_record(
    username: str = typer.Argument(..., help="The member of staff"), org: str = OrgOpt, by: str = ManagerOpt,
    version: str = typer.Option(..., "--version", help="The policy version"),
    paper: bool = typer.Option(False, "--paper", help="They acknowledged it on paper"),
    training: Optional[str] = typer.Option(None, "--training", help="The training they completed (course, place)"),
    at: Optional[str] = typer.Option(None, "--at", help="When (default now)"),
) -> None:
    """Record a paper acknowledgement and/or completed training for a member of staff."""
    p = open_platform()
    print_json(p.duties.record(p.duties.member(org, by), username=username, version=version,
                               how="paper" if paper else None, training=training, at=local_time(at, "at")))


@duties_app.command("report")
def duties_report(org: str = OrgOpt, by: str = ManagerOpt) -> None:
    """Who is current with the policy in force, who is due within 14 days (remind them) and who is not."""
    p = open_platform()
    print_json(p.duties.report(p.duties.member(org, by)))
