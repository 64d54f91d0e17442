"""Staff reveals over real HTTP: reveals per second of ``POST /v1/shipments/{waybill}/reveal`` at 1,
16 and 64 concurrent connections, on SQLite and on PostgreSQL, with every reveal logged (group
commit) before its plaintext is returned.

    .venv/bin/python benchmarks/bench_reveal.py                  # 20,000 shipments, 3 rounds of 5 s per level
    .venv/bin/python benchmarks/bench_reveal.py --workers 1      # one server process (see docs/benchmarks.md)
    .venv/bin/python benchmarks/bench_reveal.py --seconds 1 --warmup 1 --rounds 1 --shipments 2000     # CI smoke run

Each database gets ``--shipments`` synthetic shipments (``postguard.synthetic.Faker(2026)``, imported
and encrypted by ``ShipmentService.import_csv``), all out for delivery and assigned, with an open
delivery window, to ``--couriers`` signed-in couriers (the statuses and assignments are written
directly, as the services would). The server is the real app as it is deployed: ``--workers``
stateless worker processes (default 2, one per core of a 2-core host; each a uvicorn process like
the other HTTP benchmarks' ``benchmarks/httpload.py``, on its default connection pool) sharing the
database. The load comes from ``wrk`` (one thread, keep-alive connections, one ``wrk`` per worker
as a load balancer would spread them; one connection goes to the first worker only), each request
a courier's delivery reveal of a different shipment (session cookie and CSRF header of the courier
it is assigned to), so no value repeats until every shipment was revealed once. Without ``wrk``,
an asyncio client in this process does the same (and says so). ``--rounds`` interleave the
connection counts (1, 16, 64, 1, 16, 64, …) and each count's figure is its median round, so a host
whose speed drifts weighs on every count alike. PostgreSQL (``--postgres-url``, a throw-away
schema) is skipped with a note when no server answers.

Prints JSON lines (DESIGN.md §4), per database and connection count N: ``<db>_reveals_per_s_at_N``
against ``<db>_reveals_per_s_at_1`` (ratio ≥ 1: no slower under concurrency);
``<db>_server_cpu_ms_per_reveal_at_N``: the server processes' CPU (user + system, ``/proc``) per
answered reveal, against the same at 1 (where the time goes); and ``<db>_non_2xx_at_N``: answers
other than 2xx plus socket errors and time-outs, which must be 0.
Requests still waiting when a run ends are not counted by ``wrk``, so a last reveal is sent once the
load has stopped (``<db>_last_reveal_ms``: far below the 30 s pool timeout), and then
``<db>_server_non_2xx`` reads the servers' own count of reveal answers other than 2xx (``/metrics``
of each worker: every request it received, cut off or not), which must be 0.
Ends with ``reveal_log_entries``: the reveal entries in each log against the 2xx answers counted
(every answered reveal was logged; the log may hold a few more, for requests cut off when a run
ended). Exits with status 1 when any answer was not 2xx.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]  # this checkout, in the client and the servers

from benchmarks import httpload  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
METRICS_TOKEN = secrets.token_urlsafe(32)  # the server serves /metrics to this bearer token only


def emit(metric, value, baseline_metric, baseline):
    print(json.dumps({"bench": "reveal", "metric": metric, "value": round(value, 1) if isinstance(value, float) else value,
                      "baseline_metric": baseline_metric,
                      "baseline": round(baseline, 1) if isinstance(baseline, float) else baseline,
                      "ratio": round(value / baseline, 3) if baseline else None}), flush=True)


# -- databases --------------------------------------------------------------------------------------
def _pg_conninfo(url: str) -> dict:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return dict(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, password=u.password)


def pg_schema(url: str) -> tuple[str, str] | None:
    """A fresh schema on the PostgreSQL server at ``url`` and the URL pointing there, or None."""
    try:
        import psycopg

        name = "bench_reveal_" + secrets.token_hex(4)
        with psycopg.connect(**_pg_conninfo(url), autocommit=True, connect_timeout=3) as c:
            c.execute(f'CREATE SCHEMA "{name}"')
    except Exception as exc:  # no driver, no server: skipped
        print(f"PostgreSQL skipped: no server at {url} ({type(exc).__name__})", file=sys.stderr)
        return None
    return name, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"


def drop_schema(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(**_pg_conninfo(url), autocommit=True) as c:
        c.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def seed(data_dir: str, url: str, *, shipments: int, couriers: int) -> list[tuple[str, str, str]]:
    """Import ``shipments``, put them out for delivery, assign them round robin to ``couriers``
    signed-in couriers; returns (waybill, session token, CSRF token) per shipment, in a shuffled order
    (couriers interleaved)."""
    import io

    from sqlalchemy import select, update

    from postguard.access.models import Assignment
    from postguard.db.base import utcnow
    from postguard.platform import Platform
    from postguard.settings import Settings
    from postguard.shipments.models import Shipment
    from postguard.synthetic import Faker, write_csv

    p = Platform(Settings(data_dir=Path(data_dir), database_url=url, notifier="memory", password_time_cost=1,
                          password_memory_kib=1024, log_level="WARNING"))
    try:
        p.orgs.create(code="BENCH", name="Bưu chính Bench")
        system = p.orgs.principal("BENCH", actor="bench")
        buf = io.StringIO()
        write_csv(Faker(2026).rows(shipments, prefix="RV"), buf)
        p.shipments.import_csv(system, io.BytesIO(buf.getvalue().encode("utf-8")))
        staff = [p.staff.create(org_code="BENCH", username=f"c{i:03d}", display_name=f"Nguyễn Văn C{i}",
                                role="courier", password=PASSWORD) for i in range(couriers)]
        sessions = [p.staff.sign_in(org_code="BENCH", username=s.username, password=PASSWORD) for s in staff]
        now = utcnow()
        with p.db.session() as s:
            s.execute(update(Shipment).values(status="out_for_delivery"))
            ids = s.execute(select(Shipment.id, Shipment.waybill).order_by(Shipment.id)).all()
            s.execute(Assignment.__table__.insert(), [
                {"shipment_id": sid, "courier_id": staff[k % couriers].staff_id, "window_start": now - timedelta(hours=1),
                 "window_end": now + timedelta(hours=23), "created_at": now} for k, (sid, _) in enumerate(ids)])
        if len(ids) != shipments:
            raise SystemExit(f"imported {len(ids)} shipments, not {shipments}")
        return [(wb, sessions[k % couriers].token, sessions[k % couriers].csrf) for k, (_, wb) in enumerate(ids)]
    finally:
        p.close()


def reveal_entries(data_dir: str, url: str) -> int:
    from sqlalchemy import func, select

    from postguard.audit.models import AuditEntry
    from postguard.platform import Platform
    from postguard.settings import Settings

    p = Platform(Settings(data_dir=Path(data_dir), database_url=url, log_level="WARNING"))
    try:
        with p.db.session() as s:
            return s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reveal")).scalar_one()
    finally:
        p.close()


# -- load -------------------------------------------------------------------------------------------
_LUA = r"""
local reqs, n, i = {}, 0, 0
local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "rb"))
for line in f:lines() do
  local a, b = line:find("\t", 1, true)
  local path = line:sub(1, a - 1)
  local rest = line:sub(a + 1)
  local c = rest:find("\t", 1, true)
  n = n + 1
  reqs[n] = wrk.format("POST", path, {["Content-Type"] = "application/json", ["Cookie"] = "pg_session=" .. rest:sub(1, c - 1),
                                      ["X-CSRF-Token"] = rest:sub(c + 1)}, '{"purpose":"delivery"}')
