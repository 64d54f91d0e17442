"""``postguard senders …``: operators' message templates, recorded notifications, the message and COD checks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import typer

from postguard.cli.common import open_platform, print_json
from postguard.errors import FieldError, InvalidInput

senders_app = typer.Typer(no_args_is_help=True, help="Message templates, sent notifications, message and COD checks.")
FIXED = ("template_id", "phone", "sent_at", "waybill")
MAX_CSV_BYTES = 50 * 1024 * 1024


@senders_app.command("template-add")
def template_add(org: str = typer.Option(..., "--org"), text: str = typer.Option(..., "--text"),
                 label: str = typer.Option("", "--label")) -> None:
    """Register a message template for an organisation (pending until verified)."""
    p = open_platform()
    print_json(p.senders.template_add(p.intel.cli_principal(), text=text, label=label, org_code=org))


@senders_app.command("template-verify")
def template_verify(template_id: int, revoke: bool = typer.Option(False, "--revoke")) -> None:
    """Verify (or with --revoke, revoke) a template: pending → verified → revoked; a revoked wording is
    registered again to come back."""
    p = open_platform()
    print_json(p.senders.template_set_status(p.intel.cli_principal(), template_id,
                                             status="revoked" if revoke else "verified"))


@senders_app.command("templates")
def templates(org: str | None = typer.Option(None, "--org"), status: str | None = typer.Option(None, "--status")) -> None:
    """List templates."""
    print_json(open_platform().senders.template_list(org_code=org, status=status))


@senders_app.command("import-notifications")
def import_notifications(path: Path = typer.Argument(..., exists=True, dir_okay=False),
                         org: str = typer.Option(..., "--org")) -> None:
    """Record sent notifications from a CSV (columns template_id, phone, sent_at, waybill, and one column per
    other placeholder: amount, time, date, link, hotline). Stored as keyed digests only; all or nothing."""
    raw = path.read_bytes()
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput("The file is too large.", [FieldError("file", "at most 50 MB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8.", [FieldError("file", "UTF-8 text")]) from None
    rows = list(csv.DictReader(io.StringIO(text)))
    items: list[dict[str, object]] = []
    for row in rows:
        if None in row:
            raise InvalidInput("A line has more cells than the header.", [FieldError(f"line {len(items) + 2}", "extra cells")])
        item = {k: v for k, v in row.items() if k in FIXED and v}
        item["values"] = {k: v for k, v in row.items() if k not in FIXED and v}
        items.append(item)
    p = open_platform()
    who = p.orgs.principal(org, actor="cli")
    total = {"received": 0, "recorded": 0, "already_recorded": 0}
    for start in range(0, len(items), 1000):
        try:
            out = p.senders.record(who, items[start:start + 1000])
        except InvalidInput as e:  # name the CSV line (the header is line 1)
            def line(field: str, start: int = start) -> str:
                head, _, rest = field.partition("]")
                n = int(head.removeprefix("items[")) if head.startswith("items[") else -2
                return f"line {start + n + 2}{rest}"
            raise InvalidInput(e.detail, [FieldError(line(f.field), f.message, code=f.code) for f in e.errors]) from None
        total = {k: total[k] + out[k] for k in total}
    print_json(total)


@senders_app.command("match")
def match(text: str = typer.Argument(..., help="the message, as received"),
          sender: str | None = typer.Option(None, "--sender", help="the SMS brandname, number or Zalo page it came from")
          ) -> None:
    """Which operator's template a message is (no proof on the command line: whether it was sent is not said)."""
    print_json(open_platform().senders.match_message(text, sender=sender).as_dict())
