"""Backups of the database, with the key file sealed under a passphrase, and their restore into a new place.

An archive (``.tar.gz``) holds:

* ``manifest.json``: format, when, which database it came from, the schema revision, each table's
  row count and each member's SHA-256;
* the data, as of one moment: SQLite's online backup (``database.sqlite``, made with the SQLite
  backup API while the server runs), or from PostgreSQL every table as JSON lines (``tables/NAME.jsonl``)
  read in one read-only REPEATABLE READ transaction, so that all tables are of the same snapshot;
* ``key.sealed``: the key file, sealed under a passphrase (``postguard.crypto.passphrase``), unless the
  backup was made without it. The database holds the personal data only as ciphertexts that this key
  opens, and the key is worthless without the database: they are restored together, and the key
  never leaves the machine unsealed.

A restore goes into a new, empty place, whatever database it came from (a SQLite backup restores
into PostgreSQL and back: rows are read and written through the models' types). Everything is
checked before anything is written: the format, every member's digest, the passphrase, an empty
target. The rows are then loaded in one transaction (a failure leaves no row), the schema is
migrated to the backup's revision first and to the newest after.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, MetaData, Table, create_engine, func, inspect, select, text

from postguard.crypto import passphrase as sealing
from postguard.db import migrate
from postguard.errors import ConfigurationError, DecryptionFailed, InvalidInput, FieldError

FORMAT = "postguard-backup/1"
KEY_AAD = FORMAT.encode() + b"/key-file"
BATCH = 2_000
MIN_PASSPHRASE = 12


@dataclass
class Manifest:
    created_at: str
    dialect: str
    revision: str | None
    tables: dict[str, int]
    members: dict[str, str] = field(default_factory=dict)  # name → SHA-256 (hex)
    key_file: bool = False
    format: str = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return {"format": self.format, "created_at": self.created_at, "dialect": self.dialect,
                "revision": self.revision, "tables": self.tables, "members": self.members,
                "key_file": self.key_file}


def check_passphrase(secret: str) -> bytes:
    if len(secret) < MIN_PASSPHRASE:
        raise InvalidInput("The passphrase is too short.", [FieldError(
            "passphrase", f"at least {MIN_PASSPHRASE} characters", code="too_short")])
    return secret.encode("utf-8")


# -- values as JSON: bytes and datetimes tagged (no column holds a JSON object, so a tag is unambiguous) --

def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "b" in value:
            return base64.b64decode(value["b"])
        return datetime.fromisoformat(value["t"])
    return value


def _sha256(stream: IO[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


# -- making one ------------------------------------------------------------------------------------

def create(engine: Engine, metadata: MetaData, out: Path, *, key_file: bytes | None,
           passphrase: bytes | None) -> Manifest:
    """Write a backup of ``engine``'s database (and ``key_file`` sealed under ``passphrase``) to
    ``out``, a file that must not exist yet; it appears whole or not at all, readable by its owner only."""
    if out.exists():
        raise InvalidInput(f"{out} already exists; nothing was written.", [FieldError(
            "out", "choose a new file name: a backup never overwrites a file", code="exists")])
    if key_file is not None and passphrase is None:
        raise InvalidInput("A passphrase is needed to seal the key file.", [FieldError(
            "passphrase", "give one, or make the backup without the key file", code="required")])
    with tempfile.TemporaryDirectory(prefix="postguard-backup-") as tmp:
        work = Path(tmp)
        if engine.dialect.name == "sqlite":
            members, manifest = _dump_sqlite(engine, metadata, work)
        else:
            members, manifest = _dump_rows(engine, metadata, work)
        if key_file is not None and passphrase is not None:
            (work / "key.sealed").write_bytes(sealing.seal(passphrase, key_file, KEY_AAD))
            members.append("key.sealed")
            manifest.key_file = True
        for name in members:
            with (work / name).open("rb") as f:
                manifest.members[name] = _sha256(f)
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                data = json.dumps(manifest.as_dict(), indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
                for name in members:
                    tar.add(work / name, arcname=name, recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _stamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dump_sqlite(engine: Engine, metadata: MetaData, work: Path) -> tuple[list[str], Manifest]:
    copy = work / "database.sqlite"
    with engine.connect() as conn:
        source: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # the online backup API: a consistent copy while others write
        finally:
            target.close()
    snapshot = create_engine(f"sqlite:///{copy}")
    try:
        revision = migrate.current(snapshot)
        with snapshot.connect() as conn:
            tables = _counts(conn, metadata)
    finally:
        snapshot.dispose()
    return ["database.sqlite"], Manifest(_stamp(), "sqlite", revision, tables)


def _counts(conn, metadata: MetaData) -> dict[str, int]:
    present = set(inspect(conn).get_table_names())
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables if t.name in present}


def _dump_rows(engine: Engine, metadata: MetaData, work: Path) -> tuple[list[str], Manifest]:
    (work / "tables").mkdir()
    members: list[str] = []
    tables: dict[str, int] = {}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        present = set(inspect(conn).get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in present:
                continue
            name = f"tables/{table.name}.jsonl"
            columns = [c.name for c in table.columns]
            n = 0
            with (work / name).open("wb") as f:
                f.write(json.dumps(columns).encode() + b"\n")
                rows = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(table).order_by(*table.primary_key.columns))
                for row in rows:
                    f.write(json.dumps([_encode(v) for v in row], ensure_ascii=False).encode() + b"\n")
                    n += 1
            tables[table.name] = n
            members.append(name)
    return members, Manifest(_stamp(), engine.dialect.name, revision, tables)


# -- restoring one ---------------------------------------------------------------------------------

@dataclass
class Opened:
    """A backup whose members all match their digests, extracted to a private temporary directory."""

    manifest: Manifest
    where: Path
    key_file: bytes | None


def open_archive(archive: Path, work: Path, *, passphrase: bytes | None) -> Opened:
    """Check ``archive`` whole (format, members, digests; the passphrase opens the key file) and
    extract it under ``work``. Any fault is a clear error and nothing is left half-read."""
    bad = InvalidInput(f"{archive} is not a postguard backup, or it is damaged; nothing was restored.")
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError, EOFError):
        raise bad from None
    with tar:
        try:
            names = tar.getnames()
            head = tar.extractfile("manifest.json")
            raw = json.loads(head.read(1 << 20)) if head else None
        except (KeyError, OSError, tarfile.TarError, EOFError, ValueError):
            raise bad from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise InvalidInput(f"{archive} is not a backup of this format ({FORMAT}); nothing was restored.")
        try:
            manifest = Manifest(**{k: raw[k] for k in ("created_at", "dialect", "revision", "tables",
                                                       "members", "key_file")})
        except KeyError:
            raise bad from None
        if sorted(names) != sorted(["manifest.json", *manifest.members]):
            raise bad
        for name, digest in manifest.members.items():
            member = tar.getmember(name)
            if not member.isfile() or name.startswith("/") or ".." in Path(name).parts:
                raise bad
            stream = tar.extractfile(member)
            target = work / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with stream as src, target.open("wb") as dst:  # type: ignore[union-attr]
                h = hashlib.sha256()
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
                    dst.write(chunk)
            if h.hexdigest() != digest:
                raise InvalidInput(f"{archive} is damaged: {name} does not match its digest; nothing was restored.")
    key = None
    if manifest.key_file:
        if passphrase is None:
            raise InvalidInput("This backup holds the key file: give its passphrase.", [FieldError(
                "passphrase", "required to open the key file in this backup", code="required")])
        try:
            key = sealing.open_(passphrase, (work / "key.sealed").read_bytes(), KEY_AAD)
        except DecryptionFailed:
            raise InvalidInput("The passphrase does not open the key file in this backup; nothing was restored.",
                               [FieldError("passphrase", "wrong passphrase", code="wrong")]) from None
    return Opened(manifest, work, key)


def _seeded(metadata: MetaData, revision: str | None) -> dict[str, int]:
    """The rows a fresh database holds once migrated (to ``revision``): the migrations' own seeds."""
    fresh = create_engine("sqlite://")
    try:
        migrate.upgrade(fresh, revision or "head", metadata=metadata)
        with fresh.connect() as conn:
            return _counts(conn, metadata)
    finally:
        fresh.dispose()


