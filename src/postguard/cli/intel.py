"""``postguard intel …``: check, report, official channels, the analysts' queue and decisions, and
the exchange of indicators with partners (export, import).

The command line acts as the platform (every scope): it is how platform administrators verify
official channels and how analysts without a console moderate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import count, open_platform, print_json

INT64_MAX = 2**63 - 1  # the largest id the database holds (as postguard.http.params, without importing FastAPI)

intel_app = typer.Typer(no_args_is_help=True, help="Scam intelligence: check, report, official channels, moderation.")
official_app = typer.Typer(no_args_is_help=True, help="Operators' official channels.")
intel_app.add_typer(official_app, name="official")


@intel_app.command("check")
def check(
    value: str = typer.Option(..., prompt=True, hide_input=True, help="Anything to check (asked for when omitted, not echoed)"),
    type: str | None = typer.Option(None, "--type", help="Force a type (phone, bank_account, ewallet, url, …)"),
) -> None:
    """Look anything up: phone, bank account, e-wallet, link, domain, social page, SMS brand name, app."""
    print_json(open_platform().intel.check(value, type=type, client="cli"))


@intel_app.command("report")
def report(
    value: list[str] = typer.Option(..., "--value", help="What was used; repeat for several"),
    category: str = typer.Option(..., help="fake_courier, fake_bank, fake_police, investment, … (see docs)"),
    description: str | None = typer.Option(None, help="What happened"),
    amount: int | None = typer.Option(None, "--amount", help="Amount lost, in đồng"),
    contact: str | None = typer.Option(None, help="The reporter's contact"),
    evidence: list[Path] = typer.Option([], "--evidence", help="Evidence file (image, PDF, audio); repeat"),
    org: str | None = typer.Option(None, "--org", help="Report as this organisation (weighs more)"),
) -> None:
    """File a scam report."""
    from postguard.intel.service import Upload

    p = open_platform()
    principal = p.orgs.principal(org, actor="cli") if org else None
    uploads = [Upload(path.read_bytes(), None) for path in evidence]
    print_json(p.intel.report(indicators=list(value), category=category, description=description,
                        amount_lost_vnd=amount, contact=contact, evidence=uploads, principal=principal,
                        client="cli"))


@official_app.command("add")
def official_add(
    org: str = typer.Option(..., "--org", help="Organisation code"),
    kind: str = typer.Option(..., help="domain, hotline, sms_brand, app, social, cod_account, ewallet"),
    value: str = typer.Option(..., help="The channel"),
    label: str = typer.Option("", help="What it is, e.g. 'Customer service hotline'"),
    verify: bool = typer.Option(False, "--verify", help="Verify it at once (platform administrators)"),
) -> None:
    """Register an organisation's official channel (pending until verified)."""
    p = open_platform()
    who = p.intel.cli_principal()
    ch = p.intel.official_add(who, kind=kind, value=value, label=label, org_code=org)
    if verify:
        ch = p.intel.official_set_status(who, ch["id"], status="verified")
    print_json(ch)


@official_app.command("verify")
def official_verify(channel: int = typer.Argument(..., min=1, max=INT64_MAX, help="Channel id"),
                    note: str = typer.Option("", help="How it was verified")) -> None:
    """Verify a registered channel (platform administrators)."""
    p = open_platform()
    print_json(p.intel.official_set_status(p.intel.cli_principal(), channel, status="verified", note=note))


@official_app.command("revoke")
def official_revoke(channel: int = typer.Argument(..., min=1, max=INT64_MAX, help="Channel id"),
                    note: str = typer.Option("", help="Why")) -> None:
    """Revoke a channel: it is no longer shown as official, and held reports count again."""
    p = open_platform()
    print_json(p.intel.official_set_status(p.intel.cli_principal(), channel, status="revoked", note=note))


@official_app.command("list")
def official_list(org: str | None = typer.Option(None, "--org", help="Only this organisation"),
                  status: str | None = typer.Option(None, help="pending, verified or revoked")) -> None:
    """List official channels."""
    print_json(open_platform().intel.official_list(org_code=org, status=status))


