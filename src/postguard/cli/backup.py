"""``postguard backup …``: a backup of the database with the key file sealed under a passphrase, and its
restore into a new place (``postguard.db.backup``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

import typer

from postguard.cli.common import count, open_platform, print_json
from postguard.errors import ConfigurationError
from postguard.settings import Settings

backup_app = typer.Typer(no_args_is_help=True, help="Backups of the database together with the key file.")

PassphraseOpt = typer.Option(
    None, "--passphrase-file", exists=True, dir_okay=False,
    help="File whose first line is the passphrase that seals the key file (or POSTGUARD_BACKUP_PASSPHRASE)")


def _passphrase(file: Path | None) -> bytes | None:
    from postguard.db.backup import check_passphrase

    secret = file.read_text(encoding="utf-8").splitlines()[0] if file else os.environ.get("POSTGUARD_BACKUP_PASSPHRASE")
    return check_passphrase(secret) if secret is not None else None


@backup_app.command("create")
def backup_create(
    out: Path = typer.Argument(..., dir_okay=False, help="The archive to write (.tar.gz); must not exist"),
    passphrase_file: Optional[Path] = PassphraseOpt,
    without_key: bool = typer.Option(False, "--without-key", help="Leave the key file out (keep it elsewhere)"),
) -> None:
    """Back up the database as of one moment (SQLite: its online backup; PostgreSQL: one snapshot) and
    the key file sealed under a passphrase, while the server runs."""
    from postguard.db import backup
    from postguard.models import metadata

    secret = None if without_key else _passphrase(passphrase_file)
    p = open_platform()
    key = None
    if not without_key:
        if secret is None:
            raise ConfigurationError("the key file is sealed under a passphrase: give --passphrase-file or "
                                     "POSTGUARD_BACKUP_PASSPHRASE (or --without-key to leave the key file out)")
        key = Path(str(p.settings.key_file)).read_bytes()
    manifest = backup.create(p.db.engine, metadata, out, key_file=key, passphrase=secret)
    p.close()
    rows = sum(manifest.tables.values())
    typer.echo(f"wrote {out}: {count(rows, 'row')} in {count(len(manifest.tables), 'table')} "
               f"({manifest.dialect}, schema {manifest.revision}), "
               + ("the key file sealed under the passphrase" if manifest.key_file else "without the key file"))


@backup_app.command("restore")
def backup_restore(
    archive: Path = typer.Argument(..., exists=True, dir_okay=False, help="A backup made by `backup create`"),
    passphrase_file: Optional[Path] = PassphraseOpt,
    as_json: bool = typer.Option(False, "--json", help="Print what was restored as JSON"),
) -> None:
    """Restore a backup into a new place: the data directory, database and key file that
    POSTGUARD_DATA_DIR, POSTGUARD_DATABASE_URL and POSTGUARD_KEY_FILE name. The database must be empty
    and the key file must not exist: a restore never writes over anything. Then run `postguard audit verify`."""
    from postguard.db import backup
    from postguard.db.engine import build_engine
    from postguard.models import metadata

    settings = Settings()
    key_path = Path(str(settings.key_file))
    with tempfile.TemporaryDirectory(prefix="postguard-restore-") as tmp:
        opened = backup.open_archive(archive, Path(tmp), passphrase=_passphrase(passphrase_file))
        if opened.key_file is not None and key_path.exists():
            raise ConfigurationError(f"a key file already exists at {key_path}; a backup is restored only into a "
                                     "new place (set POSTGUARD_KEY_FILE or POSTGUARD_DATA_DIR); nothing was restored")
        Path(settings.data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = build_engine(str(settings.database_url), pool_size=1)
        try:
            backup.refuse_if_not_empty(engine, metadata)
            loaded = backup.load(engine, metadata, opened)
        finally:
            engine.dispose()
        if opened.key_file is not None:
            key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(opened.key_file)
    if as_json:
        print_json({"archive": str(archive), "manifest": opened.manifest.as_dict(), "restored": loaded,
                    "key_file": str(key_path) if opened.key_file is not None else None})
        return
    typer.echo(f"restored {count(sum(loaded.values()), 'row')} in {count(len(loaded), 'table')} from {archive} "
               f"(made {opened.manifest.created_at})")
    if opened.key_file is not None:
        typer.echo(f"key file: {key_path}")
    else:
        typer.echo(f"the backup holds no key file: put the key file that protected this data at {key_path}")
    typer.echo("next: `postguard audit verify` checks the restored access log")
