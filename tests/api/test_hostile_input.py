"""Hostile input on every route of the app (enumerated from ``app.routes``, so a new route is walked
too): a body over the limit with a Content-Length and the same body chunked without one, deeply
nested JSON, integers a 64-bit column cannot hold in each integer path and query parameter, and wrong
content types. Never a 5xx; under ``/v1/`` and ``/taxii2/`` always ``application/problem+json``.
Then the CSV import (API and CLI) with a field larger than ``csv.field_size_limit()`` and in UTF-16.
Runs on SQLite and PostgreSQL (``backend``)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import typing

import pytest
from fastapi.testclient import TestClient

from postguard.access.models import ROLES
from postguard.app import create_app
from postguard.http.auth import SESSION_COOKIE
from postguard.orgs.service import SCOPES
from postguard.platform import Platform
from tests.conftest import csv_bytes
from tests.world import ORG, ORG_OF, PASSWORD, USERNAMES, World, build_world, prebuilt_world

LIMIT = 64 * 1024  # POSTGUARD_MAX_BODY_BYTES of these tests
UPLOAD = 256 * 1024  # POSTGUARD_MAX_UPLOAD_BYTES (the CSV import's allowance)
EVIDENCE = 32 * 1024  # one evidence file of at most this: a report may carry EVIDENCE + 64 KiB
LOOKALIKES = 128 * 1024  # POSTGUARD_LOOKALIKE_BODY_BYTES (the scanner's batches)
ALLOWANCE = {"/v1/shipments/import": UPLOAD, "/v1/check": 16 * 1024, "/v1/callcheck": 32 * 1024, "/v1/lookalikes": LOOKALIKES}
MULTIPART_ALLOWANCE = {"/v1/reports": EVIDENCE + 64 * 1024, "/bao-cao": EVIDENCE + 64 * 1024}  # evidence files
API = ("/v1/", "/taxii2/")
INT64_MAX = 2**63 - 1
HUGE = (2**63, 2**64 + 1, -(2**63) - 1, 10**40)
NESTED = b"[" * 5_000 + b"]" * 5_000  # past Python's recursion limit, orjson's and pydantic's depth limits


def _routes(app) -> list[tuple[str, str, typing.Any]]:
    """(method, path template, route) for every route of the app (HEAD aside)."""
    try:
        from fastapi.routing import iter_route_contexts

        pairs = [(c.path, c.methods, c.original_route) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: routes are flat
        pairs = [(r.path, getattr(r, "methods", None), r) for r in app.routes]
    return sorted((m, path, r) for path, methods, r in pairs for m in (methods or ()) if m != "HEAD")


def _int_params(route) -> list[tuple[str, str]]:
    """(name, "path" | "query") of each integer parameter of a route, and of the dependencies it uses."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    out, todo = [], [dependant]
    while todo:
        d = todo.pop()
        todo.extend(d.dependencies)
        for where, params in (("path", d.path_params), ("query", d.query_params)):
            for f in params:
                ann = f.field_info.annotation
                if ann is int or int in typing.get_args(ann):
                    out.append((f.name, where))
    return out


def _url(path: str, **given) -> str:
    """The template filled in: integers with 1 unless given, other parameters with a plausible word."""
    return re.sub(r"\{(\w+)\}", lambda m: str(given.get(m.group(1), "VNP-x1")), path)


def _sample_url(path: str, route) -> str:
    ints = {name: 1 for name, where in _int_params(route) if where == "path"}
    return _url(path, **ints)


