"""``postguard serve``, ``init``, ``demo``, ``db …`` and ``keys …``: running the server, the schema and the keys.

``serve``, ``init`` and ``demo`` are top-level commands: the root (``postguard.cli.main``) registers them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import OrgOpt, count, new_in_missing_data_dir, open_platform, print_json
from postguard.settings import Settings

db_app = typer.Typer(no_args_is_help=True, help="Database schema (migrations).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys and vault keys.")
api_keys_app = typer.Typer(no_args_is_help=True, help="Scoped API keys for operators' systems.")
keys_app.add_typer(api_keys_app, name="api")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    demo: bool = typer.Option(False, "--demo", help="Seed the demo operator and shipments first (creates the "
                              "data directory if there is none)"),
    workers: int = typer.Option(1, help="Worker processes (stateless; share the database)"),
) -> None:
    """Start the API and web pages (migrating the database first)."""
    import uvicorn

    from postguard.app import create_app

    settings = Settings()
    if demo:
        from postguard.demo import refuse_in_production

        refuse_in_production(settings)  # before anything is created or migrated
    created = demo and new_in_missing_data_dir(settings)
    platform = open_platform(create=demo)
    if created:
        typer.echo(f"Created a new demo data directory at {Path(settings.data_dir).resolve()}.")
    site = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104  a comparison
    if demo:
        from postguard.demo import seed

        _print_demo(seed(platform), platform.settings.site_url(site))
    typer.echo(f"postguard on http://{host}:{port}/ (database: {platform.db.dialect})")
    # X-Forwarded-For is believed only from POSTGUARD_TRUSTED_PROXIES (uvicorn's own default trusts
    # 127.0.0.1, which would let anything behind a local proxy or on the host pick its address).
    trusted = list(platform.settings.trusted_proxies)
    if workers > 1:
        platform.close()
        uvicorn.run("postguard.app:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=bool(trusted), forwarded_allow_ips=trusted)
    else:
        uvicorn.run(create_app(platform.settings, platform=platform), host=host, port=port,
                    proxy_headers=bool(trusted), forwarded_allow_ips=trusted)


def _print_demo(info: dict, site: str) -> None:
    typer.echo(f"Demo operator {info['org']}: {count(info['imported'], 'shipment')} imported "
               f"({info['already_present']:,} already present).")
    typer.echo(f"Demo API key (shown once): {info['api_key']}")
    typer.echo("Demo staff (synthetic credentials; sign in at /staff/login with the organisation shown):")
    for member in info["staff"]:
        typer.echo(f"  {member['org']:<8} {member['role']:<8} {member['username']:<15} {member['password']}")
    typer.echo(f"Parcels assigned to the demo couriers: {', '.join(info['assigned'])}")
    tries = info["try"]
    typer.echo(f"Numbers to try (synthetic) in the call check ({site}/kiem-tra-cuoc-goi) and the message check "
               f"({site}/kiem-tra):")
    lines = [("reported scam number", tries["scam"], ""), ("official operator hotline", tries["official"], "")]
    lines += [("registered courier number", c["phone"], f"{c['username']}, delivers {', '.join(c['waybills'])}")
              for c in tries["couriers"]]
    lines.append((f"recipient of {tries['recipient']['waybill']}", tries["recipient"]["phone"],
                  "prove it with a one-time code: the courier's number is then verified"))
    for what, number, note in lines:
        typer.echo(f"  {what + ':':<27} " + (f"{number:<13} ({note})" if note else number))
    typer.echo("One-time codes are not sent by SMS in the demo: they are printed on this console (\"[sms to …]\").")


def init() -> None:
    """Create a new, empty installation where POSTGUARD_DATA_DIR points (default ./var): the data
    directory (0700), the embedded database, migrated, and a development key file. Commands other
    than this one and `serve --demo` refuse a data directory that does not exist."""
    settings = Settings()
    where = Path(settings.data_dir).resolve()
    if not new_in_missing_data_dir(settings):
        open_platform().close()  # migrates an existing one; refused when its key does not match
        typer.echo(f"postguard data directory at {where} is ready")
        return
    open_platform(create=True).close()
    typer.echo(f"created a new postguard data directory at {where}")


def demo(shipments: int = typer.Option(3000, min=1, help="How many shipments to generate")) -> None:
    """Seed the demo operator with generated shipments (synthetic people, real wards)."""
    from postguard.demo import refuse_in_production, seed

    refuse_in_production(Settings())
    print_json(seed(open_platform(), shipments=shipments))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from postguard.db import migrate
    from postguard.models import metadata

    p = open_platform(migrate=False)
    migrate.upgrade(p.db.engine, metadata=metadata)
    typer.echo(f"database at revision {migrate.current(p.db.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from postguard.db import migrate

    typer.echo(migrate.current(open_platform(migrate=False).db.engine) or "none")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models declare something the migrations do not create (like `alembic check`)."""
    from postguard.db import migrate
    from postguard.models import metadata

    diff = migrate.pending_changes(open_platform().db.engine, metadata)
    if diff:
        typer.echo("models and migrations differ:", err=True)
        for d in diff:
            typer.echo(f"  {d}", err=True)
        raise typer.Exit(1)
    typer.echo("no pending changes")


