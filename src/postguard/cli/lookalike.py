"""``postguard lookalike …``: find websites imitating protected brands, and what a brand's
lookalikes would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer

from postguard.cli.common import open_platform, print_json

lookalike_app = typer.Typer(no_args_is_help=True, help="Lookalike websites: scan feeds, list permutations, review hits.")


# -- the scanner's hits: intake and review (``postguard.intel.scanner``) --------------------------------
INGEST_BATCH = 1000  # hits per call of the intake (each call writes in chunks of its own)
MAX_LINE = 64 * 1024  # a hit longer than this is refused without being parsed
SHOWN_ERRORS = 20


def _hit_lines(stream) -> Iterator[tuple[int, object | None, str | None]]:
    """``(line number, hit, None)`` for each non-blank line that is a JSON value, ``(line, None,
    why)`` for one that is not; read in bounded pieces, so a line without end never fills memory."""
    import orjson

    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if isinstance(raw, str):  # a text stream (stdin without its buffer)
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n" if isinstance(raw, bytes) else "\n"):  # the rest of the line
                raw = stream.readline(MAX_LINE + 1)
            yield number, None, f"longer than {MAX_LINE} bytes"
            continue
        if not raw.strip():
            continue
        try:
            yield number, orjson.loads(raw), None
        except orjson.JSONDecodeError:
            yield number, None, "not JSON (one UTF-8 JSON object per line)"


@lookalike_app.command("ingest")
def ingest(
    hits: str = typer.Argument(..., metavar="HITS.jsonl", help="The scanner's output, one JSON hit per line; - reads stdin"),
    batch: int = typer.Option(INGEST_BATCH, min=1, max=10_000, help="Hits per call of the intake"),
) -> None:
    """Take in the scanner's hits: new hosts are reported (category fake_website, source: scanner),
    known ones counted, dismissed ones skipped. Streams the file in batches; bad lines are listed
    with their line number and field (exit code 2 when there are any), the good ones land."""
    import sys

    p = open_platform()
    who = p.orgs.platform_principal(actor="cli:scanner")
    totals = {"new": 0, "updated": 0, "skipped_dismissed": 0, "invalid": 0}
    errors: list[dict] = []

    def send(pending: list[tuple[int, object]]) -> None:
        out = p.intel.scanner.ingest(who, [h for _, h in pending])
        for k in totals:
            totals[k] += out[k]
        errors.extend({"line": pending[e["index"]][0], "field": e["field"], "message": e["message"]}
                      for e in out["errors"] if len(errors) < 1000)

    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    stream = stdin if hits == "-" else Path(hits).open("rb")
    try:
        pending: list[tuple[int, object]] = []
        for line, hit, why in _hit_lines(stream):
            if why is not None:
                totals["invalid"] += 1
                if len(errors) < 1000:
                    errors.append({"line": line, "field": "line", "message": why})
                continue
            pending.append((line, hit))
            if len(pending) >= batch:
                send(pending)
                pending = []
        if pending:
            send(pending)
    finally:
        if stream is not stdin:
            stream.close()
    typer.echo("  ".join(f"{k}: {v}" for k, v in totals.items()))
    for e in sorted(errors, key=lambda e: e["line"])[:SHOWN_ERRORS]:
        typer.echo(f"  line {e['line']}: {e['field']}: {e['message']}", err=True)
    if totals["invalid"] > SHOWN_ERRORS:
        typer.echo(f"  … {totals['invalid'] - SHOWN_ERRORS} more invalid lines", err=True)
    if totals["invalid"]:
        raise typer.Exit(2)


@lookalike_app.command("hits")
def hits(
    status: str | None = typer.Option(None, help="new, confirmed or dismissed"),
    brand: str | None = typer.Option(None, help="Only this brand"),
    campaign: str | None = typer.Option(None, help="Only this campaign (as the scanner names it)"),
    limit: int = typer.Option(100, min=1, max=500),
    cursor: int | None = typer.Option(None, min=1, max=2**63 - 1, help="The 'next' of the page before"),
) -> None:
    """List the scanner's hits, newest first, with the campaigns among them."""
    p = open_platform()
    print_json(p.intel.scanner.hits(p.intel.cli_principal(), status=status, brand=brand, campaign=campaign,
                                    limit=limit, cursor=cursor))


@lookalike_app.command("confirm")
def confirm(host: str = typer.Argument(..., help="The hit's host (or its number)"),
            note: str = typer.Option("", help="Why (kept with the decision)")) -> None:
    """Confirm a hit as a scam website: its domain is confirmed and published in the blocklist."""
    p = open_platform()
    print_json(p.intel.scanner.confirm(p.intel.cli_principal(), host, note=note))


@lookalike_app.command("dismiss")
def dismiss(host: str = typer.Argument(..., help="The hit's host (or its number)"),
            note: str = typer.Option("", help="Why (kept with the decision)")) -> None:
    """Dismiss a hit: its domain is delisted (never a warning) and the scanner's later hits on it are skipped."""
    p = open_platform()
    print_json(p.intel.scanner.dismiss(p.intel.cli_principal(), host, note=note))
