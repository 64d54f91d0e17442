"""``postguard`` — the command line. Every command parses, calls one service and prints.

Errors are rendered once, in ``main``: the message (and each field error) to stderr, and the exit
code of the error's kind (see docs/cli.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.intel import intel_app
from postguard.errors import ConfigurationError, FieldError, PostguardError
from postguard.settings import Settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="postguard: protect postal customers' data.",
)
orgs_app = typer.Typer(no_args_is_help=True, help="Organisations (postal operators).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys and vault keys.")
api_keys_app = typer.Typer(no_args_is_help=True, help="Scoped API keys for operators' systems.")
shipments_app = typer.Typer(no_args_is_help=True, help="Protected shipment records.")
labels_app = typer.Typer(no_args_is_help=True, help="Privacy labels.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema (migrations).")
retention_app = typer.Typer(no_args_is_help=True, help="Retention: shred personal data after delivery.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident access log.")
warnings_app = typer.Typer(no_args_is_help=True, help="Scam warnings, their feed and webhooks.")
app.add_typer(warnings_app, name="warnings")
app.add_typer(audit_app, name="audit")
witness_app = typer.Typer(no_args_is_help=True, help="A witness that co-signs other parties' logs (C2SP tlog-witness).")
app.add_typer(witness_app, name="witness")
app.add_typer(orgs_app, name="orgs")
app.add_typer(keys_app, name="keys")
keys_app.add_typer(api_keys_app, name="api")
app.add_typer(shipments_app, name="shipments")
app.add_typer(labels_app, name="labels")
app.add_typer(db_app, name="db")
app.add_typer(retention_app, name="retention")
canaries_app = typer.Typer(no_args_is_help=True, help="Canary shipments: numbers the operator owns, one per channel.")
pool_app = typer.Typer(no_args_is_help=True, help="The pool of numbers canaries draw from.")
anomalies_app = typer.Typer(no_args_is_help=True, help="Access anomaly detection over the access log.")
alerts_app = typer.Typer(no_args_is_help=True, help="Alerts for auditors.")
leaks_app = typer.Typer(no_args_is_help=True, help="Leak investigation.")
app.add_typer(canaries_app, name="canaries")
canaries_app.add_typer(pool_app, name="pool")
app.add_typer(anomalies_app, name="anomalies")
app.add_typer(alerts_app, name="alerts")
app.add_typer(leaks_app, name="leaks")


app.add_typer(intel_app, name="intel")
dsr_app = typer.Typer(no_args_is_help=True, help="Data-subject requests (the data-protection officer's work).")
incidents_app = typer.Typer(no_args_is_help=True, help="Personal-data breach incidents and their 72-hour clock.")
app.add_typer(dsr_app, name="dsr")
app.add_typer(incidents_app, name="incidents")
couriers_app = typer.Typer(no_args_is_help=True, help="Couriers: the numbers they call customers from.")
phones_app = typer.Typer(no_args_is_help=True, help="A courier's registered calling numbers.")
proxy_app = typer.Typer(no_args_is_help=True, help="Masked calling: an operator's pool of proxy numbers.")
calls_app = typer.Typer(no_args_is_help=True, help="Masked calls: the console telephony adapter.")
app.add_typer(couriers_app, name="couriers")
couriers_app.add_typer(phones_app, name="phones")
app.add_typer(proxy_app, name="proxy-pool")
app.add_typer(calls_app, name="calls")

staff_app = typer.Typer(no_args_is_help=True, help="Staff accounts (sign in at /staff/login).")
app.add_typer(staff_app, name="staff")

OrgOpt = typer.Option(..., "--org", help="Organisation code")
ByOpt = typer.Option(..., "--by", help="Username of the data-protection officer acting (logged)")


def _platform(migrate: bool = True):
    from postguard.logging import configure_logging
    from postguard.platform import Platform

    settings = Settings()
    configure_logging(settings)
    return Platform(settings, migrate_on_start=migrate)


def _out(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# -- serve / demo ------------------------------------------------------------------------------
@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    demo: bool = typer.Option(False, "--demo", help="Seed the demo operator and shipments first"),
    workers: int = typer.Option(1, help="Worker processes (stateless; share the database)"),
) -> None:
    """Start the API and web pages (migrating the database first)."""
    import uvicorn

    from postguard.app import create_app

    settings = Settings()
    if demo:
        from postguard.demo import refuse_in_production

        refuse_in_production(settings)  # before anything is created or migrated
    platform = _platform()
    if demo:
        from postguard.demo import seed

        info = seed(platform)
        typer.echo(f"Demo operator {info['org']}: {info['imported']} shipments imported "
                   f"({info['already_present']} already present).")
        typer.echo(f"Demo API key (shown once): {info['api_key']}")
        typer.echo("Demo staff (synthetic credentials; sign in at /staff/login with the organisation shown):")
        for member in info["staff"]:
            typer.echo(f"  {member['org']:<8} {member['role']:<8} {member['username']:<15} {member['password']}")
        typer.echo(f"Parcels assigned to the demo couriers: {', '.join(info['assigned'])}")
    typer.echo(f"postguard on http://{host}:{port}/ (database: {platform.db.dialect})")
    # X-Forwarded-For is believed only from POSTGUARD_TRUSTED_PROXIES (uvicorn's own default trusts
    # 127.0.0.1, which would let anything behind a local proxy or on the host pick its address).
    trusted = platform.settings.trusted_proxies
    proxy = {"proxy_headers": bool(trusted), "forwarded_allow_ips": list(trusted)}
    if workers > 1:
        platform.close()
        uvicorn.run("postguard.app:create_app", factory=True, host=host, port=port, workers=workers, **proxy)
    else:
        uvicorn.run(create_app(platform.settings, platform=platform), host=host, port=port, **proxy)


@app.command()
def demo(shipments: int = typer.Option(3000, min=1, help="How many shipments to generate")) -> None:
    """Seed the demo operator with generated shipments (synthetic people, real wards)."""
    from postguard.demo import refuse_in_production, seed

    refuse_in_production(Settings())
    _out(seed(_platform(), shipments=shipments))


# -- db ----------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from postguard.db import migrate
    from postguard.models import metadata

    p = _platform(migrate=False)
    migrate.upgrade(p.db.engine, metadata=metadata)
    typer.echo(f"database at revision {migrate.current(p.db.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from postguard.db import migrate

    typer.echo(migrate.current(_platform(migrate=False).db.engine) or "none")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models declare something the migrations do not create (like `alembic check`)."""
    from postguard.db import migrate
    from postguard.models import metadata

    diff = migrate.pending_changes(_platform().db.engine, metadata)
    if diff:
        typer.echo("models and migrations differ:", err=True)
        for d in diff:
            typer.echo(f"  {d}", err=True)
        raise typer.Exit(1)
    typer.echo("no pending changes")


