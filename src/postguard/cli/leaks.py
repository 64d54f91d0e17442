"""``postguard canaries …``, ``anomalies …``, ``alerts …`` and ``leaks …``: finding who leaked."""

from __future__ import annotations

from typing import Optional

import typer

from postguard.cli.common import OrgOpt, open_platform, print_json

canaries_app = typer.Typer(no_args_is_help=True, help="Canary shipments: numbers the operator owns, one per channel.")
pool_app = typer.Typer(no_args_is_help=True, help="The pool of numbers canaries draw from.")
anomalies_app = typer.Typer(no_args_is_help=True, help="Access anomaly detection over the access log.")
alerts_app = typer.Typer(no_args_is_help=True, help="Alerts for auditors.")
leaks_app = typer.Typer(no_args_is_help=True, help="Leak investigation.")
canaries_app.add_typer(pool_app, name="pool")


@pool_app.command("add")
def canaries_pool_add(
    phones: list[str] = typer.Argument(..., help="Numbers the operator owns (any Vietnamese form)"),
    org: str = OrgOpt,
) -> None:
    """Register numbers the operator owns for canaries (stored encrypted and as a keyed digest)."""
    p = open_platform()
    print_json(p.canaries.pool_add(p.orgs.principal(org, actor="cli"), phones))


@pool_app.command("list")
def canaries_pool_list(org: str = OrgOpt) -> None:
    """The pool, masked, with the channel each number was given to."""
    p = open_platform()
    print_json(p.canaries.pool(p.orgs.principal(org, actor="cli")))


@canaries_app.command("create")
def canaries_create(
    org: str = OrgOpt,
    channel: str = typer.Option(..., "--channel", help="courier:<username>, hub:<name>, cs:<username>, "
                                "apikey:<prefix> or export:<label>"),
    phone: Optional[str] = typer.Option(None, "--phone", help="This pool number (default: the next free one)"),
    waybill: Optional[str] = typer.Option(None, "--waybill", help="Waybill (default: shaped like recent ones)"),
) -> None:
    """Create a canary shipment for one channel (synthetic recipient, a pool number as phone)."""
    p = open_platform()
    print_json(p.canaries.create(p.orgs.principal(org, actor="cli"), channel=channel, phone=phone, waybill=waybill))


@canaries_app.command("list")
def canaries_list(org: str = OrgOpt) -> None:
    """Canary shipments with their channel and masked number."""
    p = open_platform()
    print_json(p.canaries.list(p.orgs.principal(org, actor="cli")))


def _when(text: Optional[str]):
    if text is None:
        return None
    from datetime import datetime, timedelta, timezone

    from postguard.errors import FieldError, InvalidInput

    t = text.strip()
    try:
        if t[-1:] in "hd" and t[:-1].isdigit():
            return datetime.now(timezone.utc) - timedelta(**{"hours" if t[-1] == "h" else "days": int(t[:-1])})
        when = datetime.fromisoformat(t)
    except ValueError:
        raise InvalidInput("Bad time.", [FieldError("since", "an ISO 8601 time or a span like 24h or 7d")]) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@anomalies_app.command("scan")
def anomalies_scan(
    org: str = OrgOpt,
    since: Optional[str] = typer.Option(None, "--since", help="ISO 8601 time or a span like 24h, 7d "
                                        "(default: POSTGUARD_ANOMALY_WINDOW_HOURS)"),
) -> None:
    """Compare each staff member and API key with its peers; raise an alert for each new finding."""
    print_json(open_platform().leaks.scan_anomalies(org.strip().upper(), since=_when(since)))


@alerts_app.command("list")
def alerts_list(
    org: str = OrgOpt,
    status: str = typer.Option("open", help="open, acknowledged or all"),
    kind: Optional[str] = typer.Option(None, help="break_glass, canary_reveal, canary_contact or anomaly"),
    limit: int = typer.Option(50, help="Page size (1-500)"),
) -> None:
    """Alerts, newest first."""
    p = open_platform()
    print_json(p.access_alerts.list(p.orgs.principal(org, actor="cli"), kind=kind, status=status, limit=limit))


@alerts_app.command("ack")
def alerts_ack(alert_id: int, org: str = OrgOpt, note: Optional[str] = typer.Option(None, help="Why it is closed")) -> None:
    """Acknowledge an alert (logged)."""
    p = open_platform()
    print_json(p.access_alerts.acknowledge(p.orgs.principal(org, actor="cli"), alert_id, note=note))


@leaks_app.command("triangulate")
def leaks_triangulate(waybill: str, org: str = OrgOpt) -> None:
    """Who revealed a shipment's personal data, at which stage, ranked (for a scam report about it)."""
    print_json(open_platform().leaks.triangulate(org.strip().upper(), waybill))