end
f:close()
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, bad, failed = 0, 0, 0 end
function request()
  i = i % n + 1
  return reqs[i]
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
  if status >= 500 then failed = failed + 1 end
end
function done(summary, latency, requests)
  local o, b, f = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad"); f = f + t:get("failed") end
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.3f %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(99) / 1000.0, o, b, f, e.connect + e.read + e.write + e.timeout))
end
"""


class Run:
    def __init__(self, done: int, seconds: float, p99_ms: float, ok: int, non_2xx: int, server_errors: int,
                 socket_errors: int, generator: str) -> None:
        self.done, self.per_s, self.p99_ms, self.ok = done, done / seconds, p99_ms, ok
        self.non_2xx, self.server_errors, self.socket_errors, self.generator = non_2xx, server_errors, socket_errors, generator
        self.cpu_ms: float | None = None  # the server's CPU per reveal during the run


def _wrk(port: int, lines: list[tuple[str, str, str]], connections: int, seconds: float) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp, "reveal.lua"), Path(tmp, "requests.tsv")
        script.write_text(_LUA)
        data.write_text("".join(f"/v1/shipments/{wb}/reveal\t{token}\t{csrf}\n" for wb, token, csrf in lines))
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
                              "-s", str(script), f"http://127.0.0.1:{port}/"],
                             env={**os.environ, "BENCH_REQUESTS": str(data)}, capture_output=True, text=True,
                             check=True).stdout
    m = re.search(r"^BENCH (\d+) (\d+) ([\d.]+) (\d+) (\d+) (\d+) (\d+)", out, re.M)
    if not m:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    done, micros = int(m[1]), int(m[2])
    return Run(done, micros / 1e6, float(m[3]), int(m[4]), int(m[5]), int(m[6]), int(m[7]), "wrk")


async def _client(port, raw, turn, stop_at, counts, latencies):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        counts["socket"] += 1
        return
    try:
        while (t0 := time.perf_counter()) < stop_at:
            writer.write(raw[next(turn) % len(raw)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(h[15:]) for h in head.split(b"\r\n") if h[:15].lower() == b"content-length:"), 0)
            await reader.readexactly(length)
            status = int(head[9:12])
            counts["ok" if 200 <= status < 300 else "bad"] += 1
            counts["failed"] += status >= 500
            latencies.append(time.perf_counter() - t0)
    except (OSError, asyncio.IncompleteReadError):
        counts["socket"] += 1
    finally:
        writer.close()


def _asyncio(port: int, lines: list[tuple[str, str, str]], connections: int, seconds: float) -> Run:
    import itertools

    body = b'{"purpose":"delivery"}'
    raw = [(f"POST /v1/shipments/{wb}/reveal HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Cookie: pg_session={token}\r\nX-CSRF-Token: {csrf}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
           for wb, token, csrf in lines]
    counts = {"ok": 0, "bad": 0, "failed": 0, "socket": 0}
    latencies: list[float] = []
    turn = itertools.count()

    async def go():
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*[_client(port, raw, turn, stop_at, counts, latencies) for _ in range(connections)])

    start = time.perf_counter()
    asyncio.run(go())
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else 0.0
    return Run(len(latencies), time.perf_counter() - start, p99, counts["ok"], counts["bad"], counts["failed"],
               counts["socket"], "asyncio")


def _cpu_seconds(pids: list[int]) -> float | None:
    """User and system CPU seconds used so far by the processes ``pids`` (Linux ``/proc``), or None."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _merge(runs: list[Run], seconds: float) -> Run:
    """One figure for servers loaded at the same time: their reveals added up, the worst p99."""
    out = Run(sum(r.done for r in runs), seconds, max(r.p99_ms for r in runs), sum(r.ok for r in runs),
              sum(r.non_2xx for r in runs), sum(r.server_errors for r in runs), sum(r.socket_errors for r in runs),
              runs[0].generator)
    out.per_s = sum(r.per_s for r in runs)
    return out