# -- orgs --------------------------------------------------------------------------------------
@orgs_app.command("create")
def orgs_create(
    code: str = typer.Argument(..., help="Short code, e.g. VNPOST"),
    name: str = typer.Option(..., "--name", help="Display name"),
    hotline: Optional[str] = typer.Option(None, help="Official customer hotline"),
) -> None:
    """Create an organisation and its vault keys."""
    org = _platform().orgs.create(code=code, name=name, hotline=hotline)
    typer.echo(f"created organisation {org.code}")


@orgs_app.command("list")
def orgs_list() -> None:
    """List organisations."""
    _out([{"code": o.code, "name": o.name, "hotline": o.hotline} for o in _platform().orgs.list()])


# -- staff -------------------------------------------------------------------------------------
@staff_app.command("create")
def staff_create(
    org: str = OrgOpt,
    username: str = typer.Option(..., "--username", help="2-64 lower-case letters, digits, '.', '_' or '-'"),
    name: str = typer.Option(..., "--name", help="The name shown in pages and the access log's views"),
    role: str = typer.Option(..., "--role", help="admin, hub, courier, cs, auditor, dpo; analyst at PG-INTEL only"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input "
                                        "(first line) instead of asking for it"),
) -> None:
    """Create a staff account; the password is asked for (never an argument) and stored as argon2id.
    Analysts are created at the platform organisation: ``--org PG-INTEL --role analyst``."""
    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                else typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    made = _platform().staff.create(org_code=org, username=username, display_name=name, role=role,
                                    password=password, actor="cli")
    typer.echo(f"created {made.role} {made.username} at {made.org_code}")


