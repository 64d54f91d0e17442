"""Start-up check that the key-encryption key opens the protected data already stored.

A missing development key file used to be replaced silently by a new key, over a database whose
organisation keys were wrapped by the old one: the server started, and every later read failed with
"Protected data could not be read". Now, before a key file is created or used, the newest wrapped
organisation key (or, with no organisation yet, the newest platform secret) is unwrapped with it;
when protected data exists and the key is missing or does not open it, start-up is refused and says
exactly that.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from postguard.crypto import aead as fa
from postguard.errors import ConfigurationError, DecryptionFailed
from postguard.vault.kek import LocalKeyFile
from postguard.vault.models import ServiceKey, VaultKey

if TYPE_CHECKING:
    from postguard.db.engine import Database
    from postguard.settings import Settings


def stored_sample(db: Database) -> tuple[bytes, bytes] | None:
    """``(wrapped, associated data)`` of the newest KEK-wrapped key in the database, or None when
    nothing protected is stored (or the schema is not created yet)."""
    try:
        with db.primary_sessions() as s:
            row = s.execute(select(VaultKey.org_id, VaultKey.purpose, VaultKey.version, VaultKey.wrapped)
                            .where(VaultKey.wrapped.is_not(None)).order_by(VaultKey.id.desc()).limit(1)).first()
            if row is not None:
                return row.wrapped, b"orgkey" + fa.context(row.org_id, row.purpose, row.version)
            secret = s.execute(select(ServiceKey.purpose, ServiceKey.wrapped)
                               .order_by(ServiceKey.created_at.desc()).limit(1)).first()
            if secret is not None:
                return secret.wrapped, b"service" + fa.context(secret.purpose)
    except DBAPIError:  # no tables yet (``db upgrade`` before the first migration)
        return None
    return None


def open_key_file(settings: Settings, db: Database) -> LocalKeyFile:
    """The configured key file, refused when protected data exists and the key does not match it."""
    if settings.key_file is None:  # never once validated: Settings defaults it under data_dir
        raise ConfigurationError("no key file is configured")
    path = Path(settings.key_file)
    sample = stored_sample(db)
    advice = (f"restore the key file that protected this data at {path} (or point POSTGUARD_KEY_FILE at it); "
              "if that key is lost, the protected data cannot be recovered: start with a new database")
    if sample is not None and not path.exists():
        raise ConfigurationError(
            f"protected data exists in the database and the key file {path} is missing, so no key matches it; "
            f"no new key was created. {advice}")
    kek = LocalKeyFile(path, production=settings.mode == "production")
    if sample is not None:
        try:
            kek.unwrap(sample[0], aad=sample[1])
        except DecryptionFailed:
            raise ConfigurationError(
                f"protected data exists in the database and the key file {path} does not match it "
                f"(it cannot unwrap the stored organisation keys); {advice}") from None
    return kek
