"""Scanning feeds of hostnames: plain lists (one a line) and certificate-transparency JSON lines
(certstream's ``data.leaf_cert.all_domains``, crt.sh's ``name_value``, or ``domain`` / ``domains`` /
``host`` / ``all_domains``). Streams in bounded memory: lines are read with a length cap, names go out
in chunks with a bounded number in flight, and only a bounded window of recent names is remembered to
skip repeats (CT logs repeat a name in every certificate that covers it)."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO

import orjson

from postguard.lookalike.brands import BrandModel
from postguard.lookalike.match import Matcher

MAX_LINE = 1 << 20  # a longer line is skipped (counted as malformed)
MAX_NAMES_PER_LINE = 1_000
CHUNK = 2_048
RECENT = 1 << 16  # names remembered to skip repeats


@dataclass
class ScanStats:
    lines: int = 0
    names: int = 0
    repeats: int = 0
    malformed: int = 0
    hits: int = 0


def read_lines(stream: IO[bytes], stats: ScanStats, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The lines of ``stream``, each at most ``MAX_LINE`` bytes (a longer one is skipped whole)."""
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        if progress is not None:
            progress(len(line))
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            stats.malformed += 1
            while line and not line.endswith(b"\n"):  # the rest of the over-long line
                line = stream.readline(MAX_LINE + 1)
                if progress is not None:
                    progress(len(line))
            continue
        stats.lines += 1
        yield line


def _json_names(obj: object) -> list[str]:
    if not isinstance(obj, dict):
        return []
    data = obj.get("data")
    if isinstance(data, dict) and isinstance(data.get("leaf_cert"), dict):  # certstream
        names = data["leaf_cert"].get("all_domains")
    elif isinstance(obj.get("name_value"), str):  # crt.sh
        names = obj["name_value"].split("\n")
    else:
        names = next((obj[k] for k in ("all_domains", "domains", "domain", "host", "hostname") if k in obj), None)
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list):
        return []
    return [n for n in names[:MAX_NAMES_PER_LINE] if isinstance(n, str)]


def names_of(lines: Iterable[bytes], stats: ScanStats) -> Iterator[str]:
    """Hostnames from plain or JSON lines; a line that is neither is counted as malformed."""
    recent: OrderedDict[str, None] = OrderedDict()
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        if line.startswith(b"{"):
            try:
                names = _json_names(orjson.loads(line))
            except orjson.JSONDecodeError:
                names = []
            if not names:
                stats.malformed += 1
                continue
        else:
            try:
                names = [line.split()[0].decode("utf-8")]
            except UnicodeDecodeError:
                stats.malformed += 1
                continue
        for name in names:
            name = name.strip().lower().rstrip(".")
            while name.startswith("*."):  # a certificate's wildcard covers the same site
                name = name[2:]
            if name in recent:
                stats.repeats += 1
                recent.move_to_end(name)
                continue
            recent[name] = None
            if len(recent) > RECENT:
                recent.popitem(last=False)
            stats.names += 1
            yield name


def _chunks(names: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for n in names:
        chunk.append(n)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_worker: Matcher | None = None


def _init_worker(model: BrandModel, threshold: int) -> None:
    global _worker
    _worker = Matcher(model, threshold=threshold)


def _match_chunk(names: list[str]) -> list[dict]:
    assert _worker is not None  # noqa: S101  set by the pool's initializer
    out = []
    for n in names:
        hit = _worker.match(n)
        if hit is not None:
            out.append(hit.as_dict())
    return out


def scan(model: BrandModel, names: Iterator[str], *, workers: int = 1, threshold: int | None = None) -> Iterator[dict]:
    """The hits among ``names``, in feed order. ``workers`` > 1 matches in that many processes,
    with at most two chunks per process in flight."""
    kwargs = {} if threshold is None else {"threshold": threshold}
    if workers <= 1:
        matcher = Matcher(model, **kwargs)
        for n in names:
            hit = matcher.match(n)
            if hit is not None:
                yield hit.as_dict()
        return
    from postguard.lookalike.score import THRESHOLD

    pending: list[Future[list[dict]]] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(model, THRESHOLD if threshold is None else threshold)) as pool:
        for chunk in _chunks(names, CHUNK):
            pending.append(pool.submit(_match_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield from pending.pop(0).result()
        for f in pending:
            yield from f.result()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