@staff_app.command("status")
def staff_status(
    org: str = OrgOpt,
    username: str = typer.Option(..., "--username"),
    status: str = typer.Argument(..., help="active, suspended or offboarded (sessions end at once)"),
) -> None:
    """Suspend, offboard or reactivate a staff account (logged)."""
    _platform().staff.set_status(org_code=org, username=username.strip().lower(), status=status, actor="cli")
    typer.echo(f"{username} at {org.upper()}: {status}")


# -- keys --------------------------------------------------------------------------------------
@api_keys_app.command("create")
def api_key_create(
    org: str = OrgOpt,
    scope: list[str] = typer.Option(..., "--scope", help="Repeat for each scope, e.g. --scope shipments:read"),
    label: str = typer.Option("", help="What the key is for"),
) -> None:
    """Create a scoped API key; it is printed once and stored only as a digest."""
    key = _platform().orgs.create_api_key(org_code=org, scopes=scope, label=label)
    typer.echo(f"API key (shown once, store it now): {key.token}")
    typer.echo(f"prefix: {key.prefix}  scopes: {' '.join(key.scopes)}")


@api_keys_app.command("revoke")
def api_key_revoke(prefix: str = typer.Argument(..., help="The key's prefix")) -> None:
    """Revoke an API key at once."""
    _platform().orgs.revoke_api_key(prefix=prefix)
    typer.echo(f"revoked {prefix}")


@keys_app.command("status")
def keys_status(org: str = OrgOpt) -> None:
    """Show an organisation's key versions and their use against the nonce budget."""
    p = _platform()
    with p.db.read_session() as s:
        _out(p.vault.key_status(s, org_id=p.orgs.get(org).id))


@keys_app.command("rotate")
def keys_rotate(
    org: Optional[str] = typer.Option(None, "--org", help="Rotate this organisation's data key"),
    kek: bool = typer.Option(False, "--kek", help="Rotate the key-encryption key instead"),
    rewrap: bool = typer.Option(True, help="Re-wrap existing data keys afterwards (while serving)"),
) -> None:
    """Rotate a data key (then re-wrap every record key), or the key-encryption key."""
    from rich.progress import Progress

    p = _platform()
    if kek:
        kid = p.kek.rotate()
        with p.db.session() as s:
            n = p.vault.rewrap_org_keys(s)
        removed = p.kek.retire({kid})
        p.audit.append(actor="cli", action="kek_rotate", details={"kek": kid, "retired": removed})
        typer.echo(f"new key-encryption key {kid}; {n} organisation keys re-wrapped; retired {removed}")
        return
    if not org:
        raise typer.BadParameter("give --org CODE or --kek")
    principal = p.orgs.principal(org, actor="cli")
    version = p.orgs.rotate_data_key(org)
    typer.echo(f"{principal.org_code}: data key version {version} is now active")
    if rewrap:
        with Progress(transient=True) as bar:
            task = bar.add_task("re-wrapping record keys", total=None)
            out = p.shipments.rewrap(principal, progress=lambda n: bar.update(task, completed=n))
        typer.echo(f"re-wrapped {out['rewrapped']} record keys; destroyed versions {out['destroyed_versions']}")


@keys_app.command("rewrap")
def keys_rewrap(org: str = OrgOpt) -> None:
    """Re-wrap record keys still under a retired data-key version, then destroy unused versions."""
    p = _platform()
    _out(p.shipments.rewrap(p.orgs.principal(org, actor="cli")))


@keys_app.command("kek-create")
def keys_kek_create(
    path: Path = typer.Argument(..., help="Where to write the new key file (mode 0600)"),
    production: bool = typer.Option(False, "--production", help="Mark it a production key (not dev)"),
) -> None:
    """Create a key-encryption key file (production deployments point POSTGUARD_KEY_FILE at it)."""
    from postguard.vault.kek import LocalKeyFile

    LocalKeyFile.create(path, dev=not production)
    typer.echo(f"created {'production' if production else 'development'} key file {path}")


