"""``postguard intel …``: check, report, official channels, the analysts' queue and decisions.

The command line acts as the platform (every scope): it is how platform administrators verify
official channels and how analysts without a console moderate."""

from __future__ import annotations

from pathlib import Path

import typer

INT64_MAX = 2**63 - 1  # the largest id the database holds (as postguard.api.params, without importing FastAPI)

intel_app = typer.Typer(no_args_is_help=True, help="Scam intelligence: check, report, official channels, moderation.")
official_app = typer.Typer(no_args_is_help=True, help="Operators' official channels.")
intel_app.add_typer(official_app, name="official")


def _p():
    from postguard.cli.main import _platform

    return _platform()


def _out(data) -> None:
    from postguard.cli.main import _out as out

    out(data)


@intel_app.command("check")
def check(
    value: str = typer.Option(..., prompt=True, hide_input=True, help="Anything to check (asked for when omitted, not echoed)"),
    type: str | None = typer.Option(None, "--type", help="Force a type (phone, bank_account, ewallet, url, …)"),
) -> None:
    """Look anything up: phone, bank account, e-wallet, link, domain, social page, SMS brand name, app."""
    _out(_p().intel.check(value, type=type, client="cli"))


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

    p = _p()
    principal = p.orgs.principal(org, actor="cli") if org else None
    uploads = [Upload(path.read_bytes(), None) for path in evidence]
    _out(p.intel.report(indicators=list(value), category=category, description=description,
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
    p = _p()
    who = p.intel.cli_principal()
    ch = p.intel.official_add(who, kind=kind, value=value, label=label, org_code=org)
    if verify:
        ch = p.intel.official_set_status(who, ch["id"], status="verified")
    _out(ch)


@official_app.command("verify")
def official_verify(channel: int = typer.Argument(..., min=1, max=INT64_MAX, help="Channel id"),
                    note: str = typer.Option("", help="How it was verified")) -> None:
    """Verify a registered channel (platform administrators)."""
    p = _p()
    _out(p.intel.official_set_status(p.intel.cli_principal(), channel, status="verified", note=note))


@official_app.command("revoke")
def official_revoke(channel: int = typer.Argument(..., min=1, max=INT64_MAX, help="Channel id"),
                    note: str = typer.Option("", help="Why")) -> None:
    """Revoke a channel: it is no longer shown as official, and held reports count again."""
    p = _p()
    _out(p.intel.official_set_status(p.intel.cli_principal(), channel, status="revoked", note=note))


@official_app.command("list")
def official_list(org: str | None = typer.Option(None, "--org", help="Only this organisation"),
                  status: str | None = typer.Option(None, help="pending, verified or revoked")) -> None:
    """List official channels."""
    _out(_p().intel.official_list(org_code=org, status=status))


@official_app.command("seed")
def official_seed() -> None:
    """Register and verify the public channels of the operators named in the seed articles."""
    from postguard.intel.seed import seed_official

    _out(seed_official(_p()))


@intel_app.command("queue")
def queue(limit: int = typer.Option(50, help="How many (1-500)")) -> None:
    """The analysts' queue: appeals (overdue first), reports on official channels, corroborated indicators."""
    p = _p()
    _out(p.intel.queue(p.intel.cli_principal(), limit=limit))


@intel_app.command("show")
def show(indicator: int = typer.Argument(..., min=1, max=INT64_MAX, help="Indicator id"),
         reveal: bool = typer.Option(False, "--reveal", help="Decrypt report texts and contacts (logged)")) -> None:
    """An indicator with its verdict, reports and decisions."""
    p = _p()
    _out(p.intel.indicator(p.intel.cli_principal(), indicator, reveal=reveal))


@intel_app.command("decide")
def decide(indicator: int = typer.Argument(..., min=1, max=INT64_MAX, help="Indicator id"),
           action: str = typer.Option(..., help="confirm, dispute, delist or clear"),
           source: str = typer.Option("analyst", help="analyst or official_source (for confirm)"),
           note: str = typer.Option("", help="Why")) -> None:
    """Decide on an indicator (recorded in the access log)."""
    p = _p()
    _out(p.intel.decide(p.intel.cli_principal(), indicator, action=action, source=source, note=note))


@intel_app.command("review")
def review(report_id: str = typer.Argument(..., help="Report reference"),
           action: str = typer.Option(..., help="accept or reject"),
           note: str = typer.Option("", help="Why")) -> None:
    """Accept a held report or reject an abusive one."""
    p = _p()
    _out(p.intel.review_report(p.intel.cli_principal(), report_id, action=action, note=note))


@intel_app.command("appeal")
def appeal(value: str = typer.Option(..., prompt=True, hide_input=True, help="The flagged indicator"),
           statement: str = typer.Option(..., help="Why it should be delisted"),
           contact: str = typer.Option(..., help="How analysts reach the owner")) -> None:
    """Appeal a flagged indicator on its owner's behalf."""
    _out(_p().intel.appeal(value=value, statement=statement, contact=contact, client="cli"))


@intel_app.command("appeal-decide")
def appeal_decide(appeal_id: str = typer.Argument(..., help="Appeal reference"),
                  uphold: bool = typer.Option(..., "--uphold/--reject", help="Uphold (delist) or reject"),
                  note: str = typer.Option("", help="Why")) -> None:
    """Decide an appeal (recorded in the access log)."""
    p = _p()
    _out(p.intel.decide_appeal(p.intel.cli_principal(), appeal_id, uphold=uphold, note=note))


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
    _out(out)
    if out["flagged"]:
        raise typer.Exit(3)


@intel_app.command("regrade")
def regrade() -> None:
    """Grade every reported indicator afresh (verdicts decay with time): refreshes the verdicts that
    sharing, the private-lookup index and its snapshot use. Run it daily."""
    _out(_p().intel.regrade_all())


@intel_app.command("lookup-index")
def lookup_index() -> None:
    """Fill in the private-lookup entries of indicators stored before the index existed (servers
    also do this on their first private lookup)."""
    _out({"filled": _p().lookups.backfill()})
