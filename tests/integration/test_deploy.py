"""The deployment files under deploy/, checked by their own tools where this machine has them:

- the systemd units: a strict INI parse with the hardening and environment each needs, every
  ExecStart's options accepted by the real command line, ``systemd-analyze verify`` with not one
  warning, and ``systemd-analyze security --offline`` at "OK" or better;
- nginx: ``nginx -t`` on the shipped file (with a self-signed certificate made here), then nginx
  running it in front of a worker: TLS 1.3 and 1.2 only, HSTS on every answer, X-Forwarded-For replaced (a
  client cannot choose its address), ``/metrics`` not served through the proxy, and body limits
  that are the app's own (read from the app's middleware, not copied);
- the compose file: valid against the Compose Specification's JSON schema (shipped by
  check-jsonschema), with the workers on the ports nginx proxies to and behind the proxy they trust;
- the example settings file: valid ``Settings`` in production mode.

A test whose tool is missing skips and says which; ``.ci/run`` installs nginx and systemd."""

from __future__ import annotations

import configparser
import datetime as dt
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import Request

from postguard.api.limits import BodyLimit
from postguard.app import create_app
from postguard.cli.main import app as cli
from postguard.http.address import client_ip
from postguard.settings import Settings
from typer.testing import CliRunner

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
POSTGUARD = "/opt/postguard/.venv/bin/postguard"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
             "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
             "CapabilityBoundingSet": "", "UMask": "0077"}
TOKEN = "metrics-" + "z" * 32


def unit(path: Path) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",), comment_prefixes=("#",),
                                    empty_lines_in_values=False)
    ini.optionxform = str  # type: ignore[assignment,method-assign]  systemd keys are case-sensitive
    ini.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return ini


def instance_args(exec_start: str) -> list[str]:
    """ExecStart's arguments after the program, with the instance (%i) and the environment filled in."""
    words = shlex.split(exec_start.replace("%i", "8001").replace("${POSTGUARD_WITNESS_LOG}", "log+1+key"))
    assert words[0] == POSTGUARD, words
    return words[1:]


def test_the_units_parse_strictly_and_carry_their_hardening():
    assert {u.name for u in UNITS} == {"postguard@.service", "postguard-migrate.service", "postguard-deliver.service",
                                      "postguard-witness.service"}
    for path in UNITS:
        svc = unit(path)["Service"]
        for key, want in HARDENING.items():
            assert svc.get(key) == want, (path.name, key)
        state = f"/var/lib/{svc['StateDirectory']}"
        assert svc["ReadWritePaths"] == svc["WorkingDirectory"] == state, path.name
        assert svc["EnvironmentFile"].startswith("/etc/postguard/") and svc["User"] != "root"
        # The real command line accepts every option the unit gives (an unknown one exits 2).
        result = CliRunner().invoke(cli, [*instance_args(svc["ExecStart"]), "--help"])
        assert result.exit_code == 0, (path.name, result.output)
    worker = unit(DEPLOY / "systemd" / "postguard@.service")
    assert "postguard-migrate.service" in worker["Unit"]["Requires"].split()
    assert "postguard-migrate.service" in worker["Unit"]["After"].split()
    assert instance_args(worker["Service"]["ExecStart"])[:5] == ["serve", "--host", "127.0.0.1", "--port", "8001"]


@pytest.fixture
def installed_units(tmp_path) -> list[Path]:
    """The units as installed here: ExecStart pointing at this environment's ``postguard``, and the
    template as an instance (``postguard@8001.service``)."""
    exe = Path(sys.executable).with_name("postguard")
    assert exe.exists()
    out = []
    for path in UNITS:
        name = path.name.replace("@.", "@8001.")
        (tmp_path / name).write_text(path.read_text(encoding="utf-8").replace(POSTGUARD, str(exe)), encoding="utf-8")
        out.append(tmp_path / name)
    return out


