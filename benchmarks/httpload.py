"""Shared by the HTTP benchmarks: a bare ASGI baseline, uvicorn servers in their own processes, and
the load generator.

The load comes from ``wrk`` (Debian package ``wrk``, C, one thread, ``--latency``) in its own process,
so the generator costs the server little CPU on a small machine; its Lua script sends a rotating set
of pre-built POST requests over keep-alive connections, each connection sending the next request
when the previous answer arrived. Where ``wrk`` is not installed, an asyncio generator in this
process does the same with the same connections (and says so on stderr): it needs about as much CPU
as the server, so the ratios it gives are lower bounds.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bare_asgi(body: bytes):
    """A bare ASGI app that reads the request body and answers ``body`` (JSON) to every request."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        more = True
        while more:
            msg = await receive()
            more = msg.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, *, factory: bool, env: dict, workers: int = 1) -> tuple[subprocess.Popen, int]:
    """Start uvicorn on ``target`` ("module:attr") in its own process (``workers`` > 1: a supervisor
    and that many worker processes), with the same settings for the app and its baseline; returns
    the process and its port once it accepts connections."""
    port = free_port()
    code = ("import sys, uvicorn; sys.path[:0] = [%r, %r]; "
            "uvicorn.run(%r, host='127.0.0.1', port=%d, access_log=False, log_level='warning', "
            "factory=%r, lifespan='on', workers=%d)" % (str(ROOT), str(ROOT / "src"), target, port, factory, workers))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{target} did not start") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{target} did not start in time")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@dataclass
class Load:
    requests_per_s: float
    p99_ms: float
    errors: int
    generator: str


def post(path: str, body: dict) -> tuple[str, bytes]:
    return path, json.dumps(body, ensure_ascii=False).encode()


# -- wrk ---------------------------------------------------------------------------------------------
_LUA = r"""
local bodies, paths, n, i = {}, {}, 0, 0
local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "rb"))
for line in f:lines() do
  local tab = line:find("\t", 1, true)
  n = n + 1
  paths[n] = line:sub(1, tab - 1)
  bodies[n] = line:sub(tab + 1)
end
f:close()
local reqs = {}
for k = 1, n do
  reqs[k] = wrk.format("POST", paths[k], {["Content-Type"] = "application/json"}, bodies[k])
end
function setup(thread) thread:set("offset", math.random(1, n)) end
function init(args) i = offset or 1 end
function request()
  i = i % n + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(99) / 1000.0, e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def _wrk(port: int, requests: list[tuple[str, bytes]], connections: int, seconds: float, warmup: float) -> Load:
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp, "load.lua"), Path(tmp, "requests.tsv")
        script.write_text(_LUA)
        data.write_bytes(b"".join(p.encode() + b"\t" + b + b"\n" for p, b in requests))
        env = {**os.environ, "BENCH_REQUESTS": str(data)}
        base = ["wrk", "-t1", f"-c{connections}", "--timeout", "10s", "-s", str(script)]
        url = f"http://127.0.0.1:{port}/"
        if warmup > 0:
            subprocess.run([*base, f"-d{max(1, round(warmup))}s", url], env=env, capture_output=True, check=True)
        out = subprocess.run([*base, f"-d{max(1, round(seconds))}s", url], env=env, capture_output=True,
                             text=True, check=True).stdout
    m = re.search(r"^BENCH (\d+) (\d+) ([\d.]+) (\d+)", out, re.M)
    if not m:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    done, micros, p99, errors = int(m[1]), int(m[2]), float(m[3]), int(m[4])
    return Load(done / (micros / 1e6), p99, errors, "wrk")


# -- asyncio fallback ---------------------------------------------------------------------------------
async def _one(port, raw, stop_at, warm_until, latencies, errors):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = random.randrange(len(raw))
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            writer.write(raw[i % len(raw)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if head[9:12] != b"200":
                errors.append(int(head[9:12]))
            if t0 >= warm_until:
                latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def _asyncio_load(port, requests, connections, seconds, warmup) -> Load:
    raw = [b"POST " + p.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: " + str(len(b)).encode() + b"\r\n\r\n" + b for p, b in requests]
    start = time.perf_counter()
    latencies: list[float] = []
    errors: list[int] = []
    await asyncio.gather(*[_one(port, raw, start + warmup + seconds, start + warmup, latencies, errors)
                           for _ in range(connections)])
    if not latencies:
        raise SystemExit("no request completed")
    latencies.sort()
    return Load(len(latencies) / seconds, latencies[int(0.99 * (len(latencies) - 1))] * 1000, len(errors), "asyncio")


def load(port: int, requests: list[tuple[str, bytes]], *, connections: int, seconds: float,
         warmup: float = 3.0) -> Load:
    """Drive ``requests`` (path, JSON body) round-robin at the server on ``port``."""
    if shutil.which("wrk"):
        return _wrk(port, requests, connections, seconds, warmup)
    print("wrk is not installed (apt install wrk): the asyncio generator shares the CPU with the server",
          file=sys.stderr)
    return asyncio.run(_asyncio_load(port, requests, connections, seconds, warmup))