@official_app.command("seed")
def official_seed() -> None:
    """Register and verify the public channels of the operators named in the seed articles."""
    from postguard.intel.seed import seed_official

    platform = open_platform()
    print_json(seed_official(platform.intel, platform.orgs))


@intel_app.command("queue")
def queue(limit: int = typer.Option(50, help="How many (1-500)")) -> None:
    """The analysts' queue: appeals (overdue first), reports on official channels, corroborated indicators."""
    p = open_platform()
    print_json(p.intel.queue(p.intel.cli_principal(), limit=limit))


@intel_app.command("show")
def show(indicator: int = typer.Argument(..., min=1, max=INT64_MAX, help="Indicator id"),
         reveal: bool = typer.Option(False, "--reveal", help="Decrypt report texts and contacts (logged)")) -> None:
    """An indicator with its verdict, reports and decisions."""
    p = open_platform()
    print_json(p.intel.indicator(p.intel.cli_principal(), indicator, reveal=reveal))


@intel_app.command("decide")
def decide(indicator: int = typer.Argument(..., min=1, max=INT64_MAX, help="Indicator id"),
           action: str = typer.Option(..., help="confirm, dispute, delist or clear"),
           source: str = typer.Option("analyst", help="analyst or official_source (for confirm)"),
           note: str = typer.Option("", help="Why")) -> None:
    """Decide on an indicator (recorded in the access log)."""
    p = open_platform()
    print_json(p.intel.decide(p.intel.cli_principal(), indicator, action=action, source=source, note=note))


@intel_app.command("review")
def review(report_id: str = typer.Argument(..., help="Report reference"),
           action: str = typer.Option(..., help="accept or reject"),
           note: str = typer.Option("", help="Why")) -> None:
    """Accept a held report or reject an abusive one."""
    p = open_platform()
    print_json(p.intel.review_report(p.intel.cli_principal(), report_id, action=action, note=note))


@intel_app.command("appeal")
def appeal(value: str = typer.Option(..., prompt=True, hide_input=True, help="The flagged indicator"),
           statement: str = typer.Option(..., help="Why it should be delisted"),
           contact: str = typer.Option(..., help="How analysts reach the owner")) -> None:
    """Appeal a flagged indicator on its owner's behalf."""
    print_json(open_platform().intel.appeal(value=value, statement=statement, contact=contact, client="cli"))


@intel_app.command("appeal-decide")
def appeal_decide(appeal_id: str = typer.Argument(..., help="Appeal reference"),
                  uphold: bool = typer.Option(..., "--uphold/--reject", help="Uphold (delist) or reject"),
                  note: str = typer.Option("", help="Why")) -> None:
    """Decide an appeal (recorded in the access log)."""
    p = open_platform()
    print_json(p.intel.decide_appeal(p.intel.cli_principal(), appeal_id, uphold=uphold, note=note))


