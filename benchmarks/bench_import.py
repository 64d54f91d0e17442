"""CSV import throughput: encrypted vs the same pipeline with encryption off, and raw AES-GCM.

Run with no arguments (about two minutes)::

    .venv/bin/python benchmarks/bench_import.py            # 100,000 rows, 5 rounds
    .venv/bin/python benchmarks/bench_import.py --rows 3000 --rounds 1   # smoke run

One synthetic CSV is generated once; each round then imports it into a fresh SQLite database (the
default: a file in WAL mode, synchronous=FULL) twice, with encryption on and off, and measures raw
AES-GCM over the same fields. Measurements are interleaved and pinned to one core; the median of
the rounds is printed as JSON lines (docs/benchmarks.md, DESIGN.md §4 item 8).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from postguard.logging import configure_logging
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.shipments.service import KINDS
from postguard.synthetic import Faker, write_csv

TARGET_ROWS_PER_S = 20_000.0
TARGET_RATIO = 0.7


class Plaintext:
    """``shipments.service.Protection`` with encryption off, for the baseline only.

    The same columns receive the UTF-8 bytes of each value (no record key), and the phone index is an
    unkeyed CRC-32 truncated to the organisation's bits like the blind index. Everything else in the
    pipeline (CSV parsing, validation, masking, the SQLite insert) is the product's own code.
    """

    key_version = None

    def __init__(self, vault, session, *, org, count: int) -> None:
        shift = 32 - org.blind_index_bits
        self.index = lambda e164: zlib.crc32(e164.encode()) >> shift

    @staticmethod
    def seal(records):
        return [(None, *[None if v is None else bytearray(v, "utf-8") for v in values]) for _, values in records]


def import_once(csv_path: Path, work: Path, *, protection=None) -> float:
    """Import ``csv_path`` into a fresh database under ``work``; returns rows per second."""
    data_dir = Path(tempfile.mkdtemp(dir=work))
    platform = Platform(Settings(data_dir=data_dir))
    try:
        org = platform.orgs.create(code="BENCH", name="Benchmark post")
        principal = platform.orgs.principal(org.code, actor="bench")
        kwargs = {"protection": protection} if protection else {}
        gc.collect()
        with csv_path.open("rb") as f:
            start = time.perf_counter()
            report = platform.shipments.import_csv(principal, f, **kwargs)
            elapsed = time.perf_counter() - start
        if report.invalid or report.imported != report.rows:
            raise SystemExit(f"import went wrong: {report.as_dict()}")
        return report.rows / elapsed
    finally:
        platform.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def raw_aesgcm_once(records: list[tuple[bytes, ...]]) -> float:
    """The ceiling: per row, a fresh 256-bit key, its wrapping under a fixed key, and one AES-GCM
    encryption per personal field (UTF-8 bytes, random nonce) — no parsing, padding or database."""
    org = AESGCM(AESGCM.generate_key(256))
    gc.collect()
    start = time.perf_counter()
    rnd = os.urandom(len(records) * (48 + 12 * len(KINDS)))
    off = 0
    for values in records:
        org.encrypt(rnd[off + 36 : off + 48], rnd[off : off + 36], b"dek")
        enc = AESGCM(rnd[off + 4 : off + 36]).encrypt
        off += 48
        for v in values:
            enc(rnd[off : off + 12], v, b"ad")
            off += 12
    return len(records) / (time.perf_counter() - start)


def line(metric: str, value: float, baseline_metric: str, baseline: float) -> str:
    digits = 1 if baseline >= 100 else 3
    return json.dumps({"bench": "import", "metric": metric, "value": round(value, digits),
                       "baseline_metric": baseline_metric, "baseline": round(baseline, digits),
                       "ratio": round(value / baseline, 3)})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows in the synthetic CSV (default 100000)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the median is reported (default 5)")
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args(argv)

    configure_logging(Settings(log_level="WARNING"), stream=sys.stderr)  # stdout carries only the figures
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # one core: the figure is per core, and steadier
    work = Path(tempfile.mkdtemp(prefix="pg-bench-import-"))
    try:
        csv_path = work / "shipments.csv"
        with csv_path.open("w", encoding="utf-8", newline="") as f:
            write_csv(Faker(args.seed).rows(args.rows), f)
        with csv_path.open(encoding="utf-8", newline="") as f:
            rows = csv.DictReader(f)
            records = [tuple(r[c].encode() for c in KINDS if r[c]) for r in rows]

        encrypted, plaintext, raw = [], [], []
        for i in range(max(1, args.rounds)):
            runs = [lambda: encrypted.append(import_once(csv_path, work)),
                    lambda: plaintext.append(import_once(csv_path, work, protection=Plaintext)),
                    lambda: raw.append(raw_aesgcm_once(records))]
            for run in runs if i % 2 == 0 else runs[::-1]:  # alternate the order: drift favours no side
                run()
        e, p, r = statistics.median(encrypted), statistics.median(plaintext), statistics.median(raw)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(line("encrypted_rows_per_s", e, "plaintext_rows_per_s", p))
    print(line("raw_aesgcm_rows_per_s", r, "encrypted_rows_per_s", e))
    # The targets, in the same shape: a ratio >= 1 means the target is met.
    print(line("encrypted_rows_per_s", e, "target_rows_per_s", TARGET_ROWS_PER_S))
    print(line("encrypted_to_plaintext", e / p, "target_encrypted_to_plaintext", TARGET_RATIO))
    print(f"# {args.rows} rows, {args.rounds} rounds on cpu {cpu}, Python {sys.version.split()[0]}; "
          f"rows/s per round: encrypted {[round(x) for x in encrypted]}, plaintext {[round(x) for x in plaintext]}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