# -- shipments ---------------------------------------------------------------------------------
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

    p = _platform()
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
    for e in report.errors[:20]:
        typer.echo(f"  line {e.row}: {e.field}: {e.message}", err=True)
    if report.invalid > 20:
        typer.echo(f"  … {report.invalid - 20} more invalid rows" + ("" if errors_out else " (use --errors-out)"), err=True)
    if report.invalid:
        raise typer.Exit(2)


@shipments_app.command("get")
def shipments_get(waybill: str, org: str = OrgOpt) -> None:
    """Show one shipment, masked."""
    p = _platform()
    _out(p.shipments.get(p.orgs.principal(org, actor="cli"), waybill))


@shipments_app.command("list")
def shipments_list(
    org: str = OrgOpt,
    status: Optional[str] = typer.Option(None, help="Only this status"),
    limit: int = typer.Option(50, help="Page size (1-500)"),
    after: Optional[str] = typer.Option(None, help="Cursor: last waybill of the previous page"),
) -> None:
    """List shipments, masked."""
    p = _platform()
    _out(p.shipments.list(p.orgs.principal(org, actor="cli"), status=status, limit=limit, after=after))


@shipments_app.command("search")
def shipments_search(
    org: str = OrgOpt,
    phone: str = typer.Option(..., prompt=True, hide_input=True, help="Phone (asked for when omitted, not echoed)"),
) -> None:
    """Find shipments by sender or recipient phone (results masked)."""
    p = _platform()
    _out(p.shipments.search_by_phone(p.orgs.principal(org, actor="cli"), phone))


@shipments_app.command("status")
def shipments_status(waybill: str, status: str, org: str = OrgOpt) -> None:
    """Move a shipment along its lifecycle."""
    p = _platform()
    _out(p.shipments.set_status(p.orgs.principal(org, actor="cli"), waybill, status))


@shipments_app.command("shred")
def shipments_shred(waybill: str, org: str = OrgOpt) -> None:
    """Destroy one shipment's personal data now (crypto-shredding); statistics stay."""
    p = _platform()
    p.shipments.shred(p.orgs.principal(org, actor="cli"), waybill)
    typer.echo(f"shredded {waybill}")


@shipments_app.command("stats")
def shipments_stats(org: str = OrgOpt) -> None:
    """Anonymous statistics: counts by status and province."""
    p = _platform()
    _out(p.shipments.stats(p.orgs.principal(org, actor="cli")))


# -- labels, retention -------------------------------------------------------------------------
@labels_app.command("print")
def labels_print(
    waybills: list[str] = typer.Argument(..., help="One or more waybills"),
    org: str = OrgOpt,
    out: Path = typer.Option(Path("labels.pdf"), "--out", help="PDF file to write"),
) -> None:
    """Print privacy labels (100 × 150 mm, one per page) to a PDF."""
    p = _platform()
    pdf = p.labels.render(p.orgs.principal(org, actor="cli"), waybills)
    out.write_bytes(pdf)
    typer.echo(f"wrote {len(dict.fromkeys(waybills))} labels to {out}")


@retention_app.command("run")
def retention_run() -> None:
    """Shred personal data of shipments finished more than POSTGUARD_RETENTION_DAYS ago; delete spent
    one-time-code challenges."""
    p = _platform()
    n = p.shipments.run_retention()
    typer.echo(f"shredded {n} shipments older than {p.settings.retention_days} days after completion")


# -- audit -------------------------------------------------------------------------------------
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

    p = _platform()
    if not no_pin and pin is None:
        pin = default_pin_path(log_identity(p.settings.audit_origin, p.settings.database_url))
    report, anchored = p.witnessing.verify(witnesses=witness, pin=None if no_pin else pin, repin=repin)
    if not report.ok:
        for problem in sorted(report.problems, key=lambda q: q.index):
            typer.echo(f"  {problem.reason}", err=True)
        raise AuditTampered(f"first bad entry: {report.first_bad.index}")
    typer.echo(f"ok: {report.entries} entries, {report.checkpoints} checkpoints verified")
    for what in anchored:
        typer.echo(f"  consistent with {what}")


@audit_app.command("status")
def audit_status() -> None:
    """The latest checkpoint and, per configured witness, the latest size it co-signed."""
    _out(_platform().witnessing.status())


