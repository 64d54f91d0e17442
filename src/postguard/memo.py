"""Bounded in-memory maps for the hot paths' kept answers."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any


def keep(entries: OrderedDict, key: Any, value: Any, max_entries: int) -> None:
    """Make ``key`` the newest entry of ``entries``, dropping the oldest when it holds
    ``max_entries``: O(1). (A plain dict would do, but finding its oldest entry after many
    deletions at the front scans them all: tens of microseconds a call once full.) Readers in
    other threads may look up meanwhile."""
    entries.pop(key, None)
    if len(entries) >= max_entries:
        with contextlib.suppress(KeyError):  # another writer emptied it meanwhile
            entries.popitem(last=False)
    entries[key] = value
