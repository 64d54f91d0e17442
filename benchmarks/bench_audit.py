"""Access-log benchmarks: sustained appends on SQLite with fsync'd commits, and inclusion proofs.

    .venv/bin/python benchmarks/bench_audit.py                 # 8 s of appends, a 1,000,000-entry tree
    .venv/bin/python benchmarks/bench_audit.py --seconds 2 --tree 100000   # the CI smoke run

Prints JSON lines (DESIGN.md §4):
- ``appends_per_s`` from 64 threads calling ``AuditLog.append`` (each returns only when its entry
  is durable) against the baseline ``fsync_commits_per_s``: one-entry transactions on the same
  database, i.e. what the log would do without group commit; and the same figure against the target
  of 10,000/s.
- ``inclusion_proof_us`` at the tree size, against the 1,000 µs target, and against the reference
  O(n) algorithm on a 1/100 tree (shows what the level cache buys).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from postguard.audit import merkle
from postguard.platform import Platform
from postguard.settings import Settings


def emit(metric, value, baseline_metric, baseline):
    print(json.dumps({"bench": "audit", "metric": metric, "value": round(value, 2),
                      "baseline_metric": baseline_metric, "baseline": round(baseline, 2),
                      "ratio": round(value / baseline, 3)}), flush=True)


def appends(seconds: float, threads: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as d:
        p = Platform(Settings(data_dir=Path(d)))
        log = p.audit
        log.append(actor="bench", action="warmup")
        # baseline: one durable transaction per entry (no group commit)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min(2.0, seconds / 2):
            log._write([{"actor": "bench", "action": "reveal", "org": 1, "subject": f"WB{n:08d}",
                         "purpose": "delivery", "details": {"columns": ["recipient_phone"]}}])
            n += 1
        single = n / (time.perf_counter() - t0)
        stop, counts = threading.Event(), [0] * threads

        def worker(k):
            i = 0
            while not stop.is_set():
                log.append(actor=f"staff:{k}", action="reveal", org_id=1, subject=f"WB{k:03d}{i:07d}",
                           purpose="delivery", details={"columns": ["recipient_phone", "recipient_address"]})
                i += 1
            counts[k] = i

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in ts:
            t.join()
        rate = sum(counts) / (time.perf_counter() - t0)
        assert log.verify().ok
        p.close()
        return rate, single


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
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--tree", type=int, default=1_000_000)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rate, single = appends(args.seconds, args.threads)
    emit("appends_per_s", rate, "fsync_commits_per_s", single)
    emit("appends_per_s", rate, "target_appends_per_s", 10_000)
    us, ref_us = proofs(args.tree)
    emit("inclusion_proof_us", us, "target_us", 1000.0)
    emit("inclusion_proof_us", us, f"reference_proof_us_at_{max(args.tree // 100, 2)}", ref_us)
    print(f"# one core, Python {'.'.join(map(str, os.sys.version_info[:3]))}, tree of {args.tree} entries", flush=True)


if __name__ == "__main__":
    main()