def refuse_if_not_empty(engine: Engine, metadata: MetaData) -> None:
    """A restore never writes over stored data: the target holds nothing but what migrations put there."""
    with engine.connect() as conn:
        counts = _counts(conn, metadata)
    seeded = _seeded(metadata, migrate.current(engine)) if any(counts.values()) else {}
    full = {name: n for name, n in counts.items() if n > seeded.get(name, 0)}
    if full:
        name, n = next(iter(full.items()))
        raise ConfigurationError(f"the target database already holds data ({name}: {n:,} rows, and "
                                 f"{len(full) - 1} more tables); a backup is restored only into a new, "
                                 "empty database; nothing was restored")


def _rows(opened: Opened, table: Table) -> Iterator[tuple[list[str], list[tuple]]]:
    """Batches of ``(columns, rows)`` of one table from the backup."""
    if opened.manifest.dialect == "sqlite":
        source = create_engine(f"sqlite:///{opened.where / 'database.sqlite'}")
        try:
            with source.connect() as conn:
                present = {c["name"] for c in inspect(conn).get_columns(table.name)}
                cols = [c for c in table.columns if c.name in present]
                result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(*cols).order_by(*table.primary_key.columns))
                for part in result.partitions(BATCH):
                    yield [c.name for c in cols], [tuple(r) for r in part]
        finally:
            source.dispose()
        return
    path = opened.where / "tables" / f"{table.name}.jsonl"
    with path.open("rb") as f:
        columns = json.loads(f.readline())
        batch: list[tuple] = []
        for line in f:
            batch.append(tuple(_decode(v) for v in json.loads(line)))
            if len(batch) >= BATCH:
                yield columns, batch
                batch = []
        if batch:
            yield columns, batch


