"""``postguard`` — the command line. Every command parses, calls one service and prints.

This is the root: it gathers the command groups, one module each (``postguard.cli.<group>``, over
the helpers in ``postguard.cli.common``), in the order ``postguard --help`` lists them. Errors are
rendered once, in ``main``: the message (and each field error) to stderr, and the exit code of the
error's kind (see docs/cli.md).
"""

from __future__ import annotations

import sys

import typer

from postguard.cli import (
    access,
    audit,
    backup,
    blocklist,
    calls,
    intel,
    leaks,
    lookalike,
    messages,
    privacy,
    senders,
    shipments,
    system,
    takedown,
    warnings,
)
from postguard.errors import ConfigurationError, FieldError, PostguardError

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="postguard: protect postal customers' data.",
)
app.command()(system.serve)
app.command()(system.init)
app.command()(system.demo)
app.add_typer(warnings.warnings_app, name="warnings")
app.add_typer(senders.senders_app, name="senders")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(audit.witness_app, name="witness")
app.add_typer(access.orgs_app, name="orgs")
app.add_typer(system.keys_app, name="keys")
app.add_typer(shipments.shipments_app, name="shipments")
app.add_typer(shipments.labels_app, name="labels")
app.add_typer(system.db_app, name="db")
app.add_typer(backup.backup_app, name="backup")
app.add_typer(shipments.retention_app, name="retention")
app.add_typer(leaks.canaries_app, name="canaries")
app.add_typer(leaks.anomalies_app, name="anomalies")
app.add_typer(leaks.alerts_app, name="alerts")
app.add_typer(leaks.leaks_app, name="leaks")
app.add_typer(intel.intel_app, name="intel")
app.add_typer(intel.evidence_app, name="evidence")
app.add_typer(lookalike.lookalike_app, name="lookalike")
app.add_typer(messages.messages_app, name="messages")
app.add_typer(takedown.takedown_app, name="takedown")
app.add_typer(blocklist.blocklist_app, name="blocklist")
app.add_typer(privacy.dsr_app, name="dsr")
app.add_typer(privacy.incidents_app, name="incidents")
app.add_typer(privacy.dossier_app, name="dossier")
app.add_typer(privacy.lawful_app, name="lawful")
app.add_typer(calls.couriers_app, name="couriers")
app.add_typer(calls.proxy_app, name="proxy-pool")
app.add_typer(calls.calls_app, name="calls")
app.add_typer(access.staff_app, name="staff")
app.add_typer(access.duties_app, name="duties")


def main() -> None:
    from pydantic import ValidationError

    try:
        try:
            app()
        except ValidationError as e:  # a POSTGUARD_* setting that does not parse: name it, no traceback
            if e.title != "Settings":
                raise
            raise ConfigurationError("invalid setting", [
                FieldError("POSTGUARD_" + str(err["loc"][0]).upper() if err["loc"] else "settings", err["msg"])
                for err in e.errors()]) from None
    except PostguardError as e:
        typer.echo(f"error: {e.detail}", err=True)
        for fe in e.errors:
            where = f"line {fe.row}: " if fe.row is not None else ""
            typer.echo(f"  {where}{fe.field}: {fe.message}", err=True)
        sys.exit(e.exit_code)