def test_systemd_verifies_the_units_without_a_warning(installed_units):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    r = subprocess.run([tool, "verify", "--man=no", *map(str, installed_units)], capture_output=True, text=True,
                       timeout=120)
    # verify exits 0 on an unknown key or a bad value (it only warns): a warning fails here.
    assert r.returncode == 0 and r.stderr.strip() == "" and r.stdout.strip() == "", r.stderr + r.stdout
    for path in installed_units:  # exposure 2.0 or less: "OK" on systemd's 0-10 scale
        r = subprocess.run([tool, "security", "--offline=true", "--threshold=20", "--no-pager", str(path)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-600:] + r.stderr


def test_systemd_verify_would_catch_a_mistake(installed_units):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    bad = installed_units[0].with_name("typo@8001.service")
    bad.write_text(installed_units[0].read_text().replace("ProtectSystem=strict", "ProtectSystem=strictest"))
    r = subprocess.run([tool, "verify", "--man=no", str(bad)], capture_output=True, text=True, timeout=120)
    assert "strictest" in r.stderr


def test_the_example_settings_are_valid_production_settings(tmp_path):
    s = Settings(_env_file=DEPLOY / "postguard.env.example")  # type: ignore[call-arg]
    assert s.mode == "production" and s.log_format == "json" and s.cookie_secure
    assert s.rate_limit_storage.startswith("redis://") and not s.is_sqlite
    assert "127.0.0.1/32" in s.trusted_proxies and s.metrics_token and len(s.metrics_token) >= 32
    assert str(s.data_dir) == "/var/lib/postguard" == unit(UNITS[0])["Service"]["WorkingDirectory"]


# -- nginx -------------------------------------------------------------------------------------


def nginx_limits(conf: str) -> dict[str, int]:
    """``client_max_body_size`` per exact location (``/`` for the server's own), in bytes."""
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}

    def size(v: str) -> int:
        n, unit_ = re.fullmatch(r"(\d+)([kmg]?)", v.lower()).groups()  # type: ignore[union-attr]
        return int(n) * units[unit_]

    tls = conf[conf.index("listen 443"):]
    out = {"/": size(re.search(r"^    client_max_body_size (\S+);", tls, re.M).group(1))}  # type: ignore[union-attr]
    for path, body in re.findall(r"location = (\S+) \{(.*?)\}", tls, re.S):
        m = re.search(r"client_max_body_size (\S+);", body)
        if m:
            out[path] = size(m.group(1))
    return out


def app_limits(app) -> dict[str, int]:
    """The body limits ``app`` itself enforces (its ``BodyLimit`` middleware): by path, ``/`` for the rest."""
    (mw,) = [m for m in app.user_middleware if m.cls is BodyLimit]
    return {"/": mw.kwargs["limit"], **mw.kwargs["allowances"], **mw.kwargs["multipart_allowances"]}


def test_nginx_body_limits_are_the_apps(make_settings):
    """The shipped limits are those of an app with the default settings."""
    from postguard.platform import Platform

    defaults = {name: Settings.model_fields[name].default for name in (
        "max_body_bytes", "max_upload_bytes", "lookalike_body_bytes", "intel_evidence_max_bytes",
        "intel_evidence_max_files")}
    p = Platform(make_settings(**defaults))
    try:
        assert nginx_limits((DEPLOY / "nginx" / "postguard.conf").read_text()) == app_limits(create_app(
            p.settings, platform=p))
    finally:
        p.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "postguard.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("postguard.test"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    crt, pem = directory / "fullchain.pem", directory / "privkey.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


