"""``postguard blocklist …``: export the signed blocklist of confirmed scam domains and links, show
its public key, and bring it in line with the stored verdicts."""

from __future__ import annotations

from pathlib import Path

import typer

from postguard.cli.common import count, open_platform, print_json

blocklist_app = typer.Typer(no_args_is_help=True, help="The signed blocklist: RPZ, hosts file and JSON.")


@blocklist_app.command("export")
def export(
    format: str = typer.Option(..., "--format", help="rpz, hosts or json"),
    out: Path = typer.Option(..., "--out", help="Where to write it (FILE.sig gets its Ed25519 signature)"),
) -> None:
    """Write the current blocklist, exactly as served, and its detached signature (64 raw bytes) beside it."""
    p = open_platform()
    r = p.blocklist.get(format)
    sig = out.with_name(out.name + ".sig")
    out.write_bytes(r.body)
    sig.write_bytes(r.signature)
    typer.echo(f"version {r.serial}: {out} ({count(len(r.body), 'byte')}), {sig}")


@blocklist_app.command("key")
def key() -> None:
    """The public key that signs the blocklist (raw base64, PEM and its id)."""
    print_json(open_platform().blocklist.key_info())


@blocklist_app.command("reconcile")
def reconcile() -> None:
    """Publish confirmed domains and links missing from the blocklist, withdraw those no longer confirmed."""
    print_json(open_platform().blocklist.reconcile())