def _chunks(data: bytes, size: int = 16 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _assert_sane(resp, method: str, url: str, what: str, failures: list) -> None:
    if resp.status_code >= 500:
        failures.append(f"{what}: {method} {url} -> {resp.status_code} {resp.text[:160]}")
    elif url.startswith(API) and resp.status_code >= 400 \
            and resp.headers.get("content-type") != "application/problem+json":
        failures.append(f"{what}: {method} {url} -> {resp.status_code} {resp.headers.get('content-type')}")


def _world(p: Platform, faker) -> World:
    w = build_world(p, faker, keys=False)
    w.keys["every"] = p.orgs.create_api_key(org_code=ORG, scopes=list(SCOPES), label="every scope").token
    return w


@pytest.fixture
def env(prebuilt):
    w = prebuilt_world(prebuilt, _world, max_body_bytes=LIMIT, max_upload_bytes=UPLOAD, lookalike_body_bytes=LOOKALIKES,
                       intel_evidence_max_bytes=EVIDENCE, intel_evidence_max_files=1, password_time_cost=1,
                       password_memory_kib=1024, notifier="memory", intel_check_rate="10000/minute",
                       intel_report_rate="10000/minute", intel_appeal_rate="10000/minute",
                       callcheck_rate_limit="10000/minute", callcheck_code_limit="10000/day",
                       callcheck_report_limit="10000/hour")
    app = create_app(w.platform.settings, platform=w.platform)
    yield TestClient(app, raise_server_exceptions=False), app, w, {"Authorization": f"Bearer {w.keys['every']}"}
    w.platform.close()


CHUNK = 16 * 1024


def _asgi(app, method: str, url: str, body: bytes, *, declare: bool, headers=()) -> tuple[int, dict, bytes, int]:
    """Drive the app as a server does: the body in CHUNK-sized ``http.request`` messages, with a
    Content-Length or (``declare=False``) chunked without one. (status, headers, body, bytes pulled)."""
    path, _, query = url.partition("?")
    raw_headers = [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers)]
    if not any(k == b"content-type" for k, _ in raw_headers):
        raw_headers.append((b"content-type", b"application/json"))
    if declare:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    else:
        raw_headers.append((b"transfer-encoding", b"chunked"))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
             "raw_path": path.encode(), "root_path": "", "scheme": "http", "query_string": query.encode(),
             "headers": raw_headers, "client": ("127.0.0.1", 1234), "server": ("testserver", 80), "state": {}}
    view = memoryview(body)
    offset, pulled, sent = 0, 0, []

    async def receive():
        nonlocal offset, pulled
        if offset >= len(body) and pulled:
            await asyncio.sleep(3600)  # the client sent everything: a server waits for the disconnect
        chunk = bytes(view[offset:offset + CHUNK])
        offset += CHUNK
        pulled += len(chunk) or 1
        return {"type": "http.request", "body": chunk, "more_body": offset < len(body)}

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, out, min(pulled, offset)


def test_every_route_refuses_a_body_over_the_limit_with_or_without_content_length(env):
    """Before authentication, on every route (the API key is not even sent): a declared size over the
    limit is 413 problem+json before a byte is read; a chunked body is read no further than the limit
    and one chunk, and a route that read past the limit answers 413 problem+json (one that never needed
    the body, or refused the request first, answers what it answers). The lean ``/v1/check`` and
    ``/v1/callcheck`` paths included."""
    _, app, _, _ = env
    failures, walked = [], 0
    for method, path, route in _routes(app):
        url = _sample_url(path, route)
        allowed = ALLOWANCE.get(path, LIMIT)
        over = b"x" * (allowed + 4 * CHUNK)
        for declare in (True, False):
            how = "content-length" if declare else "chunked"
            status, headers, body, pulled = _asgi(app, method, url, over, declare=declare)
            if status >= 500:
                failures.append(f"{how}: {method} {url} -> {status}")
            if pulled > (0 if declare else allowed + CHUNK):
                failures.append(f"{how}: {method} {url} read {pulled} bytes")
            if (declare or pulled > allowed) and status != 413:
                failures.append(f"{how}: {method} {url} -> {status}, not 413")
            elif status == 413 and (headers.get("content-type") != "application/problem+json" or
                                    json.loads(body)["type"] != "https://postguard.example/problems/payload-too-large"):
                failures.append(f"{how}: {method} {url} -> 413 as {headers.get('content-type')}")
        walked += 1
    assert walked > 100 and not failures, "\n".join(failures)
    # the routes that read a body before anything else refuse it chunked (the issue's /v1/me/code among them)
    for path in ("/v1/me/code", "/v1/check", "/v1/callcheck", "/v1/reports", "/v1/appeals", "/v1/shipments"):
        status, _, _, pulled = _asgi(app, "POST", path, b"x" * (ALLOWANCE.get(path, LIMIT) + 4 * CHUNK), declare=False)
        assert status == 413 and pulled <= ALLOWANCE.get(path, LIMIT) + CHUNK, (path, status, pulled)
    # the limit, not a smaller one: a body of exactly LIMIT bytes reaches the route (which refuses it, as JSON)
    status, _, body, _ = _asgi(app, "POST", "/v1/me/code", b" " * (LIMIT - 2) + b"{}", declare=False)
    assert status == 422, body


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(env):
    """The issue's three 256 MB bodies: the answer comes without reading any of them."""
    _, app, _, _ = env
    for path in ("/v1/me/code", "/v1/check", "/v1/shipments/import", "/v1/reports"):
        status, _, _, pulled = _asgi(app, "POST", path, b"x" * (256 * 1024 * 1024), declare=True)
        assert status == 413 and pulled == 0, (path, status, pulled)
    # a browser's page request gets the error page, with the page security headers
    status, headers, body, pulled = _asgi(app, "POST", "/kiem-tra", b"x" * (LIMIT + 1), declare=True,
                                          headers=[("Accept", "text/html")])
    assert (status, pulled) == (413, 0) and headers["content-type"].startswith("text/html"), (status, headers)
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_reports_get_the_evidence_allowance_for_files_only(env):
    """A JSON report carries no file: it keeps the common limit (a 49 MB anonymous JSON report was
    read and parsed whole). A multipart report with evidence may be as large as its files allow."""
    _, app, _, _ = env
    for path, allowed in MULTIPART_ALLOWANCE.items():
        body = b"x" * (LIMIT + CHUNK)
        assert LIMIT + CHUNK < allowed
        status, _, _, pulled = _asgi(app, "POST", path, body, declare=True)
        assert (status, pulled) == (413, 0), path
        status, _, _, pulled = _asgi(app, "POST", path, body, declare=False)  # the page refuses a forged form first
        assert status in (403, 413) and pulled <= LIMIT + CHUNK, (path, status, pulled)
        multipart = [("content-type", "multipart/form-data; boundary=x")]
        status, _, _, _ = _asgi(app, "POST", path, body, declare=True, headers=multipart)
        assert status != 413 and status < 500, (path, status)  # past the limit, to the form parser
        status, _, _, _ = _asgi(app, "POST", path, b"x" * (allowed + 1), declare=True, headers=multipart)
        assert status == 413, (path, status)


