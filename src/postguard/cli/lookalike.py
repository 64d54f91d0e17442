"""``postguard lookalike …``: find websites imitating protected brands, and what a brand's
lookalikes would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer

from postguard.cli.common import count, open_platform, print_json

lookalike_app = typer.Typer(no_args_is_help=True, help="Lookalike websites: scan feeds, list permutations, review hits.")


def _open_feed(path: str):
    import sys

    if path == "-":
        return sys.stdin.buffer, None
    try:
        stream = open(path, "rb")  # closed by the caller
    except OSError as e:
        from postguard.errors import FieldError, InvalidInput

        raise InvalidInput("The feed was not accepted.", [FieldError("FEED", f"cannot read {path}: {e.strerror}")]) from None
    import os

    return stream, os.fstat(stream.fileno()).st_size


@lookalike_app.command("scan")
def lookalike_scan(
    feeds: list[str] = typer.Argument(..., metavar="FEED...",
                                      help="Files of hostnames, one a line, or certificate-transparency JSON lines; - for stdin"),
    brands: Path = typer.Option(..., "--brands", help="Brands file: brand<TAB>official domain[,official domain…]"),
    out: Path = typer.Option(..., "--out", help="Where to write the hits, one JSON object a line (- for stdout)"),
    workers: int = typer.Option(1, "--workers", min=0, max=256, help="Processes to match in (0: every core)"),
    threshold: int | None = typer.Option(None, "--threshold", min=1, max=100,
                                         help="Score from which a name is a lookalike (default: the tuned one)"),
    registry: bool = typer.Option(False, "--registry",
                                  help="Also protect the verified official domains of the registry (reads the database)"),
) -> None:
    """Find the names in FEED... that imitate a brand; write each as a JSON line (host, brand, technique,
    score, reasons, campaign). A summary goes to stderr, with a progress bar on a terminal."""
    import sys
    import time
    from contextlib import ExitStack

    import orjson

    from postguard.lookalike.brands import load_brands
    from postguard.lookalike.scan import ScanStats, cpu_count, names_of, read_lines, scan

    model = open_platform().intel.brands.model(brands) if registry else load_brands(brands)
    stats = ScanStats()
    started = time.perf_counter()
    with ExitStack() as stack:
        opened = [_open_feed(f) for f in feeds]
        for stream, _ in opened:
            if stream is not sys.stdin.buffer:
                stack.callback(stream.close)
        sink = sys.stdout.buffer if str(out) == "-" else stack.enter_context(open(out, "wb"))
        progress = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            bar = stack.enter_context(Progress(TextColumn("scanning"), BarColumn(), DownloadColumn(),
                                               TimeRemainingColumn(), transient=True, console=Console(stderr=True)))
            sizes = [size for _, size in opened]
            task = bar.add_task("scan", total=sum(sizes) if None not in sizes else None)
            progress = lambda n: bar.advance(task, n)  # noqa: E731

        def lines():
            for stream, _ in opened:
                yield from read_lines(stream, stats, progress)

        for hit in scan(model, names_of(lines(), stats), workers=workers or cpu_count(), threshold=threshold):
            sink.write(orjson.dumps(hit) + b"\n")
            stats.hits += 1
    seconds = time.perf_counter() - started
    typer.echo(f"scanned {count(stats.names, 'name')} ({count(stats.repeats, 'repeat')} skipped, "
               f"{count(stats.malformed, 'malformed line')}) in {seconds:.1f} s: {count(stats.hits, 'lookalike')}",
               err=True)


@lookalike_app.command("permutations")
def lookalike_permutations(
    domain: str = typer.Argument(..., help="The brand's domain, e.g. viettelpost.com.vn"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object a line instead of a table"),
) -> None:
    """The lookalikes the generator families make of DOMAIN (to register or watch them)."""
    import orjson

    from postguard.lookalike.permutations import permutations

    for family, name in permutations(domain):
        typer.echo(orjson.dumps({"family": family, "domain": name}).decode() if as_json else f"{family}\t{name}")


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
        typer.echo(f"  … {count(totals['invalid'] - SHOWN_ERRORS, 'more invalid line')}", err=True)
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
