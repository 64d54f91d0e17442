"""``postguard subscribers …``: carriers' subscriber records, the junk-SIM audit and the queue."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, count, open_platform, print_import_report, print_json, read_with_progress

subscribers_app = typer.Typer(no_args_is_help=True, help="Subscriber records: junk-SIM audit and re-verification.")


@subscribers_app.command("import")
def subscribers_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV in the subscriber format"),
    org: str = OrgOpt,
    errors_out: Optional[Path] = typer.Option(None, "--errors-out", help="Also write the row errors as JSON here"),
) -> None:
    """Import subscriber records from CSV (sealed at import): row-level report, idempotent by ICCID."""
    p = open_platform()
    principal = p.orgs.principal(org, actor="cli")
    report = read_with_progress(file, lambda f, progress: p.subscribers.import_csv(principal, f, progress=progress))
    print_import_report(report, errors_out)


def _truth(path: Path) -> dict[str, str]:
    from postguard.errors import FieldError, InvalidInput

    try:
        with path.open(encoding="utf-8", newline="") as f:
            return {r["iccid"]: r["pattern"] for r in csv.DictReader(f)}
    except (OSError, KeyError, UnicodeDecodeError, csv.Error):
        raise InvalidInput("The truth file cannot be read.", [FieldError(
            "--truth", "a CSV with the columns iccid and pattern, as `subscribers generate --truth` writes")]) from None


@subscribers_app.command("audit")
def subscribers_audit(
    org: str = OrgOpt,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the HTML report (charts inline, no script) here"),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON"),
    truth: Optional[Path] = typer.Option(None, "--truth", exists=True, dir_okay=False,
                                         help="Planted patterns (from `subscribers generate --truth`): "
                                              "also measure recall and precision"),
) -> None:
    """Run every junk-SIM check over the carrier's records and open a re-verification case for each
    flagged SIM (the report holds aggregates only)."""
    from postguard.subscribers.checks import measure
    from postguard.subscribers.report import render

    planted = _truth(truth) if truth else None
    p = open_platform()
    result = p.subscribers.run_audit(p.orgs.principal(org, actor="cli"))
    data = result.as_dict()
    measured = measure(list(result.flagged_iccids), planted, result.flagged_iccids) if planted is not None else None
    if measured is not None:
        data["measured"] = measured
    if out:
        out.write_text(render(data, measured=measured), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    typer.echo(f"audited {count(result.records, 'SIM')}: {count(result.flagged, 'flagged SIM')}, "
               f"{count(result.cases_opened, 'new case')}, {count(result.cases_updated, 'case')} updated")
    for code, n in sorted(result.by_reason.items(), key=lambda kv: -kv[1]):
        if n:
            typer.echo(f"  {code}: {n:,}")
    if measured is not None:
        typer.echo(f"recall {measured['recall']}  precision {measured['precision']}")
    if out:
        typer.echo(f"wrote {out}")


@subscribers_app.command("generate")
def subscribers_generate(
    rows: int = typer.Option(1000, "--rows", min=1, max=5_000_000, help="How many subscriber records"),
    out: Path = typer.Option(Path("subscribers.csv"), "--out", dir_okay=False, help="Where to write the CSV"),
    truth: Optional[Path] = typer.Option(None, "--truth", dir_okay=False,
                                         help="Also write the planted patterns (iccid,pattern) here"),
    seed: int = typer.Option(29, "--seed", help="Same seed, same file"),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files"),
) -> None:
    """Write synthetic subscriber records (generated names, IDs and numbers) with planted junk-SIM
    patterns, to try `subscribers import` and `audit` with. Needs no data directory."""
    from postguard.errors import Conflict
    from postguard.subscribers.generate import generate, write_csv

    for path in (out, truth):
        if path is not None and path.exists() and not force:
            raise Conflict(f"{path} exists; use --force to overwrite it.")
    made = generate(rows, seed=seed)
    with out.open("w", encoding="utf-8", newline="") as f:
        write_csv(made.rows, f)
    if truth is not None:
        with truth.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(("iccid", "pattern"))
            w.writerows(sorted(made.truth.items()))
    typer.echo(f"wrote {count(rows, 'synthetic subscriber')} to {out} ({count(len(made.truth), 'planted junk SIM')})")


@subscribers_app.command("summary")
def subscribers_summary(org: str = OrgOpt) -> None:
    """The queue's aggregates: cases by state and reason, the points of sale with the most flags."""
    p = open_platform()
    print_json(p.subscribers.summary(p.orgs.principal(org, actor="cli")))


@subscribers_app.command("queue")
def subscribers_queue(
    org: str = OrgOpt,
    state: str = typer.Option("open", help="open, or one of flagged, contacted, reverified, suspended, cleared"),
    reason: Optional[str] = typer.Option(None, help="Only cases with this reason code"),
    limit: int = typer.Option(50, help="How many (1-500)"),
) -> None:
    """Cases of the re-verification queue, most urgent first (masked)."""
    p = open_platform()
    print_json(p.subscribers.queue(p.orgs.principal(org, actor="cli"), state=state, reason=reason, limit=limit))


@subscribers_app.command("move")
def subscribers_move(
    case_id: int = typer.Argument(..., help="The case"),
    to: str = typer.Argument(..., help="contacted, reverified, suspended or cleared"),
    org: str = OrgOpt,
    version: int = typer.Option(..., "--version", help="The case's version you saw (see `queue`)"),
    note: str = typer.Option("", "--note", help="What was done (at most 500 characters)"),
) -> None:
    """Move a case along the re-verification states."""
    p = open_platform()
    print_json(p.subscribers.transition(p.orgs.principal(org, actor="cli"), case_id, to=to, version=version, note=note))
