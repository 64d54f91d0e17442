"""The citizen check over real HTTP: requests per second of ``POST /v1/callcheck`` against a bare ASGI
app that returns a constant, both served by uvicorn and driven by the same client in the same run.

    .venv/bin/python benchmarks/bench_call_check.py                 # 5 rounds of 5 s each
    .venv/bin/python benchmarks/bench_call_check.py --seconds 1 --rounds 1 --phones 500   # CI smoke run

The database (SQLite, a temporary directory) holds ``--phones`` verified courier numbers. The client
is a small asyncio HTTP/1.1 client with keep-alive connections (``--connections``), each sending one
request after the other; the server runs in its own process. Asked numbers rotate over registered
couriers (``courier`` answers) and unknown numbers (``not_courier`` answers), one in four unknown.
Prints JSON lines (DESIGN.md §4): ``checks_per_s`` against ``bare_asgi_per_s``, and the ratio against
the 0.60 target; ``paired_ratio_median`` is the median of the per-round ratios (each round measures
the bare app, then the check, back to back), which drift on a shared machine disturbs less.
The check's rate limit is set to ``100000/second``: one client address sends everything, and the
limiter still does its full per-request work (the production default would refuse the run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.60
HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "src"))  # this checkout's sources, in the client and the servers


# -- servers ---------------------------------------------------------------------------------------
async def bare_app(scope, receive, send):
    """A bare ASGI app: reads the request body and answers a constant JSON object."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        msg = await receive()
        more = msg.get("more_body", False)
    body = b'{"outcome":"courier","operator":{"code":"BENCH","name":"Bench","hotline":"1900 0000"}}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def serve(kind: str, port: int, data_dir: str) -> None:
    import uvicorn

    if kind == "bare":
        uvicorn.run(bare_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    from postguard.app import create_app
    from postguard.settings import Settings

    settings = Settings(data_dir=Path(data_dir), notifier="memory", log_level="WARNING",
                        callcheck_rate_limit="100000/second", rate_limit_storage=os.environ.get("BENCH_LIMITS", "memory://"))
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def seed(data_dir: str, phones: int) -> list[str]:
    """An operator with ``phones`` verified courier numbers (inserted directly, digests and ciphertext
    as the registry makes them); returns the numbers to ask about."""
    from postguard.access.models import Staff
    from postguard.callerid.models import CourierPhone
    from postguard.platform import Platform
    from postguard.settings import Settings
    from postguard.vault.masking import phone_last3

    p = Platform(Settings(data_dir=Path(data_dir), notifier="memory", password_time_cost=1,
                          password_memory_kib=1024, log_level="WARNING"))
    org = p.orgs.create(code="BENCH", name="Bưu chính Bench", hotline="1900 0000")
    numbers = [f"+8491{i:07d}" for i in range(phones)]
    keys = p.callerid_keys  # loads its secrets: before the write transaction below
    with p.db.session() as s:
        staff = [Staff(org_id=org.id, username=f"c{i}", display_name=f"Nguyễn Văn C{i}", role="courier",
                       status="active", password_hash="x") for i in range(max(1, phones // 10))]
        s.add_all(staff)
        s.flush()
        s.add_all(
            CourierPhone(id=i + 1, org_id=org.id, staff_id=staff[i % len(staff)].id, phone_last3=phone_last3(n),
                         phone_digest=keys.phone_digest(n), status="verified",
                         phone_ct=p.vault.encrypt(n.encode(), session=s, org_id=org.id, table="courier_phones",
                                                  column="phone", record_id=str(i + 1)))
            for i, n in enumerate(numbers))
    p.close()
    return numbers


# -- the client ------------------------------------------------------------------------------------
def request_bytes(number: str) -> bytes:
    body = json.dumps({"caller": "0" + number[3:], "asked": ["fee"]}).encode()
    return (b"POST /v1/callcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def _one_connection(port: int, requests: list[bytes], deadline: float, counts: list[int], k: int,
                          statuses: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = k
    try:
        while time.perf_counter() < deadline:
            writer.write(requests[i % len(requests)])
            i += 7
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12].decode()
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
            counts[k] += 1
    finally:
        writer.close()


async def load(port: int, requests: list[bytes], seconds: float, connections: int) -> tuple[float, dict]:
    statuses: dict = {}
    counts = [0] * connections
    warm = time.perf_counter() + 0.5
    await asyncio.gather(*(_one_connection(port, requests, warm, [0] * connections, k, {})
                           for k in range(connections)))
    t0 = time.perf_counter()
    await asyncio.gather(*(_one_connection(port, requests, t0 + seconds, counts, k, statuses)
                           for k in range(connections)))
    return sum(counts) / (time.perf_counter() - t0), statuses


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, data_dir: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(HERE), "--serve", kind, "--port", str(port), "--data-dir", data_dir],
                            env=env)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the {kind} server did not start")


def measure(kind: str, data_dir: str, requests: list[bytes], seconds: float, connections: int) -> float:
    proc, port = start(kind, data_dir)
    try:
        rps, statuses = asyncio.run(load(port, requests, seconds, connections))
    finally:
        proc.terminate()
        proc.wait(10)
    if set(statuses) != {"200"}:
        raise RuntimeError(f"{kind}: unexpected statuses {statuses}")
    return rps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--phones", type=int, default=20000)
    ap.add_argument("--serve", choices=["app", "bare"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.data_dir)
        return
    with tempfile.TemporaryDirectory() as d:
        numbers = seed(d, args.phones)
        asked = [n for i, n in enumerate(numbers[:4000]) if i % 4] + [f"+8498{i:07d}" for i in range(1000)]
        requests = [request_bytes(n) for n in asked]
        app_runs, bare_runs = [], []
        for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits both alike
            bare_runs.append(measure("bare", d, requests, args.seconds, args.connections))
            app_runs.append(measure("app", d, requests, args.seconds, args.connections))
    value, baseline = statistics.median(app_runs), statistics.median(bare_runs)
    print(json.dumps({"bench": "call_check", "metric": "checks_per_s", "value": round(value, 1),
                      "baseline_metric": "bare_asgi_per_s", "baseline": round(baseline, 1),
                      "ratio": round(value / baseline, 3)}), flush=True)
    print(json.dumps({"bench": "call_check", "metric": "checks_vs_bare_ratio", "value": round(value / baseline, 3),
                      "baseline_metric": "target_ratio", "baseline": TARGET,
                      "ratio": round(value / baseline / TARGET, 3)}), flush=True)
    paired = statistics.median(a / b for a, b in zip(app_runs, bare_runs))
    print(json.dumps({"bench": "call_check", "metric": "paired_ratio_median", "value": round(paired, 3),
                      "baseline_metric": "target_ratio", "baseline": TARGET, "ratio": round(paired / TARGET, 3)}),
          flush=True)
    print(json.dumps({"bench": "call_check", "metric": "runs", "value": [round(x) for x in app_runs],
                      "baseline_metric": "bare_runs", "baseline": [round(x) for x in bare_runs],
                      "ratio": round(value / baseline, 3)}), flush=True)


if __name__ == "__main__":
    main()
