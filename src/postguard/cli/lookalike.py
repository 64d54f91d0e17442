"""``postguard lookalike …``: find websites imitating protected brands, and what a brand's
lookalikes would be."""

from __future__ import annotations

from pathlib import Path

import typer

from postguard.cli.common import open_platform

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
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            bar = stack.enter_context(Progress(TextColumn("scanning"), BarColumn(), DownloadColumn(),
                                               TimeRemainingColumn(), transient=True,
                                               console=__import__("rich.console").console.Console(stderr=True)))
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
    typer.echo(f"scanned {stats.names} names ({stats.repeats} repeats skipped, {stats.malformed} malformed lines) "
               f"in {seconds:.1f} s: {stats.hits} lookalikes", err=True)


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