@audit_app.command("witness")
def audit_witness() -> None:
    """Submit the latest checkpoint to the configured witnesses now and store their cosignatures."""
    p = _platform()
    p.audit.checkpoint()
    results = p.witnessing.submit()
    _out(results)
    if any(not r.startswith("ok") for r in results.values()):
        raise typer.Exit(1)


# -- witness -----------------------------------------------------------------------------------
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

    from postguard.audit.witness import Witness, create_witness_app

    w = Witness(directory or _witness_dir(), log)
    typer.echo(f"witness {w.verifier_key()} on http://{host}:{port}/ for {', '.join(w.logs)}")
    uvicorn.run(create_witness_app(w), host=host, port=port, log_level="warning")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the log now and print it (C2SP signed note)."""
    cp = _platform().audit.checkpoint()
    typer.echo(cp.note if cp else "the log is empty", nl=False)


@audit_app.command("verifier-key")
def audit_verifier_key() -> None:
    """Print the verifier key (C2SP vkey) that checks this log's checkpoints."""
    typer.echo(_platform().audit.verifier_key())


@audit_app.command("prove")
def audit_prove(
    index: Optional[int] = typer.Option(None, help="Inclusion proof of this entry"),
    size: Optional[int] = typer.Option(None, help="In the tree of this size (default: latest checkpoint)"),
    since: Optional[int] = typer.Option(None, help="Consistency proof from this size to --size"),
) -> None:
    """Print an inclusion proof (--index) or a consistency proof (--since A --size B) as JSON."""
    log = _platform().audit
    if index is not None:
        _out(log.inclusion(index, size=size))
    elif since is not None and size is not None:
        _out(log.consistency(since, size))
    else:
        raise typer.BadParameter("give --index N [--size S], or --since A --size B")


# -- intel -------------------------------------------------------------------------------------
@intel_app.command("export")
def intel_export(
    format: str = typer.Option("stix", "--format", help="stix (STIX 2.1 bundle) or misp (MISP event)"),
    out: Path = typer.Option(..., "--out", help="File to write (JSON)"),
) -> None:
    """Export every shared indicator (all TLP levels) as a STIX 2.1 bundle or a MISP event."""
    if format not in ("stix", "misp"):
        raise typer.BadParameter("choose stix or misp", param_hint="--format")
    p = _platform()
    who = p.intel.cli_principal()
    data = p.sharing.export_stix(who) if format == "stix" else p.sharing.export_misp(who)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    count = sum(o["type"] == "indicator" for o in data["objects"]) if format == "stix" else (
        len(data["Event"]["Attribute"]) + len(data["Event"]["Object"]))
    typer.echo(f"wrote {count} indicators to {out}")


@intel_app.command("import")
def intel_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A STIX 2.1 bundle (JSON)"),
    org: str = typer.Option(..., "--org", help="Code of the partner organisation the bundle comes from"),
) -> None:
    """Import a partner's STIX 2.1 bundle as reports by that organisation (all or nothing; a newer
    sighting adds a newer report, a partner's delisting withdraws its reports)."""
    from postguard.orgs.service import Principal

    p = _platform()
    partner = p.orgs.get(org)
    who = Principal(org_id=partner.id, org_code=partner.code, actor="cli")
    out = p.sharing.import_stix(file.read_bytes(), principal=who, source=file.name)
    typer.echo(f"added {out['added']}  updated {out['updated']}  unchanged {out['unchanged']}  "
               f"withdrawn {out['withdrawn']}")


# -- warnings ----------------------------------------------------------------------------------
@warnings_app.command("publish")
def warnings_publish(
    category: str = typer.Option(..., "--category", help="courier-impersonation, fake-fee, otp-theft, ..."),
    title_vi: str = typer.Option(..., "--title-vi", help="Title in Vietnamese"),
    title_en: str = typer.Option(..., "--title-en", help="Title in English"),
    body_vi: Path = typer.Option(..., "--body-vi", exists=True, dir_okay=False, help="Text file: body in Vietnamese"),
    body_en: Path = typer.Option(..., "--body-en", exists=True, dir_okay=False, help="Text file: body in English"),
    author: str = typer.Option(..., "--author", help="The publishing analyst"),
) -> None:
    """Publish a warning: it appears on /canh-bao and in the Atom feed, and is queued for webhooks."""
    w = _platform().warnings.publish(category=category, title_vi=title_vi, title_en=title_en,
                                     body_vi=body_vi.read_text(encoding="utf-8"),
                                     body_en=body_en.read_text(encoding="utf-8"), author=author)
    typer.echo(f"published warning {w.id}")


