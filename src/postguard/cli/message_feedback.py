"""``postguard messages feedback …``: the reviewers' queue of message-check verdicts people marked
wrong (list, show, review), the export of the accepted ones as a training TSV for ``postguard messages
train --extra``, and the retention purge. The command line acts as the platform (every scope); ``--by``
names the reviewer written to the access log."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from postguard.cli.common import count, open_platform, print_json
from postguard.errors import FieldError, InvalidInput

feedback_app = typer.Typer(no_args_is_help=True,
                           help="Verdicts of the message check marked wrong: review them, export them for training.")
ByOpt = typer.Option("", "--by", help="Who acts (written to the access log as cli:<name>)")


@contextmanager
def _platform() -> Iterator:
    """The platform for one command, closed after it (its connections released at once)."""
    p = open_platform()
    try:
        yield p
    finally:
        p.close()


def _who(p, by: str):
    name = "".join(c for c in by if c.isalnum() or c in "._-")[:60]
    return p.orgs.platform_principal(actor=f"cli:{name}" if name else "cli")


@feedback_app.command("list")
def list_(status: str = typer.Option("pending", help="pending, accepted or rejected"),
          limit: int = typer.Option(100, help="How many (1-500)")) -> None:
    """Cases by status, without their text (pending ones most submitted first)."""
    with _platform() as p:
        print_json(p.message_feedback.queue(_who(p, ""), status=status, limit=limit))


@feedback_app.command("show")
def show(case: str = typer.Argument(..., help="The case id"), by: str = ByOpt) -> None:
    """One case with its text and comments (opened through the door, logged) and what the check says now."""
    with _platform() as p:
        print_json(p.message_feedback.show(_who(p, by), case))


@feedback_app.command("review")
def review(case: str = typer.Argument(..., help="The case id"),
           decision: str = typer.Option(..., "--decision", help="accept (train on it) or reject (the check was right)"),
           label: str | None = typer.Option(None, "--label", help="The final label: scam, suspicious or legit "
                                                                  "(required to accept)"),
           note: str = typer.Option("", "--note", help="Why (at most 2,000 characters)"),
           version: int | None = typer.Option(None, "--version", min=1, max=2**31 - 1,
                                              help="The version you saw: required to change an earlier decision"),
           by: str = ByOpt) -> None:
    """Accept a case into the next training set (with its final label) or reject it."""
    with _platform() as p:
        print_json(p.message_feedback.review(_who(p, by), case, decision=decision, label=label, note=note,
                                             version=version))


@feedback_app.command("export")
def export(out: Path = typer.Option(..., "--out", help="The TSV to write (mode 0600)"), by: str = ByOpt) -> None:
    """Write the accepted cases as a corpus TSV (label, language, text, source feedback:<case>, note; numbers and
    e-mail addresses masked) for `postguard messages train --extra`."""
    with _platform() as p:
        rows = p.message_feedback.export(_who(p, by))
        data = p.message_feedback.tsv(rows).encode("utf-8")
    tmp = out.with_name(out.name + ".part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InvalidInput("The export was not written.", [FieldError("--out", f"cannot write {out}: {e.strerror}")]) \
            from None
    print(f"{count(len(rows), 'accepted case')} written to {out}", file=sys.stderr)
    print_json({"out": str(out), "rows": len(rows)})


@feedback_app.command("purge")
def purge() -> None:
    """Delete the cases whose latest submission is older than POSTGUARD_MESSAGE_FEEDBACK_RETENTION_DAYS (the
    server's job does it every POSTGUARD_MESSAGE_FEEDBACK_PURGE_INTERVAL_SECONDS)."""
    with _platform() as p:
        print_json({"deleted": p.message_feedback.purge(actor="cli")})
