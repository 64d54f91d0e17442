"""Access-log benchmarks: sustained durable appends on SQLite with fsync'd commits, and inclusion proofs.

    .venv/bin/python benchmarks/bench_audit.py                 # 8 s per append figure, a 1,000,000-entry tree
    .venv/bin/python benchmarks/bench_audit.py --seconds 2 --tree 100000   # the CI smoke run

Everything runs pinned to one core (CPU 0), on a fresh SQLite database in WAL mode with
``synchronous=FULL`` (every commit is fsync'd). Prints JSON lines (DESIGN.md §4):

- ``appends_per_s``: ``--threads`` threads calling ``AuditLog.append``, each returning only when its
  entry is durable (group commit), against the baseline ``one_txn_per_entry_per_s``: one thread
  calling ``append`` in a loop, so every entry is its own fsync'd transaction; and against the
  10,000/s target (ratio ≥ 1: met).
- ``append_many_per_s``: one thread calling ``AuditLog.append_many`` with ``--batch`` entries per
  call (one transaction each), against the same baseline and against the target.
- ``inclusion_proof_us`` at ``--tree`` entries, against the 1,000 µs target, and against the
  reference O(n) algorithm on a tree a hundred times smaller (shows what the level cache buys).

Every append run ends with ``AuditLog.verify()`` over all the entries written.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from postguard.audit import merkle
from postguard.platform import Platform
from postguard.settings import Settings

TARGET = 10_000.0


def emit(metric, value, baseline_metric, baseline):
    print(json.dumps({"bench": "audit", "metric": metric, "value": round(value, 2),
                      "baseline_metric": baseline_metric, "baseline": round(baseline, 2),
                      "ratio": round(value / baseline, 3)}), flush=True)


def reveal(k: int, i: int) -> dict:
    return {"actor": f"staff:{k}", "action": "reveal", "org_id": 1, "subject": f"WB{k:03d}{i:07d}",
            "purpose": "delivery", "details": {"columns": ["recipient_address", "recipient_phone"]}}


class Log:
    """A fresh platform on its own SQLite file."""

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.p = Platform(Settings(data_dir=Path(self.dir.name)))
        self.log = self.p.audit
        self.log.append(actor="bench", action="warmup")
        return self.log

    def __exit__(self, *exc):
        assert exc[0] is not None or self.log.verify().ok
        self.p.close()
        self.dir.cleanup()


def one_per_transaction(seconds: float) -> float:
    with Log() as log:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            log.append(**reveal(0, n))
            n += 1
        return n / (time.perf_counter() - t0)


def concurrent(seconds: float, threads: int) -> tuple[float, float]:
    with Log() as log:
        stop, counts = threading.Event(), [0] * threads

        def worker(k):
            i = 0
            while not stop.is_set():
                log.append(**reveal(k, i))
                i += 1
            counts[k] = i

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        start = log._tree.size
        cpu0, t0 = os.times(), time.perf_counter()
        for t in ts:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in ts:
            t.join()
        elapsed, cpu1 = time.perf_counter() - t0, os.times()
        total = sum(counts)
        assert log._tree.size - start == total
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        return total / elapsed, cpu / elapsed


def batched(seconds: float, batch: int) -> float:
    with Log() as log:
        n, cpu0, t0 = 0, os.times(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            entries = [reveal(1, n + j) for j in range(batch)]  # building them is part of the cost
            got = log.append_many(entries)
            assert len(got) == batch
            n += batch
        elapsed, cpu1 = time.perf_counter() - t0, os.times()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        return n / elapsed, cpu / elapsed


def proofs(size: int) -> tuple[float, float]:
    rnd = random.Random(1)
    leaves = [merkle.leaf_hash(rnd.randbytes(40)) for _ in range(size)]
    tree = merkle.MerkleTree(leaves)
    times = []
    for _ in range(2000):
        i = rnd.randrange(size)
        t0 = time.perf_counter()
        proof = tree.inclusion_proof(i)
        times.append(time.perf_counter() - t0)
    assert merkle.verify_inclusion(leaf_hash=leaves[i], index=i, tree_size=size, proof=proof, root=tree.root())
    small = leaves[: max(size // 100, 2)]
    ref = []
    for _ in range(20):
        i = rnd.randrange(len(small))
        t0 = time.perf_counter()
        merkle.inclusion_proof(small, i)
        ref.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6, statistics.median(ref) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0, help="duration of each append figure")
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1000, help="entries per append_many call")
    ap.add_argument("--tree", type=int, default=1_000_000)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    single = one_per_transaction(min(2.0, args.seconds / 2))
    rate, share = concurrent(args.seconds, args.threads)
    emit("appends_per_s", rate, "one_txn_per_entry_per_s", single)
    emit("appends_per_s", rate, "target_appends_per_s", TARGET)
    many, many_share = batched(args.seconds, args.batch)
    emit("append_many_per_s", many, "one_txn_per_entry_per_s", single)
    emit("append_many_per_s", many, "target_appends_per_s", TARGET)
    us, ref_us = proofs(args.tree)
    emit("inclusion_proof_us", us, "target_us", 1000.0)
    emit("inclusion_proof_us", us, f"reference_proof_us_at_{max(args.tree // 100, 2)}", ref_us)
    print(f"# one core (CPU 0), Python {'.'.join(map(str, sys.version_info[:3]))}, {args.threads} threads, "
          f"append_many batches of {args.batch}, tree of {args.tree} entries; during the threaded run this "
          f"process used {share:.2f} of the core, during append_many {many_share:.2f}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