def _nginx_conf(tmp: Path, *, http_port: int, https_port: int, upstream: int) -> Path:
    """The shipped file with this test's certificate, ports and worker, inside a main file that keeps
    every path nginx writes under ``tmp``."""
    crt, pem = _self_signed(tmp)
    site = (DEPLOY / "nginx" / "postguard.conf").read_text()
    site = site.replace("/etc/ssl/postguard/fullchain.pem", str(crt)).replace("/etc/ssl/postguard/privkey.pem", str(pem))
    site = re.sub(r"\n *listen \[::\]:.*;", "", site)  # IPv4 loopback only, here
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ", f"listen 127.0.0.1:{https_port} ")
    servers = re.findall(r" *server 127\.0\.0\.1:\d+;\n", site)
    assert len(servers) >= 1
    site = site.replace(servers[0], f"    server 127.0.0.1:{upstream};\n")
    for line in servers[1:]:
        site = site.replace(line, "")
    (tmp / "postguard.conf").write_text(site)
    temp = {d: tmp / d for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for d in temp.values():
        d.mkdir()
    main = tmp / "nginx.conf"
    main.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {tmp}/postguard.conf;
}}
""")
    return main


@pytest.fixture
def nginx():
    tool = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if tool is None:
        pytest.skip("nginx is not installed (Debian package nginx)")
    return tool


@pytest.fixture
def worker(make_settings):  # -> (port, app)
    """The app served by uvicorn on a free port, believing X-Forwarded-For from 127.0.0.1 only (as
    ``postguard serve`` does with POSTGUARD_TRUSTED_PROXIES), with a route that says who it saw."""
    from postguard.platform import Platform

    settings = make_settings(trusted_proxies=["127.0.0.1"], metrics_token=TOKEN)
    p = Platform(settings)
    app = create_app(settings, platform=p)

    def whoami(request: Request) -> dict:
        return {"client": client_ip(request), "scheme": request.url.scheme}

    app.add_api_route("/whoami", whoami)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           proxy_headers=True, forwarded_allow_ips=["127.0.0.1"]))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield port, app
    server.should_exit = True
    thread.join(timeout=10)
    p.close()


def test_nginx_accepts_the_config_and_serves_through_it(nginx, worker, tmp_path):
    worker, app = worker
    http_port, https_port = _free_port(), _free_port()
    conf = _nginx_conf(tmp_path, http_port=http_port, https_port=https_port, upstream=worker)
    check = subprocess.run([nginx, "-t", "-q", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "t.log")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr + (tmp_path / "t.log").read_text(errors="replace")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "e.log"),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"https://127.0.0.1:{https_port}"
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
        with httpx.Client(verify=tls, timeout=10) as c:
            deadline = time.monotonic() + 20
            while True:
                try:
                    health = c.get(f"{base}/healthz")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                    time.sleep(0.1)
            assert health.status_code == 200 and health.json()["status"] == "ok"
            hsts = health.headers["strict-transport-security"]
            assert "includeSubDomains" in hsts and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000  # type: ignore[union-attr]
            assert "server" not in health.headers or "nginx/" not in health.headers["server"]
            # Replaced, not appended: the worker sees the proxy's peer, never what the client wrote.
            seen = c.get(f"{base}/whoami", headers={"X-Forwarded-For": "203.0.113.7"}).json()
            assert seen == {"client": "127.0.0.1", "scheme": "https"}
            # /metrics: served by the worker to a scraper with the token, not through the proxy.
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert httpx.get(f"http://127.0.0.1:{worker}/metrics", headers=auth).status_code == 200
            hidden = c.get(f"{base}/metrics", headers=auth)
            assert hidden.status_code == 404 and "postguard_" not in hidden.text
            assert "includeSubDomains" in hidden.headers["strict-transport-security"]  # on errors too
            # Bodies: over the common limit refused by nginx; the import's allowance passes on to the app.
            limit = app_limits(app)["/"]
            big = c.post(f"{base}/v1/check", content=b"x" * (limit + 1), headers={"content-type": "application/json"})
            assert big.status_code == 413
            upload = c.post(f"{base}/v1/shipments/import", content=b"x" * (limit + 1),
                            headers={"content-type": "text/csv"})
            assert upload.status_code == 401 and upload.headers["content-type"] == "application/problem+json"
            # Plain HTTP is sent to HTTPS; TLS below 1.2 is refused.
            plain = httpx.get(f"http://127.0.0.1:{http_port}/kiem-tra?x=1")
            assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
            # TLS 1.3, and 1.2 for older clients; nothing below (the file names no older version, and
            # this machine's OpenSSL would not speak one to test with).
            for cap, want in ((ssl.TLSVersion.TLSv1_3, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname, ctx.verify_mode, ctx.maximum_version = False, ssl.CERT_NONE, cap
                with socket.create_connection(("127.0.0.1", https_port)) as raw, ctx.wrap_socket(raw) as conn:
                    assert conn.version() == want
            assert re.findall(r"ssl_protocols ([^;]*);", conf.with_name("postguard.conf").read_text()) == [
                "TLSv1.2 TLSv1.3"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# -- compose -------------------------------------------------------------------------------------


def _compose_schema() -> dict:
    from importlib.resources import files

    return json.loads(files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text())


def _compose_errors(doc: dict) -> list[str]:
    import jsonschema

    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_the_compose_file_follows_the_compose_specification():
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert _compose_errors(doc) == []
    broken = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    broken["services"]["worker"]["depend_on"] = broken["services"]["worker"].pop("depends_on")
    assert any("depend_on" in e for e in _compose_errors(broken))  # the schema check bites

    services = doc["services"]
    assert {"postgres", "redis", "migrate", "worker", "witness"} <= set(services)
    worker = services["worker"]
    assert worker["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                    "redis": {"condition": "service_healthy"},
                                    "migrate": {"condition": "service_completed_successfully"}}
    assert worker["command"][:1] == ["serve"] and services["migrate"]["command"] == ["db", "upgrade"]
    env = worker["environment"]
    assert env["POSTGUARD_MODE"] == "production"
    assert env["POSTGUARD_RATE_LIMIT_STORAGE"].startswith("redis://redis:")
    assert env["POSTGUARD_DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["POSTGUARD_DATABASE_URL"]
    # The workers are published on the ports nginx proxies to, and trust the gateway nginx comes through.
    (published,) = worker["ports"]
    first, last = map(int, re.fullmatch(r"127\.0\.0\.1:(\d+)-(\d+):8000", published).groups())  # type: ignore[union-attr]
    assert last - first + 1 == worker["deploy"]["replicas"]
    upstream = re.findall(r"server 127\.0\.0\.1:(\d+);", (DEPLOY / "nginx" / "postguard.conf").read_text())
    assert sorted(map(int, upstream)) == list(range(first, last + 1))
    gateway = doc["networks"]["default"]["ipam"]["config"][0]["gateway"]
    assert json.loads(env["POSTGUARD_TRUSTED_PROXIES"]) == [gateway]
    for name in ("migrate", "worker", "witness"):
        s = services[name]
        assert s["read_only"] is True and s["cap_drop"] == ["ALL"] and "no-new-privileges:true" in s["security_opt"]
    # The image the compose file builds copies what exists.
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (DEPLOY.parent / src).exists(), src
