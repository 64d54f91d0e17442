"""``postguard couriers …``, ``proxy-pool …`` and ``calls …``: couriers' numbers and masked calling."""

from __future__ import annotations

from typing import Optional

import typer

from postguard.cli.common import OrgOpt, open_platform, print_json

couriers_app = typer.Typer(no_args_is_help=True, help="Couriers: the numbers they call customers from.")
phones_app = typer.Typer(no_args_is_help=True, help="A courier's registered calling numbers.")
proxy_app = typer.Typer(no_args_is_help=True, help="Masked calling: an operator's pool of proxy numbers.")
calls_app = typer.Typer(no_args_is_help=True, help="Masked calls: the console telephony adapter.")
couriers_app.add_typer(phones_app, name="phones")


UserOpt = typer.Option(..., "--username", help="The courier's username")


PhoneOpt = typer.Option(..., "--phone", help="The number, in any Vietnamese form")


@phones_app.command("add")
def couriers_phones_add(org: str = OrgOpt, username: str = UserOpt, phone: str = PhoneOpt) -> None:
    """Register a courier's calling number and send it a one-time code (the answer's challenge goes
    with the code to ``phones verify``)."""
    print_json(open_platform().couriers.add_phone(org_code=org, username=username, phone=phone))


@phones_app.command("verify")
def couriers_phones_verify(org: str = OrgOpt, username: str = UserOpt, phone: str = PhoneOpt,
                           code: str = typer.Option(..., "--code", help="The code the number received"),
                           challenge: str = typer.Option(..., "--challenge",
                                                         help="The challenge that phones add printed")) -> None:
    """Verify a registered number with its one-time code; it then counts in citizen checks."""
    print_json(open_platform().couriers.verify_phone(org_code=org, username=username, phone=phone, code=code,
                                           challenge=challenge))


@phones_app.command("list")
def couriers_phones_list(org: str = OrgOpt, username: Optional[str] = typer.Option(None, "--username")) -> None:
    """Registered numbers (last three digits only) with their courier and status."""
    print_json(open_platform().couriers.list_phones(org_code=org, username=username))


@proxy_app.command("add")
def proxy_pool_add(number: str = typer.Argument(..., help="A proxy number the operator owns"),
                   org: str = OrgOpt) -> None:
    """Add a number to an operator's masked-calling pool."""
    print_json(open_platform().calls.proxy_add(org_code=org, number=number))


@proxy_app.command("list")
def proxy_pool_list(org: str = OrgOpt) -> None:
    """The pool's numbers with their live sessions."""
    print_json(open_platform().calls.proxy_list(org_code=org))


@proxy_app.command("masked-only")
def proxy_pool_masked_only(org: str = OrgOpt,
                           enabled: bool = typer.Option(..., "--on/--off",
                                                        help="Masked-only delivery on or off")) -> None:
    """Masked-only delivery: couriers get the recipient's number masked and call through the pool."""
    print_json(open_platform().calls.set_masked_only(org_code=org, enabled=enabled))


@calls_app.command("route")
def calls_route(caller: str = typer.Option(..., "--caller", help="The number calling"),
                dialled: str = typer.Option(..., "--dialled", help="The proxy number dialled")) -> None:
    """The console telephony adapter: where a call to a proxy number goes, or the refusal (exit 0 either way)."""
    print_json(open_platform().calls.route(caller=caller, dialled=dialled, actor="cli"))


@calls_app.command("verify")
def calls_verify(identity: Optional[str] = typer.Option(None, "--identity",
                                                        help="The SIP Identity header value (omit: none)"),
                 from_: str = typer.Option(..., "--from", help="The call's From number"),
                 to: list[str] = typer.Option(..., "--to", help="The call's To number (repeat for several)"),
                 received_at: Optional[str] = typer.Option(
                     None, "--received-at", help="When the INVITE arrived: ISO 8601 with an offset, or Unix "
                     "seconds (default: now)")) -> None:
    """The console telephony adapter, terminating side: the STIR/SHAKEN verification status (verstat) of
    a call's Identity header, its certificate fetched from the x5u on POSTGUARD_X5U_ALLOWED_HOSTS only
    (exit 0 whatever the status)."""
    print_json(open_platform().stir.verify(identity=identity, orig=from_, dest=to, received_at=received_at))
