"""``postguard shipments …``, ``labels …`` and ``retention …``: protected shipment records."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, count, open_platform, print_json

SHOWN_ERRORS = 20  # row errors printed; the rest are counted (and written with --errors-out)
shipments_app = typer.Typer(no_args_is_help=True, help="Protected shipment records.")
labels_app = typer.Typer(no_args_is_help=True, help="Privacy labels.")
retention_app = typer.Typer(no_args_is_help=True, help="Retention: shred personal data after delivery.")


@shipments_app.command("import")
def shipments_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV in the import format"),
    org: str = OrgOpt,
    errors_out: Optional[Path] = typer.Option(None, "--errors-out", help="Also write the row errors as JSON here"),
) -> None:
    """Import shipments from CSV: row-level report, idempotent by waybill, atomic batches."""
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    p = open_platform()
    principal = p.orgs.principal(org, actor="cli")
    size = file.stat().st_size
    with file.open("rb") as f, Progress(
        TextColumn("importing"), BarColumn(), TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("import", total=size)
        report = p.shipments.import_csv(principal, f, progress=lambda pos: bar.update(task, completed=pos))
    data = report.as_dict()
    if errors_out:
        errors_out.write_text(json.dumps(data["errors"], ensure_ascii=False, indent=1))
    typer.echo(f"rows: {report.rows}  imported: {report.imported}  already present: {report.already_present}  "
               f"invalid: {report.invalid}")
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    for example in report.renamed_examples:
        typer.echo(f"  {example}", err=True)
    shown = report.errors[:SHOWN_ERRORS]
    for e in shown:
        typer.echo(f"  line {e.row}: {e.field}: {e.message}", err=True)
    if report.errors_total > len(shown):
        rows = report.invalid - len({e.row for e in shown})
        more = f"  … and {count(report.errors_total - len(shown), 'more error')}"
        more += f" in {count(rows, 'more invalid row')}" if rows > 0 else ""
        if errors_out:
            more += f" (written to {errors_out}" + (f", the first {len(report.errors):,})" if data["errors_truncated"] else ")")
        else:
            more += " (use --errors-out FILE to see them)"
        typer.echo(more, err=True)
    if report.invalid:
        raise typer.Exit(2)


@shipments_app.command("sample")
def shipments_sample(
    file: Path = typer.Argument(Path("shipments.csv"), dir_okay=False, help="Where to write the CSV"),
    rows: int = typer.Option(20, "--rows", min=1, max=100_000, help="How many shipments"),
    prefix: str = typer.Option("DS", "--prefix", help="Waybills are PREFIX000000000, PREFIX000000001, …"),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists"),
) -> None:
    """Write a CSV of synthetic shipments in the import format (synthetic people, shops and phones, real
    2025 wards), to try `shipments import` with. Needs no data directory."""
    from postguard.demo import demo_rows
    from postguard.errors import Conflict, FieldError, InvalidInput
    from postguard.synthetic import write_csv

    if not prefix.isalnum() or len(prefix) > 20:
        raise InvalidInput("Invalid prefix.", [FieldError("--prefix", "letters and digits, at most 20")])
    if file.exists() and not force:
        raise Conflict(f"{file} exists; use --force to overwrite it.")
    with file.open("w", encoding="utf-8", newline="") as out:
        write_csv(demo_rows(rows, seed=7, prefix=prefix.upper())[:rows], out)
    typer.echo(f"wrote {count(rows, 'synthetic shipment')} to {file}")


@shipments_app.command("get")
def shipments_get(waybill: str, org: str = OrgOpt) -> None:
    """Show one shipment, masked."""
    p = open_platform()
    print_json(p.shipments.get(p.orgs.principal(org, actor="cli"), waybill))


@shipments_app.command("list")
def shipments_list(
    org: str = OrgOpt,
    status: Optional[str] = typer.Option(None, help="Only this status"),
    limit: int = typer.Option(50, help="Page size (1-500)"),
    after: Optional[str] = typer.Option(None, help="Cursor: last waybill of the previous page"),
) -> None:
    """List shipments, masked."""
    p = open_platform()
    print_json(p.shipments.list(p.orgs.principal(org, actor="cli"), status=status, limit=limit, after=after))


@shipments_app.command("search")
def shipments_search(
    org: str = OrgOpt,
    phone: str = typer.Option(..., prompt=True, hide_input=True, help="Phone (asked for when omitted, not echoed)"),
) -> None:
    """Find shipments by sender or recipient phone (results masked)."""
    p = open_platform()
    print_json(p.shipments.search_by_phone(p.orgs.principal(org, actor="cli"), phone))


@shipments_app.command("status")
def shipments_status(waybill: str, status: str, org: str = OrgOpt) -> None:
    """Move a shipment along its lifecycle."""
    p = open_platform()
    print_json(p.shipments.set_status(p.orgs.principal(org, actor="cli"), waybill, status))


@shipments_app.command("shred")
def shipments_shred(waybill: str, org: str = OrgOpt) -> None:
    """Destroy one shipment's personal data now (crypto-shredding); statistics stay."""
    p = open_platform()
    p.shipments.shred(p.orgs.principal(org, actor="cli"), waybill)
    typer.echo(f"shredded {waybill}")


@shipments_app.command("stats")
def shipments_stats(org: str = OrgOpt) -> None:
    """Anonymous statistics: counts by status and province."""
    p = open_platform()
    print_json(p.shipments.stats(p.orgs.principal(org, actor="cli")))


@labels_app.command("print")
def labels_print(
    waybills: list[str] = typer.Argument(..., help="One or more waybills"),
    org: str = OrgOpt,
    out: Path = typer.Option(Path("labels.pdf"), "--out", help="PDF file to write"),
    site: Optional[str] = typer.Option(None, "--site", help="The site's address on the labels (QR code, call-check "
                                       "address); default POSTGUARD_PUBLIC_BASE_URL, else http://127.0.0.1:8000"),
) -> None:
    """Print privacy labels (100 × 150 mm, one per page) to a PDF."""
    p = open_platform()
    if site is not None and not (site.startswith(("http://", "https://")) and len(site) <= 200 and site.isprintable()
                                 and " " not in site):
        from postguard.errors import FieldError, InvalidInput

        raise InvalidInput("Invalid site address.", [FieldError("--site", "an http:// or https:// address")])
    pdf = p.labels.render(p.orgs.principal(org, actor="cli"), waybills, site=site)
    out.write_bytes(pdf)
    typer.echo(f"wrote {count(len(dict.fromkeys(waybills)), 'label')} to {out}")


@retention_app.command("run")
def retention_run() -> None:
    """Shred personal data of shipments finished more than POSTGUARD_RETENTION_DAYS ago; delete spent
    one-time-code challenges."""
    p = open_platform()
    n = p.shipments.run_retention()
    typer.echo(f"shredded {count(n, 'shipment')} older than {count(p.settings.retention_days, 'day')} after completion")
