"""``postguard takedown …``: takedown requests for confirmed scam sites (create, list, show, pack,
send, status). The command line acts as the platform (every scope); ``--by`` names the analyst
written to the access log and the request's history."""

from __future__ import annotations

from pathlib import Path

import typer

from postguard.cli.common import open_platform, print_json

INT64_MAX = 2**63 - 1

takedown_app = typer.Typer(no_args_is_help=True, help="Takedown requests for confirmed scam sites.")
STATUS_CHOICES = "sent, acknowledged, removed or refused"


def _who(p, by: str):
    name = "".join(c for c in by if c.isalnum() or c in "._-")[:60]
    return p.orgs.platform_principal(actor=f"cli:{name}" if name else "cli")


ByOpt = typer.Option("", "--by", help="Who acts (written to the access log and the history as cli:<name>)")


@takedown_app.command("create")
def create(
    indicator: int | None = typer.Option(None, "--indicator", min=1, max=INT64_MAX, help="A confirmed domain or url indicator"),
    site: str | None = typer.Option(None, "--site", help="Or the site's domain or link"),
    reason: str = typer.Option("", "--reason", help="The analysts' statement for the letter"),
    registrar_email: str | None = typer.Option(None, "--registrar-email", help="The registrar's abuse address"),
    registrar_url: str | None = typer.Option(None, "--registrar-url", help="Or its web form (https)"),
    registrar_name: str | None = typer.Option(None, "--registrar-name"),
    hosting_email: str | None = typer.Option(None, "--hosting-email", help="The hosting provider's abuse address"),
    hosting_url: str | None = typer.Option(None, "--hosting-url"),
    hosting_name: str | None = typer.Option(None, "--hosting-name"),
    platform_email: str | None = typer.Option(None, "--platform-email", help="Override the built-in platform contact"),
    platform_url: str | None = typer.Option(None, "--platform-url"),
    platform_name: str | None = typer.Option(None, "--platform-name"),
    include_report: list[str] = typer.Option([], "--include-report", help="A report whose text goes into the pack; repeat"),
    by: str = ByOpt,
) -> None:
    """One request per recipient (registrar or registry, hosting provider, platform); run again to add a contact."""
    from postguard.takedown.service import ContactIn

    p = open_platform()
    print_json(p.takedowns.create(
        _who(p, by), indicator_id=indicator, site=site, reason=reason,
        registrar=ContactIn(registrar_name, registrar_email, registrar_url),
        hosting=ContactIn(hosting_name, hosting_email, hosting_url),
        platform_contact=ContactIn(platform_name, platform_email, platform_url), include_reports=include_report))


@takedown_app.command("list")
def list_(status: str | None = typer.Option(None, help="draft, sent, acknowledged, removed, refused or failed"),
          site: str | None = typer.Option(None, help="A domain: its requests and those of names below it"),
          overdue: bool = typer.Option(False, "--overdue", help="Sent longer ago than POSTGUARD_TAKEDOWN_OVERDUE_DAYS"),
          limit: int = typer.Option(100, help="How many (1-500)")) -> None:
    """Takedown requests, newest first."""
    p = open_platform()
    print_json(p.takedowns.list(_who(p, ""), status=status, site=site, overdue=overdue, limit=limit))


@takedown_app.command("show")
def show(ref: str = typer.Argument(..., help="The request (TD-…)")) -> None:
    """One request with its history."""
    p = open_platform()
    print_json(p.takedowns.get(_who(p, ""), ref))


@takedown_app.command("pack")
def pack(ref: str = typer.Argument(..., help="The request (TD-…)"),
         out: Path = typer.Option(..., "--out", help="Where to write the ZIP (mode 0600)"),
         by: str = ByOpt) -> None:
    """Write the request's evidence pack (evidence opened through the door, logged)."""
    import os

    p = open_platform()
    _name, data = p.takedowns.pack(_who(p, by), ref)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)
    print_json({"ref": ref, "out": str(out), "bytes": len(data)})


@takedown_app.command("send")
def send(ref: str = typer.Argument(..., help="The request (TD-…)"), by: str = ByOpt) -> None:
    """Send a draft or failed request by e-mail (POSTGUARD_TAKEDOWN_SENDER), the pack attached."""
    p = open_platform()
    print_json(p.takedowns.send(_who(p, by), ref))


@takedown_app.command("status")
def status(ref: str = typer.Argument(..., help="The request (TD-…)"),
           to: str = typer.Argument(..., help=STATUS_CHOICES),
           note: str = typer.Option("", "--note", help="What the recipient answered (at most 2,000 characters)"),
           by: str = ByOpt) -> None:
    """Record an answer, or that a request was sent by other means (a web form)."""
    p = open_platform()
    print_json(p.takedowns.set_status(_who(p, by), ref, status=to, note=note))