@warnings_app.command("deliver")
def warnings_deliver(
    loop: bool = typer.Option(False, "--loop", help="Keep delivering every --interval seconds"),
    interval: float = typer.Option(5.0, "--interval", min=0.5, help="Seconds between passes with --loop"),
) -> None:
    """Send due webhook deliveries once (or keep going with --loop); failures retry with backoff."""
    import time

    p = _platform()
    while True:
        out = p.webhooks.deliver_due()
        typer.echo(f"delivered {out['delivered']}  retrying {out['retrying']}  failed {out['failed']}")
        if not loop:
            return
        time.sleep(interval)


@warnings_app.command("subscribe")
def warnings_subscribe(
    url: str = typer.Argument(..., help="The subscriber's https endpoint"),
    label: str = typer.Option("", help="Who it is"),
) -> None:
    """Add a webhook subscriber; its signing secret is printed once."""
    sub = _platform().webhooks.subscribe(url=url, label=label)
    typer.echo(f"subscription {sub.id}")
    typer.echo(f"signing secret (shown once, give it to the subscriber): {sub.secret}")


@warnings_app.command("unsubscribe")
def warnings_unsubscribe(subscription: str = typer.Argument(..., help="Subscription id")) -> None:
    """Stop delivering to a subscriber (pending deliveries fail)."""
    _platform().webhooks.unsubscribe(subscription)
    typer.echo(f"disabled {subscription}")


@warnings_app.command("subscribers")
def warnings_subscribers() -> None:
    """List webhook subscribers."""
    _out(_platform().webhooks.list())
# -- leak detection ----------------------------------------------------------------------------
@pool_app.command("add")
def canaries_pool_add(
    phones: list[str] = typer.Argument(..., help="Numbers the operator owns (any Vietnamese form)"),
    org: str = OrgOpt,
) -> None:
    """Register numbers the operator owns for canaries (stored encrypted and as a keyed digest)."""
    p = _platform()
    _out(p.canaries.pool_add(p.orgs.principal(org, actor="cli"), phones))


@pool_app.command("list")
def canaries_pool_list(org: str = OrgOpt) -> None:
    """The pool, masked, with the channel each number was given to."""
    p = _platform()
    _out(p.canaries.pool(p.orgs.principal(org, actor="cli")))


@canaries_app.command("create")
def canaries_create(
    org: str = OrgOpt,
    channel: str = typer.Option(..., "--channel", help="courier:<username>, hub:<name>, cs:<username>, "
                                "apikey:<prefix> or export:<label>"),
    phone: Optional[str] = typer.Option(None, "--phone", help="This pool number (default: the next free one)"),
    waybill: Optional[str] = typer.Option(None, "--waybill", help="Waybill (default: shaped like recent ones)"),
) -> None:
    """Create a canary shipment for one channel (synthetic recipient, a pool number as phone)."""
    p = _platform()
    _out(p.canaries.create(p.orgs.principal(org, actor="cli"), channel=channel, phone=phone, waybill=waybill))


@canaries_app.command("list")
def canaries_list(org: str = OrgOpt) -> None:
    """Canary shipments with their channel and masked number."""
    p = _platform()
    _out(p.canaries.list(p.orgs.principal(org, actor="cli")))


def _when(text: Optional[str]):
    if text is None:
        return None
    from datetime import datetime, timedelta, timezone

    from postguard.errors import FieldError, InvalidInput

    t = text.strip()
    try:
        if t[-1:] in "hd" and t[:-1].isdigit():
            return datetime.now(timezone.utc) - timedelta(**{"hours" if t[-1] == "h" else "days": int(t[:-1])})
        when = datetime.fromisoformat(t)
    except ValueError:
        raise InvalidInput("Bad time.", [FieldError("since", "an ISO 8601 time or a span like 24h or 7d")]) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@anomalies_app.command("scan")
