"""``postguard dsr …`` and ``incidents …``: the data-protection officer's requests and breaches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, open_platform, print_json

dsr_app = typer.Typer(no_args_is_help=True, help="Data-subject requests (the data-protection officer's work).")
incidents_app = typer.Typer(no_args_is_help=True, help="Personal-data breach incidents and their 72-hour clock.")


ByOpt = typer.Option(..., "--by", help="Username of the data-protection officer acting (logged)")


@dsr_app.command("list")
def dsr_list(
    org: str = OrgOpt,
    status: Optional[str] = typer.Option(None, help="received, acknowledged or completed"),
    by: str = ByOpt,
) -> None:
    """List an operator's requests with their deadlines and overdue flags."""
    p = open_platform()
    print_json(p.privacy.list_requests(p.privacy.dpo(org, by), status=status))


@dsr_app.command("ack")
def dsr_ack(ref: str = typer.Argument(..., help="Request reference, e.g. DSR-AB12CD34"), org: str = OrgOpt,
            by: str = ByOpt) -> None:
    """Acknowledge a request (due within 2 working days of receipt)."""
    p = open_platform()
    print_json(p.privacy.acknowledge(p.privacy.dpo(org, by), ref))


@dsr_app.command("complete")
def dsr_complete(ref: str = typer.Argument(..., help="Request reference"), org: str = OrgOpt,
                 by: str = ByOpt) -> None:
    """Complete a request; a deletion shreds the person's finished parcels and logs a receipt (it stays
    open while parcels are travelling: run it again once they are delivered)."""
    p = open_platform()
    print_json(p.privacy.complete(p.privacy.dpo(org, by), ref))


@dsr_app.command("export")
def dsr_export(
    ref: str = typer.Argument(..., help="Reference of an access request"),
    org: str = OrgOpt,
    by: str = ByOpt,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the export here (mode 0600) instead of stdout"),
) -> None:
    """The person's shipments (their own fields, decrypted through the door, logged) and access history
    with proofs, as JSON."""
    import os

    p = open_platform()
    data = p.privacy.export(p.privacy.dpo(org, by), ref)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    typer.echo(f"wrote the export of {ref} to {out}")


@incidents_app.command("create")
def incidents_create(
    org: str = OrgOpt,
    by: str = ByOpt,
    detected_at: str = typer.Option(..., "--detected-at", help="ISO 8601; without an offset, Viet Nam time"),
    description: str = typer.Option(..., "--description", help="What happened (no personal data)"),
    affected: int = typer.Option(0, "--affected", help="Estimated number of people affected"),
) -> None:
    """Record a personal-data breach; the authority must be notified within 72 hours of detection."""
    p = open_platform()
    print_json(p.privacy.create_incident(p.privacy.dpo(org, by), detected_at=detected_at, description=description,
                                   affected_estimate=affected))


@incidents_app.command("list")
def incidents_list(org: str = OrgOpt, by: str = ByOpt) -> None:
    """List incidents with their notification deadlines and overdue flags."""
    p = open_platform()
    print_json(p.privacy.list_incidents(p.privacy.dpo(org, by)))


@incidents_app.command("notify")
def incidents_notify(ref: str = typer.Argument(..., help="Incident reference, e.g. INC-AB12CD34"),
                     org: str = OrgOpt, by: str = ByOpt) -> None:
    """Record that the authority was notified (now)."""
    p = open_platform()
    print_json(p.privacy.notify_incident(p.privacy.dpo(org, by), ref))


dossier_app = typer.Typer(no_args_is_help=True, help="Dossiers generated from the running system (in Vietnamese).")
OutOpt = typer.Option(..., "--out", dir_okay=False, help="File to write: .md (Markdown) or .pdf")


def _write_dossier(kind: str, org: str, by: str, out: Path, ref: str | None = None) -> None:
    from postguard.errors import FieldError, InvalidInput

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("md", "pdf"):
        raise InvalidInput("The dossier was not written.", [FieldError("out", "a file name ending in .md or .pdf")])
    p = open_platform()
    doc = p.privacy.make_dossier(p.privacy.dpo(org, by), kind, ref=ref)
    out.write_bytes(doc.render(fmt))
    typer.echo(f"wrote {out}: {doc.title}")


@dossier_app.command("dpia")
def dossier_dpia(org: str = OrgOpt, by: str = ByOpt, out: Path = OutOpt) -> None:
    """The personal-data impact assessment: purposes and who may use them, every protected field, retention,
    safeguards, sharing, risks, with the access log's figures of the last 12 months."""
    _write_dossier("dpia", org, by, out)


@dossier_app.command("security")
def dossier_security(org: str = OrgOpt, by: str = ByOpt, out: Path = OutOpt) -> None:
    """The system description of the security-level proposal: parts, data, users, connections, controls."""
    _write_dossier("security", org, by, out)


@dossier_app.command("breach")
def dossier_breach(ref: str = typer.Argument(..., help="Incident reference, e.g. INC-AB12CD34"), org: str = OrgOpt,
                   by: str = ByOpt, out: Path = OutOpt) -> None:
    """The notification of a recorded breach to the authority, with its 72-hour deadline."""
    _write_dossier("breach", org, by, out, ref=ref)