def drive(ports: list[int], lines, offset: int, connections: int, seconds: float) -> Run:
    """``connections`` clients revealing ``lines`` from ``offset`` on (wrapping round) for ``seconds``,
    spread over the workers at ``ports`` as a load balancer would (one connection: the first worker
    only); each worker gets its own share of the shipments, so no value repeats across workers."""
    rotated = lines[offset % len(lines):] + lines[:offset % len(lines)]
    shares = [c for c in (connections // len(ports) + (k < connections % len(ports)) for k in range(len(ports))) if c]
    load = _wrk if shutil.which("wrk") else _asyncio
    if len(shares) == 1:
        return load(ports[0], rotated, connections, seconds)
    with concurrent.futures.ThreadPoolExecutor(len(shares)) as pool:
        runs = list(pool.map(lambda k: load(ports[k], rotated[k::len(shares)], shares[k], seconds), range(len(shares))))
    return _merge(runs, seconds)


def probe(port: int, line: tuple[str, str, str]) -> tuple[int, float]:
    """One more reveal once the load has stopped: its status and milliseconds (a server whose pool
    starved answers only after its 30 s pool timeout, and its stalled requests fail meanwhile)."""
    import urllib.error
    import urllib.request

    wb, token, csrf = line
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/shipments/{wb}/reveal", data=b'{"purpose":"delivery"}',
                                 method="POST", headers={"Content-Type": "application/json",
                                                         "Cookie": f"pg_session={token}", "X-CSRF-Token": csrf})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=90) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, (time.perf_counter() - t0) * 1000