def test_deeply_nested_json_is_a_clear_4xx_on_every_route(env):
    client, app, _, auth = env
    failures = []
    for method, path, route in _routes(app):
        if method not in ("POST", "PUT", "PATCH"):
            continue
        url = _sample_url(path, route)
        headers = {**(auth if path.startswith(API) else {}), "Content-Type": "application/json"}
        resp = client.request(method, url, content=NESTED, headers=headers)
        _assert_sane(resp, method, url, "nested JSON", failures)
    assert not failures, "\n".join(failures)
    # the report route parsed it with the json module: RecursionError, a 500, before
    for headers in ({}, auth):
        resp = client.post("/v1/reports", content=NESTED, headers={**headers, "Content-Type": "application/json"})
        assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json", resp.text
        assert resp.json()["errors"][0]["message"] == "JSON nested too deeply"
    resp = client.post("/v1/reports", files={"report": (None, NESTED.decode())})
    assert resp.status_code == 422 and resp.json()["errors"][0]["message"] == "JSON nested too deeply"
    # an ordinary JSON route (FastAPI parses it): the same clear refusal, not "error parsing the body"
    resp = client.post("/v1/appeals", content=NESTED, headers={"Content-Type": "application/json"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["code"] == "json_too_deep", resp.text


def _credentials(client, p, path: str, auth: dict) -> list[tuple[str, dict]]:
    """Who gets past authentication on ``path``: the all-scope API key, and a session of each role."""
    if path.startswith(API):
        return [("api key", auth)]
    out = []
    for role in ROLES:
        signed = p.staff.sign_in(org_code=ORG_OF.get(role, ORG), username=USERNAMES[role], password=PASSWORD)
        out.append((role, {"Cookie": f"{SESSION_COOKIE}={signed.token}", "X-CSRF-Token": signed.csrf}))
    return out


@pytest.mark.both_databases
def test_integers_out_of_the_64_bit_range_never_reach_the_database(env):
    """Each integer path and query parameter, with the credentials that reach the handler: 404/422
    for 2**63 and beyond (SQLite raised OverflowError binding it: a 500), never a 5xx."""
    client, app, w, auth = env
    failures, tried = [], set()
    for method, path, route in _routes(app):
        params = _int_params(route)
        if not params:
            continue
        for who, headers in _credentials(client, w.platform, path, auth):
            for name, where in params:
                for value in HUGE:
                    if where == "path":
                        url, query = _url(path, **{**{n: 1 for n, wh in params if wh == "path"}, name: value}), {}
                    else:
                        url, query = _sample_url(path, route), {name: value}
                        if path == "/v1/audit/consistency":  # both sizes are required
                            query = {"size1": 1, "size2": 1, **query}
                    resp = client.request(method, url, params=query, headers=headers,
                                          **({"data": {"csrf": headers.get("X-CSRF-Token", "")}}
                                             if method == "POST" and not path.startswith(API) else {}))
                    _assert_sane(resp, method, f"{url}?{query}", f"{name}={value} as {who}", failures)
                    if resp.status_code not in (400, 401, 403, 404, 422):
                        failures.append(f"{name}={value} as {who}: {method} {url} -> {resp.status_code}")
                    tried.add((method, path, name))
    assert not failures, "\n".join(failures)
    assert {("GET", "/v1/callerid/certs/{org}/{version}.pem", "version"), ("GET", "/v1/audit/inclusion", "index"),
            ("GET", "/v1/intel/indicators/{indicator_id}", "indicator_id"),
            ("GET", "/staff/audit/alerts", "before")} <= tried


def test_every_integer_parameter_is_bounded_to_what_the_database_holds(env):
    """Structurally: the OpenAPI and route declarations bound each integer path/query parameter
    within a signed 64-bit integer, so that the database never binds a larger one."""
    _, app, _, _ = env
    unbounded = []
    for method, path, route in _routes(app):
        for d in _dependants(route):
            for f in (*d.path_params, *d.query_params):
                ann = f.field_info.annotation
                if not (ann is int or int in typing.get_args(ann)):
                    continue
                bounds = {type(m).__name__: m for m in f.field_info.metadata}
                le = getattr(bounds.get("Le"), "le", None)
                lt = getattr(bounds.get("Lt"), "lt", None)
                ge = getattr(bounds.get("Ge"), "ge", None)
                upper = le if le is not None else (lt - 1 if lt is not None else None)
                if upper is None or upper > INT64_MAX or ge is None or ge < -INT64_MAX - 1:
                    unbounded.append(f"{method} {path}: {f.name}")
    assert not unbounded, unbounded


def _dependants(route):
    d = getattr(route, "dependant", None)
    todo = [d] if d is not None else []
    while todo:
        d = todo.pop()
        todo.extend(d.dependencies)
        yield d


WRONG_TYPES = [("text/plain", b'{"value": "0912345678"}'), ("application/x-www-form-urlencoded", b"value=0912345678"),
               ("multipart/form-data; boundary=zzz", b"--zzz\r\nbroken"), ("application/xml", b"<value/>"),
               ("application/json", b"\xff\xfe{\x00}\x00"), ("application/json", b'{"value": "\xed\xa0\x80"}'),
               (None, b'{"value": "0912345678"}')]


def test_wrong_content_types_are_a_clear_4xx_on_every_route(env):
    client, app, _, auth = env
    failures = []
    for method, path, route in _routes(app):
        if method not in ("POST", "PUT", "PATCH"):
            continue
        url = _sample_url(path, route)
        for ctype, body in WRONG_TYPES:
            headers = {**(auth if path.startswith(API) else {}), **({"Content-Type": ctype} if ctype else {})}
            resp = client.request(method, url, content=body, headers=headers)
            _assert_sane(resp, method, url, f"as {ctype}", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("ctype", ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
@pytest.mark.parametrize("path,body", [("/v1/check", b'{"value": "0912345678"}'),
                                       ("/v1/callcheck", b'{"caller": "0912345678"}')])
def test_bodies_read_ahead_of_the_router_are_json_only(env, ctype, path, body):
    """``/v1/check`` and ``/v1/callcheck`` answered any body as JSON; a page on another site can send
    ``text/plain``, a form or an untyped body without a CORS preflight. Now 415 problem+json, before
    anything is looked up, even for a body whose answer is kept."""
    client, _, _, _ = env
    for good in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        assert client.post(path, content=body, headers={"Content-Type": good}).status_code == 200
    resp = client.post(path, content=body, headers={"Content-Type": ctype} if ctype else {})
    assert resp.status_code == 415 and resp.headers["content-type"] == "application/problem+json", resp.text
    assert resp.json()["type"] == "https://postguard.example/problems/unsupported-media-type"


# -- the CSV import --------------------------------------------------------------------------------
def _csv_with_huge_field(faker, size: int = 10 * 1024 * 1024) -> tuple[bytes, list[dict]]:
    rows = list(faker.rows(3))
    data = csv_bytes(rows).decode()
    lines = data.splitlines(keepends=True)
    huge = lines[2].split(",")
    huge[-1] = "x" * size + "\r\n"
    lines[2] = ",".join(huge)
    return "".join(lines).encode(), rows


@pytest.fixture
def importer(make_settings):
    settings = make_settings(max_upload_bytes=32 * 1024 * 1024)
    p = Platform(settings)
    p.orgs.create(code=ORG, name="Bưu điện mẫu")
    key = p.orgs.create_api_key(org_code=ORG, scopes=["shipments:write", "shipments:read"], label="import").token
    yield TestClient(create_app(settings, platform=p), raise_server_exceptions=False), p, \
        {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
    p.close()


def test_a_field_over_the_csv_limit_is_an_error_of_its_line(importer, faker):
    client, p, headers = importer
    data, rows = _csv_with_huge_field(faker)
    resp = client.post("/v1/shipments/import", content=data, headers=headers)
    assert resp.status_code == 200, resp.text[:300]
    report = resp.json()
    assert report["imported"] == 2 and report["invalid"] == 1
    assert report["errors"] == [{"field": "row", "code": "malformed", "row": 3,
                                 "message": f"has a field longer than {csv.field_size_limit()} characters"}]
    assert client.get(f"/v1/shipments/{rows[1]['waybill']}", headers=headers).status_code == 404
    assert client.get(f"/v1/shipments/{rows[2]['waybill']}", headers=headers).status_code == 200


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_utf16_csv_with_its_byte_order_mark_is_read(importer, faker, encoding):
    client, p, headers = importer
    rows = list(faker.rows(4))
    text = csv_bytes(rows).decode()
    data = ("\ufeff" + text).encode(encoding) if encoding.endswith("-be") else text.encode(encoding)
    resp = client.post("/v1/shipments/import", content=data, headers=headers)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["imported"] == 4 and resp.json()["invalid"] == 0
    got = client.get(f"/v1/shipments/{rows[0]['waybill']}", headers=headers).json()
    assert got["recipient"]["name"].split()[-1] == rows[0]["recipient_name"].split()[-1]  # decoded, not mojibake


def test_a_utf16_csv_without_a_byte_order_mark_is_refused_naming_the_encoding(importer, faker):
    client, _, headers = importer
    resp = client.post("/v1/shipments/import", content=csv_bytes(list(faker.rows(2))).decode().encode("utf-16-le"),
                       headers=headers)
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    assert "UTF-16" in resp.json()["errors"][0]["message"]


def test_the_cli_reports_a_huge_field_reads_utf16_and_refuses_huge_ids(make_settings, monkeypatch, capsys, tmp_path, faker):
    from postguard.cli.main import main

    settings = make_settings()
    monkeypatch.setenv("POSTGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args):
        monkeypatch.setattr("sys.argv", ["postguard", *args])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code or 0
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("orgs", "create", "vnpost", "--name", "Bưu điện Thử")[0] == 0
    data, _ = _csv_with_huge_field(faker)
    (tmp_path / "huge.csv").write_bytes(data)
    code, out, err = run("shipments", "import", str(tmp_path / "huge.csv"), "--org", "VNPOST")
    assert code == 2 and "imported: 2" in out and "invalid: 1" in out, (out, err)
    assert f"line 3: row: has a field longer than {csv.field_size_limit()} characters" in err
    assert "Traceback" not in err
    for args in (("intel", "show", str(2**63)), ("intel", "official", "verify", str(2**63)),
                 ("intel", "decide", str(2**64), "--action", "confirm")):
        code, out, err = run(*args)
        assert code == 2 and "Traceback" not in err and "Invalid value" in err, (args, code, err[-300:])
    (tmp_path / "u16.csv").write_bytes(csv_bytes(list(faker.rows(3, prefix="UT"))).decode().encode("utf-16"))
    code, out, err = run("shipments", "import", str(tmp_path / "u16.csv"), "--org", "VNPOST")
    assert code == 0 and "imported: 3" in out, (out, err)


def test_csv_reading_survives_the_record_after_a_huge_field():
    """The reader goes on with the next line after ``_csv.Error`` (what the per-line error relies on)."""
    reader = csv.reader(io.StringIO("a,b\n1," + "x" * (csv.field_size_limit() + 1) + "\n2,3\n"))
    assert next(reader) == ["a", "b"]
    with pytest.raises(csv.Error):
        next(reader)
    assert next(reader) == ["2", "3"]
