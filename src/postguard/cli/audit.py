"""``postguard audit …`` (the tamper-evident access log) and ``witness …`` (a witness for other
parties' logs, which needs no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import count, open_platform, print_json

audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident access log.")
witness_app = typer.Typer(no_args_is_help=True, help="A witness that co-signs other parties' logs (C2SP tlog-witness).")


@audit_app.command("verify")
def audit_verify(
    witness: list[str] = typer.Option([], "--witness", help="'URL KEY' (one argument: the witness's URL and "
                                      "verifier key), or KEY of a witness in POSTGUARD_AUDIT_WITNESSES: require "
                                      "the log to hold the latest checkpoint the witness says it co-signed "
                                      "(repeatable)"),
    pin: Optional[Path] = typer.Option(None, "--pin", help="File keeping the last verified checkpoint and the "
                                       "log's key (default: under $XDG_STATE_HOME/postguard/pins/, named after "
                                       "the log's origin and database)"),
    no_pin: bool = typer.Option(False, "--no-pin", help="Neither check nor update a pinned checkpoint"),
    repin: bool = typer.Option(False, "--repin", help="Accept a log signing key that changed since the pinned "
                               "checkpoint and pin the log afresh (only after a key change you know of)"),
) -> None:
    """Recompute the log from its stored entries and check every checkpoint, each witness's latest
    cosigned checkpoint and the pinned one; exit 12 naming the first bad entry when anything was
    edited, deleted, inserted, reordered, cut short or rolled back."""
    from postguard.audit.witnessing import default_pin_path, log_identity
    from postguard.errors import AuditTampered

    p = open_platform()
    if not no_pin and pin is None:
        pin = default_pin_path(log_identity(p.settings.audit_origin, p.settings.database_url))
    report, anchored = p.witnessing.verify(witnesses=witness, pin=None if no_pin else pin, repin=repin)
    if not report.ok:
        for problem in sorted(report.problems, key=lambda q: q.index):
            typer.echo(f"  {problem.reason}", err=True)
        raise AuditTampered(f"first bad entry: {report.first_bad.index}")
    typer.echo(f"ok: {count(report.entries, 'entry', 'entries')}, {count(report.checkpoints, 'checkpoint')} verified")
    for what in anchored:
        typer.echo(f"  consistent with {what}")


@audit_app.command("status")
def audit_status() -> None:
    """The latest checkpoint and, per configured witness, the latest size it co-signed."""
    print_json(open_platform().witnessing.status())


@audit_app.command("witness")
def audit_witness() -> None:
    """Submit the latest checkpoint to the configured witnesses now and store their cosignatures."""
    p = open_platform()
    p.audit.checkpoint()
    results = p.witnessing.submit()
    print_json(results)
    if any(not r.startswith("ok") for r in results.values()):
        raise typer.Exit(1)


def _witness_dir() -> Path:
    import os

    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "postguard-witness"


WitnessDirOpt = typer.Option(None, "--dir", envvar="POSTGUARD_WITNESS_DIR",
                             help="The witness's own directory: its key and per-log state "
                                  "(default: $XDG_DATA_HOME/postguard-witness)")


@witness_app.command("init")
def witness_init(
    name: str = typer.Option(..., "--name", help="The witness's key name, e.g. witness.example.org"),
    directory: Optional[Path] = WitnessDirOpt,
) -> None:
    """Create the witness's Ed25519 key (mode 0600) and print its verifier key."""
    from postguard.audit.witness import Witness

    typer.echo(Witness.init(directory or _witness_dir(), name))


@witness_app.command("key")
def witness_key(directory: Optional[Path] = WitnessDirOpt) -> None:
    """Print the witness's verifier key (give it to the log's operator and to auditors)."""
    from postguard.audit.witness import Witness

    typer.echo(Witness(directory or _witness_dir(), []).verifier_key())


@witness_app.command("serve")
def witness_serve(
    log: list[str] = typer.Option(..., "--log", help="Verifier key of a log to witness (repeatable)"),
    directory: Optional[Path] = WitnessDirOpt,
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(7380, help="Port to listen on"),
) -> None:
    """Run the witness (C2SP tlog-witness): co-sign each log's checkpoints that are consistent with
    the last one it co-signed. Needs no database."""
    import uvicorn

    from postguard.api.witness import create_witness_app
    from postguard.audit.witness import Witness

    w = Witness(directory or _witness_dir(), log)
    typer.echo(f"witness {w.verifier_key()} on http://{host}:{port}/ for {', '.join(w.logs)}")
    uvicorn.run(create_witness_app(w), host=host, port=port, log_level="warning")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the log now and print it (C2SP signed note)."""
    cp = open_platform().audit.checkpoint()
    typer.echo(cp.note if cp else "the log is empty", nl=False)


@audit_app.command("verifier-key")
def audit_verifier_key() -> None:
    """Print the verifier key (C2SP vkey) that checks this log's checkpoints."""
    typer.echo(open_platform().audit.verifier_key())


@audit_app.command("prove")
def audit_prove(
    index: Optional[int] = typer.Option(None, help="Inclusion proof of this entry"),
    size: Optional[int] = typer.Option(None, help="In the tree of this size (default: latest checkpoint)"),
    since: Optional[int] = typer.Option(None, help="Consistency proof from this size to --size"),
) -> None:
    """Print an inclusion proof (--index) or a consistency proof (--since A --size B) as JSON."""
    log = open_platform().audit
    if index is not None:
        print_json(log.inclusion(index, size=size))
    elif since is not None and size is not None:
        print_json(log.consistency(since, size))
    else:
        raise typer.BadParameter("give --index N [--size S], or --since A --size B")


@audit_app.command("check-proofs")
def audit_check_proofs(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="A downloaded proofs file, export or deletion receipt (JSON)"),
    verifier_key: Optional[str] = typer.Option(None, "--verifier-key", help="Default: the key in the file"),
    witness: list[str] = typer.Option([], "--witness", help="A witness's verifier key whose cosignature "
                                      "the checkpoint must carry (repeatable)"),
) -> None:
    """Check a downloaded proofs file offline: checkpoint signature, witnesses' cosignatures, leaf
    hashes, inclusion proofs."""
    from postguard.errors import AuditTampered
    from postguard.privacy.proofs import verify_bundle

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        from postguard.errors import InvalidInput

        raise InvalidInput("The file is not JSON.") from None
    size, results = verify_bundle(data, verifier_key=verifier_key, witnesses=witness)
    bad = [r for r in results if not r.ok]
    for r in bad:
        typer.echo(f"  entry {r.index}: {r.reason}", err=True)
    if bad:
        raise AuditTampered(f"{len(bad)} of {len(results)} proofs do not verify")
    typer.echo(f"ok: {count(len(results), 'proof')} verified against the signed checkpoint of size {size}")
