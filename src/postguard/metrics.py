"""What the services count, kept as plain numbers and turned into Prometheus metrics when scraped.

The wiring builds one ``Meter`` per platform and hands it to the services that count something; each
asks it for its ``Counter``s once, when built, and counts with ``Counter.inc``. The shell
(``postguard.api.system``) registers the meter in the app's registry: nothing here imports
``prometheus_client``.

An increment is a thread-local read and a dictionary update on that thread's own shard of the
counter: no lock, however many threads count at once (the event loop, the thread pool), and no
update lost to another thread's. A scrape adds the shards up (under a lock of the counter's, taken
only by scrapes and by a thread's first increment); shards of threads that ended are folded into one.

Label values must be few and known in advance (a purpose, a verdict, an outcome), never a phone
number, a waybill, an address or free text: the metrics are read by whoever holds the scrape token.
``bounded`` turns anything else into ``other``."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Labels = tuple[str, ...]

_NAME = re.compile(r"postguard_[a-z][a-z0-9_]*\Z")
_BOUNDED = re.compile(r"[a-z][a-z_-]{0,39}\Z")


def bounded(value: str) -> str:
    """``value`` as a label value when it is a short lower-case word (letters, ``_`` and ``-``, no
    digit: a number, a digest or an address never passes), else ``other``."""
    return value if _BOUNDED.match(value) else "other"


class Counter:
    """A monotonic count per tuple of label values (``labels`` names them)."""

    __slots__ = ("name", "documentation", "labels", "_local", "_shards", "_retired", "_lock")

    def __init__(self, name: str, documentation: str, labels: Labels = ()) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self._local = threading.local()
        self._shards: list[tuple[threading.Thread, dict[Labels, float]]] = []
        self._retired: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, *values: str, amount: float = 1) -> None:
        """Add ``amount`` (1) to the count of ``values``, one per label."""
        try:
            shard = self._local.shard
        except AttributeError:
            shard = self._new_shard()
        shard[values] = shard.get(values, 0) + amount

    def _new_shard(self) -> dict[Labels, float]:
        shard: dict[Labels, float] = {}
        with self._lock:
            self._shards.append((threading.current_thread(), shard))
        self._local.shard = shard
        return shard

    def values(self) -> dict[Labels, float]:
        """Every count so far, by label values."""
        with self._lock:
            live = []
            for thread, shard in self._shards:
                if thread.is_alive():
                    live.append((thread, shard))
                else:  # nobody writes to it any more
                    for key, n in shard.items():
                        self._retired[key] = self._retired.get(key, 0) + n
            self._shards = live
            out = dict(self._retired)
            for _, shard in live:
                for key, n in shard.copy().items():  # copy: one C call, atomic under the GIL
                    out[key] = out.get(key, 0) + n
        return out


@dataclass
class Gauge:
    """A value per tuple of label values, read by ``read`` when scraped, at most every ``ttl``
    seconds (a query's answer is kept that long, so that several scrapers cost one query)."""

    name: str
    documentation: str
    labels: Labels
    read: Callable[[], Iterable[tuple[Labels, float]]]
    ttl: float = 10.0
    _kept: tuple[float, list[tuple[Labels, float]]] | None = field(default=None, repr=False)

    def values(self) -> list[tuple[Labels, float]]:
        now = time.monotonic()
        kept = self._kept
        if kept is None or now - kept[0] >= self.ttl:
            kept = self._kept = (now, list(self.read()))
        return kept[1]


class Meter:
    """The counters and gauges of one platform, by name (``postguard_<service>_<what>``)."""

    def __init__(self) -> None:
        self.counters: dict[str, Counter] = {}
        self.gauges: dict[str, Gauge] = {}

    def counter(self, name: str, documentation: str, labels: Labels = ()) -> Counter:
        """The counter ``name`` (without ``_total``, which the exposition adds), created on first ask;
        asked again (a service built twice), the same counter."""
        if not _NAME.match(name) or name.endswith("_total"):
            raise ValueError(f"not a metric name for a counter: {name!r}")
        found = self.counters.get(name)
        if found is None:
            found = self.counters.setdefault(name, Counter(name, documentation, labels))
        if found.labels != labels:
            raise ValueError(f"{name} is counted with the labels {found.labels}, not {labels}")
        return found

    def gauge(self, name: str, documentation: str, read: Callable[[], Iterable[tuple[Labels, float]]], *,
              labels: Labels = (), ttl: float = 10.0) -> Gauge:
        """A gauge read at scrape time (the last registration of ``name`` wins)."""
        if not _NAME.match(name):
            raise ValueError(f"not a metric name: {name!r}")
        gauge = self.gauges[name] = Gauge(name, documentation, labels, read, ttl)
        return gauge