@intel_app.command("private-check")
def private_check(
    value: str = typer.Argument(..., help="What to check: a phone number, account, wallet, link, domain, page or app"),
    server: str = typer.Option(..., "--server", help="The postguard server, e.g. https://postguard.example"),
    type: str | None = typer.Option(None, "--type", help="Force a type (phone, bank_account, url, ...)"),
    prefix_bits: int = typer.Option(16, "--prefix-bits", help="Bucket prefix length: 8, 12 or 16 "
                                                              "(fewer bits: a larger crowd, a larger answer)"),
) -> None:
    """Check privately: the server sees only a bucket prefix and a blinded element, never the value;
    the match is decided here. Exit code 3 when the value is flagged."""
    from postguard.intel.lookup_client import check_remote

    try:
        out = check_remote(value, server=server, type=type, prefix_bits=prefix_bits)
    except (RuntimeError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    print_json(out)
    if out["flagged"]:
        raise typer.Exit(3)


@intel_app.command("regrade")
def regrade() -> None:
    """Grade every reported indicator afresh (verdicts decay with time): refreshes the verdicts that
    sharing, the private-lookup index and its snapshot use. Run it daily."""
    print_json(open_platform().intel.regrade_all())


@intel_app.command("lookup-index")
def lookup_index() -> None:
    """Fill in the private-lookup entries of indicators stored before the index existed (servers
    also do this on their first private lookup)."""
    print_json({"filled": open_platform().lookups.backfill()})


@intel_app.command("export")
def intel_export(
    format: str = typer.Option("stix", "--format", help="stix (STIX 2.1 bundle) or misp (MISP event)"),
    out: Path = typer.Option(..., "--out", help="File to write (JSON)"),
) -> None:
    """Export every shared indicator (all TLP levels) as a STIX 2.1 bundle or a MISP event."""
    if format not in ("stix", "misp"):
        raise typer.BadParameter("choose stix or misp", param_hint="--format")
    p = open_platform()
    who = p.intel.cli_principal()
    data = p.sharing.export_stix(who) if format == "stix" else p.sharing.export_misp(who)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    n = sum(o["type"] == "indicator" for o in data["objects"]) if format == "stix" else (
        len(data["Event"]["Attribute"]) + len(data["Event"]["Object"]))
    typer.echo(f"wrote {count(n, 'indicator')} to {out}")


@intel_app.command("import")
def intel_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A STIX 2.1 bundle (JSON)"),
    org: str = typer.Option(..., "--org", help="Code of the partner organisation the bundle comes from"),
) -> None:
    """Import a partner's STIX 2.1 bundle as reports by that organisation (all or nothing; a newer
    sighting adds a newer report, a partner's delisting withdraws its reports)."""
    from postguard.orgs.service import Principal

    p = open_platform()
    partner = p.orgs.get(org)
    who = Principal(org_id=partner.id, org_code=partner.code, actor="cli")
    out = p.sharing.import_stix(file.read_bytes(), principal=who, source=file.name)
    typer.echo(f"added {out['added']}  updated {out['updated']}  unchanged {out['unchanged']}  "
               f"withdrawn {out['withdrawn']}")


evidence_app = typer.Typer(no_args_is_help=True, help="Signed evidence bundles for other countries' authorities.")


@evidence_app.command("bundle")
def evidence_bundle(indicator: int = typer.Argument(..., min=1, max=INT64_MAX, help="Indicator id (the case)"),
                    out: Path = typer.Option(..., "--out", dir_okay=False, help="JSON file to write (mode 0600)")) -> None:
    """One signed bundle for a case: the indicator, its reports, a timeline, evidence files' SHA-256 and the
    access-log entries with inclusion proofs against a signed checkpoint (openings logged)."""
    import os

    from postguard.errors import FieldError, InvalidInput

    if out.exists():
        raise InvalidInput("Nothing was written.", [FieldError("out", "the file exists; choose a new one")])
    p = open_platform()
    bundle = p.intel.bundles.build(p.intel.cli_principal(), indicator)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(bundle, f, ensure_ascii=False, indent=1)
    typer.echo(f"wrote {out}: {len(bundle['reports'])} reports, {len(bundle['evidence_files'])} evidence files, "
               f"{len(bundle['log']['proofs'])} access-log entries; signer {bundle['signer']}")


@evidence_app.command("key")
def evidence_key() -> None:
    """The bundles' verifier key: publish it, so that authorities can pin it (`evidence verify --signer`)."""
    p = open_platform()
    typer.echo(p.intel.bundles.signer_key())


@evidence_app.command("verify")
def evidence_verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The bundle"),
    signer: Optional[str] = typer.Option(None, "--signer", help="The issuer's published bundle key (pin it)"),
    log_key: Optional[str] = typer.Option(None, "--log-key", help="The issuer's published access-log key"),
    files: Optional[Path] = typer.Option(None, "--files", exists=True, file_okay=False,
                                         help="A folder of the evidence files, to match against the digests"),
) -> None:
    """Check a bundle offline (no database, no network): signature, access-log proofs, evidence files."""
    from postguard.errors import FieldError, InvalidInput
    from postguard.privacy.proofs import verify_evidence

    try:
        data = json.loads(file.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The file is not JSON.", [FieldError("file", "an evidence bundle (JSON)")]) from None
    given = [f.read_bytes() for f in sorted(files.iterdir()) if f.is_file()] if files else []
    print_json(verify_evidence(data, signer_key=signer, log_key=log_key, files=given))