def anomalies_scan(
    org: str = OrgOpt,
    since: Optional[str] = typer.Option(None, "--since", help="ISO 8601 time or a span like 24h, 7d "
                                        "(default: POSTGUARD_ANOMALY_WINDOW_HOURS)"),
) -> None:
    """Compare each staff member and API key with its peers; raise an alert for each new finding."""
    _out(_platform().leaks.scan_anomalies(org.strip().upper(), since=_when(since)))


@alerts_app.command("list")
def alerts_list(
    org: str = OrgOpt,
    status: str = typer.Option("open", help="open, acknowledged or all"),
    kind: Optional[str] = typer.Option(None, help="break_glass, canary_reveal, canary_contact or anomaly"),
    limit: int = typer.Option(50, help="Page size (1-500)"),
) -> None:
    """Alerts, newest first."""
    p = _platform()
    _out(p.access_alerts.list(p.orgs.principal(org, actor="cli"), kind=kind, status=status, limit=limit))


@alerts_app.command("ack")
def alerts_ack(alert_id: int, org: str = OrgOpt, note: Optional[str] = typer.Option(None, help="Why it is closed")) -> None:
    """Acknowledge an alert (logged)."""
    p = _platform()
    _out(p.access_alerts.acknowledge(p.orgs.principal(org, actor="cli"), alert_id, note=note))


@leaks_app.command("triangulate")
def leaks_triangulate(waybill: str, org: str = OrgOpt) -> None:
    """Who revealed a shipment's personal data, at which stage, ranked (for a scam report about it)."""
    _out(_platform().leaks.triangulate(org.strip().upper(), waybill))
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
    typer.echo(f"ok: {len(results)} proofs verified against the signed checkpoint of size {size}")


# -- data-subject requests and incidents -------------------------------------------------------
@dsr_app.command("list")
def dsr_list(
    org: str = OrgOpt,
    status: Optional[str] = typer.Option(None, help="received, acknowledged or completed"),
    by: str = ByOpt,
) -> None:
    """List an operator's requests with their deadlines and overdue flags."""
    p = _platform()
    _out(p.privacy.list_requests(p.privacy.dpo(org, by), status=status))


@dsr_app.command("ack")
def dsr_ack(ref: str = typer.Argument(..., help="Request reference, e.g. DSR-AB12CD34"), org: str = OrgOpt,
            by: str = ByOpt) -> None:
    """Acknowledge a request (due within 2 working days of receipt)."""
    p = _platform()
    _out(p.privacy.acknowledge(p.privacy.dpo(org, by), ref))


@dsr_app.command("complete")
def dsr_complete(ref: str = typer.Argument(..., help="Request reference"), org: str = OrgOpt,
                 by: str = ByOpt) -> None:
    """Complete a request; a deletion shreds the person's finished parcels and logs a receipt (it stays
    open while parcels are travelling: run it again once they are delivered)."""
    p = _platform()
    _out(p.privacy.complete(p.privacy.dpo(org, by), ref))


@dsr_app.command("export")
def dsr_export(
    ref: str = typer.Argument(..., help="Reference of an access request"),
    org: str = OrgOpt,
    by: str = ByOpt,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the export here (mode 0600) instead of stdout"),
) -> None:
    """The person's shipments (their own fields, decrypted through the door, logged) and access history
    with proofs, as JSON."""
    import os

    p = _platform()
    data = p.privacy.export(p.privacy.dpo(org, by), ref)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    typer.echo(f"wrote the export of {ref} to {out}")


@incidents_app.command("create")
def incidents_create(
    org: str = OrgOpt,
    by: str = ByOpt,
    detected_at: str = typer.Option(..., "--detected-at", help="ISO 8601; without an offset, Viet Nam time"),
    description: str = typer.Option(..., "--description", help="What happened (no personal data)"),
    affected: int = typer.Option(0, "--affected", help="Estimated number of people affected"),
) -> None:
    """Record a personal-data breach; the authority must be notified within 72 hours of detection."""
    p = _platform()
    _out(p.privacy.create_incident(p.privacy.dpo(org, by), detected_at=detected_at, description=description,
                                   affected_estimate=affected))


