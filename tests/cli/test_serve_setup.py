"""`postguard serve` as an operator starts it: the demo refused in production, and client addresses
taken from X-Forwarded-For only when the peer is a configured trusted proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from postguard.vault.kek import LocalKeyFile
from tests.conftest import run_cli


def test_serve_demo_is_refused_in_production(settings, tmp_path, monkeypatch, capsys):
    key = tmp_path / "keys" / "kek.json"
    LocalKeyFile.create(key, dev=False)
    for name, value in {"MODE": "production", "KEY_FILE": str(key), "DATA_DIR": str(settings.data_dir),
                        "DATABASE_URL": str(settings.database_url)}.items():
        monkeypatch.setenv(f"POSTGUARD_{name}", value)
    served = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: served.append(kw))
    code, out, err = run_cli(monkeypatch, capsys, "serve", "--demo")
    assert code == 8 and served == []
    assert "refused in production mode" in err and "Traceback" not in err
    assert "demo-admin-2025" not in out + err
    code, _, err = run_cli(monkeypatch, capsys, "demo", "--shipments", "3")
    assert code == 8 and "refused in production mode" in err
    code, out, _ = run_cli(monkeypatch, capsys, "orgs", "list")
    assert code == 0 and "DEMO" not in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings, **env):
    port = _free_port()
    environ = {**os.environ, "POSTGUARD_DATA_DIR": str(settings.data_dir),
               "POSTGUARD_DATABASE_URL": str(settings.database_url), "POSTGUARD_INTEL_CHECK_RATE": "3/minute",
               "POSTGUARD_ANOMALY_SCAN_INTERVAL_SECONDS": "0", "POSTGUARD_INTEL_REGRADE_INTERVAL_SECONDS": "0",
               **{f"POSTGUARD_{k.upper()}": v for k, v in env.items()}}
    environ.pop("FORWARDED_ALLOW_IPS", None)
    proc = subprocess.Popen([sys.executable, "-c", "from postguard.cli.main import main; main()", "serve",
                             "--port", str(port)], env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode()) from None
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


def _statuses(base: str) -> list[int]:
    """Six lookups from this host, each claiming another client address."""
    return [httpx.post(base + "/v1/check", json={"value": "0912345678"},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=10).status_code for i in range(6)]


@pytest.mark.parametrize("trusted", [None, '["127.0.0.0/8"]'])
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(settings, trusted):
    proc, base = _serve(settings, **({"trusted_proxies": trusted} if trusted else {}))
    try:
        statuses = _statuses(base)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if trusted is None:  # the default: the peer (127.0.0.1) is counted, whatever header it sends
        assert statuses == [200, 200, 200, 429, 429, 429]
    else:  # behind a configured proxy: each forwarded client has its own allowance
        assert statuses == [200] * 6


def test_bad_proxy_or_metrics_settings_are_clear_errors(settings, monkeypatch, capsys):
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_TRUSTED_PROXIES", '["10.0.0.5", "proxy.internal"]')
    code, _, err = run_cli(monkeypatch, capsys, "orgs", "list")
    assert code == 8 and "POSTGUARD_TRUSTED_PROXIES" in err and "proxy.internal" in err and "Traceback" not in err
    monkeypatch.setenv("POSTGUARD_TRUSTED_PROXIES", '["10.0.0.5", "10.1.0.0/16"]')
    monkeypatch.setenv("POSTGUARD_METRICS_TOKEN", "short")
    code, _, err = run_cli(monkeypatch, capsys, "orgs", "list")
    assert code == 8 and "POSTGUARD_METRICS_TOKEN" in err and "32" in err
