"""Files that hold personal data or keys: readable by the service's own user only.

The data directory is 0700 and the embedded database (with its -wal and -shm companions, which
SQLite creates with the database's own mode) 0600, whatever the umask. Existing ones with wider
modes are narrowed at start-up; files owned by another user are left alone (chmod would fail).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from postguard.logging import get_logger

log = get_logger("postguard.files")

DIR_MODE, FILE_MODE = 0o700, 0o600


def _narrow(path: Path, mode: int) -> None:
    st = path.stat()
    if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.geteuid():
        os.chmod(path, mode)
        log.warning("narrowed permissions", path=str(path), was=oct(stat.S_IMODE(st.st_mode)), now=oct(mode))


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if absent; the directory itself ends up 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _narrow(path, DIR_MODE)


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if absent (its directory 0700 when created here);
    narrow it and its SQLite companions to 0600 if present."""
    path = Path(path)
    if not path.parent.exists():
        private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
              path.with_name(path.name + "-journal")):
        if p.exists():
            _narrow(p, FILE_MODE)