@incidents_app.command("list")
def incidents_list(org: str = OrgOpt, by: str = ByOpt) -> None:
    """List incidents with their notification deadlines and overdue flags."""
    p = _platform()
    _out(p.privacy.list_incidents(p.privacy.dpo(org, by)))


@incidents_app.command("notify")
def incidents_notify(ref: str = typer.Argument(..., help="Incident reference, e.g. INC-AB12CD34"),
                     org: str = OrgOpt, by: str = ByOpt) -> None:
    """Record that the authority was notified (now)."""
    p = _platform()
    _out(p.privacy.notify_incident(p.privacy.dpo(org, by), ref))
# -- couriers, proxy numbers, calls ------------------------------------------------------------------
UserOpt = typer.Option(..., "--username", help="The courier's username")
PhoneOpt = typer.Option(..., "--phone", help="The number, in any Vietnamese form")


@phones_app.command("add")
def couriers_phones_add(org: str = OrgOpt, username: str = UserOpt, phone: str = PhoneOpt) -> None:
    """Register a courier's calling number and send it a one-time code (the answer's challenge goes
    with the code to ``phones verify``)."""
    _out(_platform().couriers.add_phone(org_code=org, username=username, phone=phone))


@phones_app.command("verify")
def couriers_phones_verify(org: str = OrgOpt, username: str = UserOpt, phone: str = PhoneOpt,
                           code: str = typer.Option(..., "--code", help="The code the number received"),
                           challenge: str = typer.Option(..., "--challenge",
                                                         help="The challenge that phones add printed")) -> None:
    """Verify a registered number with its one-time code; it then counts in citizen checks."""
    _out(_platform().couriers.verify_phone(org_code=org, username=username, phone=phone, code=code,
                                           challenge=challenge))


@phones_app.command("list")
def couriers_phones_list(org: str = OrgOpt, username: Optional[str] = typer.Option(None, "--username")) -> None:
    """Registered numbers (last three digits only) with their courier and status."""
    _out(_platform().couriers.list_phones(org_code=org, username=username))


@proxy_app.command("add")
def proxy_pool_add(number: str = typer.Argument(..., help="A proxy number the operator owns"),
                   org: str = OrgOpt) -> None:
    """Add a number to an operator's masked-calling pool."""
    _out(_platform().calls.proxy_add(org_code=org, number=number))


@proxy_app.command("list")
def proxy_pool_list(org: str = OrgOpt) -> None:
    """The pool's numbers with their live sessions."""
    _out(_platform().calls.proxy_list(org_code=org))


@proxy_app.command("masked-only")
def proxy_pool_masked_only(org: str = OrgOpt,
                           enabled: bool = typer.Option(..., "--on/--off",
                                                        help="Masked-only delivery on or off")) -> None:
    """Masked-only delivery: couriers get the recipient's number masked and call through the pool."""
    _out(_platform().calls.set_masked_only(org_code=org, enabled=enabled))


@calls_app.command("route")
def calls_route(caller: str = typer.Option(..., "--caller", help="The number calling"),
                dialled: str = typer.Option(..., "--dialled", help="The proxy number dialled")) -> None:
    """The console telephony adapter: where a call to a proxy number goes, or the refusal (exit 0 either way)."""
    _out(_platform().calls.route(caller=caller, dialled=dialled, actor="cli"))


@calls_app.command("verify")
def calls_verify(identity: Optional[str] = typer.Option(None, "--identity",
                                                        help="The SIP Identity header value (omit: none)"),
                 from_: str = typer.Option(..., "--from", help="The call's From number"),
                 to: list[str] = typer.Option(..., "--to", help="The call's To number (repeat for several)"),
                 received_at: Optional[str] = typer.Option(
                     None, "--received-at", help="When the INVITE arrived: ISO 8601 with an offset, or Unix "
                     "seconds (default: now)")) -> None:
    """The console telephony adapter, terminating side: the STIR/SHAKEN verification status (verstat) of
    a call's Identity header, its certificate fetched from the x5u on POSTGUARD_X5U_ALLOWED_HOSTS only
    (exit 0 whatever the status)."""
    _out(_platform().stir.verify(identity=identity, orig=from_, dest=to, received_at=received_at))


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