def load(engine: Engine, metadata: MetaData, opened: Opened) -> dict[str, int]:
    """Migrate the empty target to the backup's revision, load every row in one transaction, bring
    PostgreSQL's sequences past the restored ids, then migrate to the newest revision."""
    if opened.manifest.revision:
        migrate.upgrade(engine, opened.manifest.revision, metadata=metadata)
    loaded: dict[str, int] = {}
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for table in reversed(metadata.sorted_tables):  # the migrations' seed rows: the backup has its own
            if table.name in opened.manifest.tables:
                conn.execute(table.delete())
        for table in metadata.sorted_tables:
            if table.name not in opened.manifest.tables:
                continue
            n = 0
            for columns, rows in _rows(opened, table):
                unknown = [c for c in columns if c not in table.c]
                if unknown:
                    raise ConfigurationError(f"the backup's table {table.name} has columns this version does "
                                             f"not know ({', '.join(unknown)}); restore it with the version "
                                             "that made it")
                conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])
                n += len(rows)
            if n != opened.manifest.tables[table.name]:
                raise InvalidInput(f"the backup's table {table.name} holds {n:,} rows, its manifest says "
                                   f"{opened.manifest.tables[table.name]:,}; nothing was restored")
            loaded[table.name] = n
            if conn.dialect.name == "postgresql" and n:
                _advance_sequences(conn, table)
    migrate.upgrade(engine, "head", metadata=metadata)
    return loaded


def _advance_sequences(conn, table: Table) -> None:
    for col in table.primary_key.columns:
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}).scalar()
        if seq:
            top = conn.execute(select(func.max(col))).scalar()
            conn.execute(text("SELECT setval(CAST(:s AS regclass), :v)"), {"s": seq, "v": top})