def server_statuses(port: int) -> dict[int, int] | None:
    """Reveal answers by status as the server counted them (``/metrics``), cut-off requests included;
    None when the metrics cannot be read from here."""
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
    except OSError:
        return None
    out: dict[int, int] = {}
    for m in re.finditer(r'^postguard_http_requests_total\{(.*)\} ([\d.e+]+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m[1]))
        if labels.get("route") == "/v1/shipments/{waybill}/reveal":
            out[int(labels["status"])] = out.get(int(labels["status"]), 0) + int(float(m[2]))
    return out


# -- main -------------------------------------------------------------------------------------------
def bench(name: str, url: str, data_dir: str, args) -> int:
    """Seed, serve and measure one database; prints its lines and returns the reveals not answered 2xx."""
    t0 = time.perf_counter()
    lines = seed(data_dir, url, shipments=args.shipments, couriers=args.couriers)
    print(f"{name}: {args.shipments} shipments, {args.couriers} couriers seeded in {time.perf_counter() - t0:.0f} s",
          file=sys.stderr)
    env = {**os.environ, "POSTGUARD_DATA_DIR": data_dir, "POSTGUARD_DATABASE_URL": url, "POSTGUARD_NOTIFIER": "memory",
           "POSTGUARD_LOG_LEVEL": "WARNING", "POSTGUARD_ANOMALY_SCAN_INTERVAL_SECONDS": "0",
           "POSTGUARD_RATE_LIMIT_STORAGE": "memory://", "POSTGUARD_METRICS_TOKEN": METRICS_TOKEN}
    servers = [httpload.serve("postguard.app:create_app", factory=True, env=env) for _ in range(args.workers)]
    ports, pids = [port for _, port in servers], [proc.pid for proc, _ in servers]
    runs: dict[int, list[Run]] = {n: [] for n in args.connections}
    offset, answered = 0, 0
    try:
        # Rounds interleave the connection counts (1, 16, 64, 1, 16, 64, …) so that a host whose speed
        # drifts during the run weighs on every count alike; each count's figure is its median round.
        for k in range(args.rounds):
            for n in args.connections:
                if args.warmup > 0:
                    warm = drive(ports, lines, offset, n, args.warmup)
                    offset, answered = offset + warm.done + n, answered + warm.ok
                cpu = _cpu_seconds(pids)
                run = drive(ports, lines, offset, n, args.seconds)
                run.cpu_ms = (_cpu_seconds(pids) - cpu) * 1000 / max(run.done, 1) if cpu is not None else None
                offset, answered = offset + run.done + n, answered + run.ok
                runs[n].append(run)
                print(f"{name} at {n} (round {k + 1}): {run.per_s:.0f} reveals/s, p99 {run.p99_ms:.1f} ms, "
                      + (f"server CPU {run.cpu_ms:.2f} ms per reveal, " if run.cpu_ms is not None else "")
                      + f"{run.non_2xx} not 2xx ({run.server_errors} 5xx), {run.socket_errors} socket errors "
                      f"({run.generator})", file=sys.stderr)
        status, probe_ms = probe(ports[0], lines[offset % len(lines)])
        answered += 200 <= status < 300
        counted = [server_statuses(port) for port in ports]
        statuses = None if None in counted else {k: sum(c.get(k, 0) for c in counted) for c in counted for k in c}
    finally:
        for proc, _ in servers:
            httpload.stop(proc)
    print(f"{name}: a last reveal answered {status} in {probe_ms:.0f} ms; the server counted {statuses}", file=sys.stderr)
    if offset > len(lines):
        print(f"{name}: {offset} requests over {len(lines)} shipments, some revealed twice", file=sys.stderr)
    first = args.connections[0]
    per_s = {n: statistics.median(r.per_s for r in rs) for n, rs in runs.items()}
    for n in runs:
        emit(f"{name}_reveals_per_s_at_{n}", per_s[n], f"{name}_reveals_per_s_at_{first}", per_s[first])
    cpu = {n: statistics.median(r.cpu_ms for r in rs) for n, rs in runs.items() if all(r.cpu_ms is not None for r in rs)}
    for n in cpu:  # where the time goes: the server's own CPU per answered reveal
        emit(f"{name}_server_cpu_ms_per_reveal_at_{n}", cpu[n], f"{name}_server_cpu_ms_per_reveal_at_{first}", cpu[first])
    for n, rs in runs.items():
        emit(f"{name}_non_2xx_at_{n}", sum(r.non_2xx + r.socket_errors for r in rs), "allowed", 0)
    emit(f"{name}_last_reveal_ms", probe_ms, "pool_timeout_ms", 30000.0)
    if statuses is not None:
        emit(f"{name}_server_non_2xx", sum(v for k, v in statuses.items() if not 200 <= k < 300), "allowed", 0)
    else:
        print(f"{name}: /metrics not readable from here; server-side counts skipped", file=sys.stderr)
    emit(f"{name}_reveal_log_entries", reveal_entries(data_dir, url), f"{name}_2xx_reveals", answered)
    failed = sum(r.non_2xx + r.socket_errors for rs in runs.values() for r in rs) + (not 200 <= status < 300)
    return failed + sum(v for k, v in (statuses or {}).items() if not 200 <= k < 300)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per connection count")
    ap.add_argument("--workers", type=int, default=2,
                    help="server processes sharing the database (one per core of a 2-core host); 1 connection uses one")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the connection counts (median per count)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each measured run")
    ap.add_argument("--connections", default="1,16,64", help="comma-separated connection counts; the first is the baseline")
    ap.add_argument("--shipments", type=int, default=20000)
    ap.add_argument("--couriers", type=int, default=64)
    ap.add_argument("--databases", default="sqlite,postgres")
    ap.add_argument("--postgres-url", default=PG_URL)
    args = ap.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    from postguard.logging import configure_logging
    from postguard.settings import Settings

    configure_logging(Settings(log_level="WARNING"), stream=sys.stderr)  # stdout carries only the figures
    bad = 0
    for name in args.databases.split(","):
        with tempfile.TemporaryDirectory() as d:
            if name == "sqlite":
                bad += bench("sqlite", f"sqlite:///{Path(d, 'postguard.db').as_posix()}", d, args)
            elif name == "postgres":
                schema = pg_schema(args.postgres_url)
                if schema is None:
                    continue
                try:
                    bad += bench("postgres", schema[1], d, args)
                finally:
                    drop_schema(args.postgres_url, schema[0])
            else:
                raise SystemExit(f"unknown database {name!r} (sqlite, postgres)")
    if bad:
        print(f"{bad} reveal answers (client or server side) were not 2xx", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
