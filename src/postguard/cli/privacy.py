"""``postguard dsr …`` and ``incidents …``: the data-protection officer's requests and breaches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, local_time, open_platform, print_json

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


lawful_app = typer.Typer(no_args_is_help=True, help="Authorities' requests for personal data: two approvals, then "
                         "one disclosure through the door.")
ActorOpt = typer.Option(..., "--by", help="Username of the DPO or administrator acting (logged)")


@lawful_app.command("record")
def lawful_record(
    org: str = OrgOpt, by: str = ActorOpt,
    authority: str = typer.Option(..., "--authority", help="police, court, procuracy, cyber_security or other"),
    authority_name: str = typer.Option(..., "--authority-name", help="The requesting office, as on the request"),
    basis: str = typer.Option(..., "--basis", help="The legal basis (law and article) the request relies on"),
    case: str = typer.Option(..., "--case", help="The case or file number"),
    deadline: str = typer.Option(..., "--deadline", help="The authority's deadline (ISO 8601; no offset: Viet Nam time)"),
    waybill: list[str] = typer.Option([], "--waybill", help="A waybill in scope (repeatable)"),
    phone: list[str] = typer.Option([], "--phone", help="A phone number in scope (repeatable; kept sealed)"),
) -> None:
    """Record a request as it arrived. Nothing is disclosed before the DPO and an administrator approve it."""
    p = open_platform()
    print_json(p.privacy.lawful.record(p.duties.member(org, by), authority_kind=authority, authority_name=authority_name,
                                       legal_basis=basis, case_number=case, deadline_at=local_time(deadline, "deadline"),
                                       waybills=waybill, phones=phone))


@lawful_app.command("approve")
def lawful_approve(ref: str = typer.Argument(..., help="Request reference, e.g. LR-AB12CD34"), org: str = OrgOpt,
                   by: str = ActorOpt) -> None:
    """Approve as the DPO or as an administrator; the second approval makes the request approved."""
    p = open_platform()
    print_json(p.privacy.lawful.approve(p.duties.member(org, by), ref))


@lawful_app.command("refuse")
def lawful_refuse(ref: str = typer.Argument(...), org: str = OrgOpt, by: str = ActorOpt,
                  reason: str = typer.Option(..., "--reason", help="Why (e.g. no legal basis given)")) -> None:
    """Refuse a request before anything is disclosed."""
    p = open_platform()
    print_json(p.privacy.lawful.refuse(p.duties.member(org, by), ref, reason=reason))


@lawful_app.command("disclose")
def lawful_disclose(ref: str = typer.Argument(...), org: str = OrgOpt, by: str = ActorOpt,
                    out: Path = typer.Option(..., "--out", dir_okay=False, help="JSON file to write (mode 0600)")) -> None:
    """The DPO discloses an approved request, once: every opening is logged naming the request."""
    import os

    from postguard.errors import FieldError, InvalidInput

    if out.exists():
        raise InvalidInput("Nothing was disclosed.", [FieldError("out", "the file exists; choose a new one")])
    p = open_platform()
    data = p.privacy.lawful.disclose(p.duties.member(org, by), ref)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    typer.echo(f"wrote {out}: {len(data['shipments'])} shipments"
               + (f", {len(data['not_found'])} waybills not found" if data["not_found"] else ""))


@lawful_app.command("notice")
def lawful_notice(ref: str = typer.Argument(...), org: str = OrgOpt, by: str = ActorOpt,
                  deferred: bool = typer.Option(False, "--deferred", help="Informing them is deferred (give --reason)"),
                  reason: Optional[str] = typer.Option(None, "--reason", help="Why it is deferred")) -> None:
    """Record that the people concerned were informed, or that it is deferred and why."""
    p = open_platform()
    print_json(p.privacy.lawful.notice(p.duties.member(org, by), ref, informed=not deferred, reason=reason))


@lawful_app.command("register")
def lawful_register(org: str = OrgOpt, by: str = ActorOpt,
                    year: int = typer.Option(..., "--year", help="The year, e.g. 2026")) -> None:
    """A year's requests with their authority, basis, approvals, disclosure and notice: for the annual report."""
    p = open_platform()
    print_json(p.privacy.lawful.register(p.duties.member(org, by), year))