@api_keys_app.command("create")
def api_key_create(
    org: str = OrgOpt,
    scope: list[str] = typer.Option(..., "--scope", help="Repeat for each scope, e.g. --scope shipments:read"),
    label: str = typer.Option("", help="What the key is for"),
) -> None:
    """Create a scoped API key; it is printed once and stored only as a digest."""
    key = open_platform().orgs.create_api_key(org_code=org, scopes=scope, label=label)
    typer.echo(f"API key (shown once, store it now): {key.token}")
    typer.echo(f"prefix: {key.prefix}  scopes: {' '.join(key.scopes)}")


@api_keys_app.command("revoke")
def api_key_revoke(prefix: str = typer.Argument(..., help="The key's prefix")) -> None:
    """Revoke an API key at once."""
    open_platform().orgs.revoke_api_key(prefix=prefix)
    typer.echo(f"revoked {prefix}")


@keys_app.command("status")
def keys_status(org: str = OrgOpt) -> None:
    """Show an organisation's key versions and their use against the nonce budget."""
    p = open_platform()
    with p.db.read_session() as s:
        print_json(p.vault.key_status(s, org_id=p.orgs.get(org).id))


@keys_app.command("rotate")
def keys_rotate(
    org: Optional[str] = typer.Option(None, "--org", help="Rotate this organisation's data key"),
    kek: bool = typer.Option(False, "--kek", help="Rotate the key-encryption key instead"),
    rewrap: bool = typer.Option(True, help="Re-wrap existing data keys afterwards (while serving)"),
) -> None:
    """Rotate a data key (then re-wrap every record key), or the key-encryption key."""
    from rich.progress import Progress

    p = open_platform()
    if kek:
        kid = p.kek.rotate()
        with p.db.session() as s:
            n = p.vault.rewrap_org_keys(s)
        removed = p.kek.retire({kid})
        p.audit.append(actor="cli", action="kek_rotate", details={"kek": kid, "retired": removed})
        typer.echo(f"new key-encryption key {kid}; {count(n, 'organisation key')} re-wrapped; retired {removed}")
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
        typer.echo(f"re-wrapped {count(out['rewrapped'], 'record key')}; destroyed versions {out['destroyed_versions']}")


@keys_app.command("rewrap")
def keys_rewrap(org: str = OrgOpt) -> None:
    """Re-wrap record keys still under a retired data-key version, then destroy unused versions."""
    p = open_platform()
    print_json(p.shipments.rewrap(p.orgs.principal(org, actor="cli")))


@keys_app.command("kek-create")
def keys_kek_create(
    path: Path = typer.Argument(..., help="Where to write the new key file (mode 0600)"),
    production: bool = typer.Option(False, "--production", help="Mark it a production key (not dev)"),
) -> None:
    """Create a key-encryption key file (production deployments point POSTGUARD_KEY_FILE at it)."""
    from postguard.vault.kek import LocalKeyFile

    LocalKeyFile.create(path, dev=not production)
    typer.echo(f"created {'production' if production else 'development'} key file {path}")
