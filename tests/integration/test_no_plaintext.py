"""No plaintext personal data at rest: database files (SQLite with WAL and journal, a pg_dump on
PostgreSQL), logs and label PDFs are scanned for every name, phone (every written form), street
address and goods description that went in."""

import base64
import binascii
import io
import json
import re
import subprocess

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from postguard.app import create_app
from postguard.logging import configure_logging
from postguard.phones import normalize_phone
from tests.conftest import csv_bytes

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: what each database keeps at rest


def needles(rows) -> set[bytes]:
    out: set[str] = set()
    for r in rows:
        out |= {r["sender_name"], r["recipient_name"], r["goods_description"]}
        for who in ("sender", "recipient"):
            e164 = normalize_phone(r[f"{who}_phone"])
            nsn = e164[3:]
            out |= {r[f"{who}_phone"], e164, e164[1:], "0" + nsn, f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}",
                    f"{nsn[:3]}.{nsn[3:6]}.{nsn[6:]}"}
            address = r[f"{who}_address"]
            out |= {address, address.split(",")[0]}  # the whole address and its street part
    return {n.encode("utf-8") for n in out}


def found(blob: bytes, wanted: set[bytes]) -> list[bytes]:
    return sorted(n for n in wanted if n in blob)


def _pg_dump_bytes(url: str) -> bytes:
    from sqlalchemy.engine import make_url

    u = make_url(url.split("?")[0])
    schema = re.search(r"search_path%3D(\w+)", url).group(1)
    dump = subprocess.run(
        ["pg_dump", "-h", u.host, "-p", str(u.port or 5432), "-U", u.username, "-n", schema, u.database],
        check=True, capture_output=True,
    ).stdout
    # bytea columns are dumped as hex: decode them so a plaintext stored as bytes would show
    return re.sub(rb"\\\\?x([0-9a-f]{2,})", lambda m: bytes.fromhex(m.group(1).decode()), dump)


def test_nothing_personal_in_database_logs_or_labels(settings, platform, principal, faker, backend, tmp_path):
    log = io.StringIO()
    configure_logging(settings, stream=log)
    rows = list(faker.rows(300))
    rows[5]["recipient_phone"] = rows[5]["recipient_phone"] + "x"  # one invalid row: its error is logged too
    wanted = needles(rows[:5] + rows[6:]) | {rows[5]["recipient_name"].encode()}

    report = platform.shipments.import_csv(principal, io.BytesIO(csv_bytes(rows)))
    assert report.imported == 299 and report.invalid == 1
    key = platform.orgs.create_api_key(org_code=principal.org_code,
                                       scopes=["shipments:read", "shipments:write", "shipments:search",
                                               "labels:print"]).token
    client = TestClient(create_app(settings, platform=platform))
    auth = {"Authorization": f"Bearer {key}"}
    extra = faker.shipment_row("APICREATE1")
    wanted |= needles([extra])
    assert client.post("/v1/shipments", json=extra, headers=auth).status_code == 201
    hits = client.post("/v1/shipments/search", json={"phone": rows[0]["recipient_phone"]}, headers=auth).json()
    assert rows[0]["waybill"] in [h["waybill"] for h in hits["items"]]
    bad = {**faker.shipment_row("APIBAD0001"), "sender_phone": "0999 999 99"}
    assert client.post("/v1/shipments", json=bad, headers=auth).status_code == 422
    printed = [r["waybill"] for i, r in enumerate(rows[:40]) if i != 5]
    resp = client.post("/v1/labels", json={"waybills": printed}, headers=auth)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    pdf = resp.content
    platform.shipments.set_status(principal, rows[0]["waybill"], "picked_up")

    # labels: the text a reader extracts
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).encode()
    assert found(text, wanted) == []
    assert rows[0]["recipient_name"].split()[-1].encode() in text  # the masked name is there, with diacritics
    assert found(pdf, wanted) == []

    # logs
    assert "shipments imported" in log.getvalue()
    assert found(log.getvalue().encode(), wanted) == []

    # the database at rest
    if backend == "sqlite":
        files = [p for p in settings.data_dir.iterdir() if p.name.startswith("postguard.db")]
        assert any(p.name.endswith("-wal") for p in files)  # WAL still holds recent pages: scanned too
        for f in files:
            assert found(f.read_bytes(), wanted) == [], f.name
        platform.close()  # checkpoint and close, then scan again
        for f in settings.data_dir.iterdir():
            if f.is_file():
                assert found(f.read_bytes(), wanted) == [], f.name
    else:
        dump = _pg_dump_bytes(str(settings.database_url))
        assert b"CREATE TABLE" in dump and len(dump) > 100_000
        assert found(dump, wanted) == []


def test_the_scan_would_see_plaintext(tmp_path):
    """The scanner is not blind: a plaintext value stored in SQLite (and hex-dumped bytea) is found."""
    import sqlite3

    db = tmp_path / "x.db"
    c = sqlite3.connect(db)
    c.execute("create table t (v blob)")
    c.execute("insert into t values (?)", ("Nguyễn Thị Hằng".encode(),))
    c.commit()
    c.close()
    assert found(db.read_bytes(), {"Nguyễn Thị Hằng".encode()}) == ["Nguyễn Thị Hằng".encode()]
    hexdump = b"COPY t (v) FROM stdin;\n\\\\x" + "Nguyễn Thị Hằng".encode().hex().encode() + b"\n"
    decoded = re.sub(rb"\\\\?x([0-9a-f]{2,})", lambda m: bytes.fromhex(m.group(1).decode()), hexdump)
    assert "Nguyễn Thị Hằng".encode() in decoded


# -- every table and column, after a deletion request and retention ----------------------------------
_B64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")


def person_needles(row: dict) -> set[bytes]:
    """Every written form of the recipient's phone, name and address."""
    e164 = normalize_phone(row["recipient_phone"])
    nsn = e164[3:]
    name, address = row["recipient_name"], row["recipient_address"]
    forms = {row["recipient_phone"], e164, e164[1:], "0" + nsn, nsn, f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}",
             f"{nsn[:3]}.{nsn[3:6]}.{nsn[6:]}", f"+84 {nsn[:3]} {nsn[3:6]} {nsn[6:]}",
             name, name.upper(), name.lower(), address, address.split(",")[0]}
    return {f.encode("utf-8") for f in forms}


def _decoded(blob: bytes, depth: int = 0) -> list[bytes]:
    """``blob`` and what it decodes to: base64 (standard and URL-safe, whole or any long token in it)
    and JSON (strings anywhere inside, unescaped), recursively."""
    out = [blob]
    if depth > 3:
        return out
    for token in {blob.strip(), *_B64_TOKEN.findall(blob)}:
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(token + b"=" * (-len(token) % 4))
            except (ValueError, binascii.Error):
                continue
            if raw and raw != token:
                out += _decoded(raw, depth + 1)
    try:
        data = json.loads(blob)
    except (ValueError, UnicodeDecodeError):
        return out
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack += list(x.keys()) + list(x.values())
        elif isinstance(x, list):
            stack += x
        elif isinstance(x, str):
            out += _decoded(x.encode("utf-8"), depth + 1)
    return out


def scan_every_column(p, wanted: set[bytes]) -> list[tuple[str, str, bytes]]:
    """(table, column, needle) for every value in every table of the database that holds a needle."""
    from sqlalchemy import inspect, text

    hits = []
    with p.db.engine.connect() as conn:
        insp = inspect(conn)
        tables = insp.get_table_names()
        assert {"call_intents", "masked_calls", "shipments", "audit_entries", "otp_challenges"} <= set(tables)
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    blob = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) \
                        else str(value).encode("utf-8")
                    for form in _decoded(blob):
                        hits += [(table, column, n) for n in wanted if n in form]
    return hits


def test_no_personal_value_in_any_column_after_deletion_and_retention(make_settings, faker, backend):
    """A parcel's whole life with calls (a direct call, a masked call routed both ways, the citizen's
    proven check and spoken-code check, the person's own view), then a completed deletion request and
    ``retention run``: no column of any table, read as stored or base64/JSON-decoded, holds any written
    form of the person's phone, name or address (the signed call tokens name the number), nor the
    person's keyed phone digests (caller-ID and one-time-code): with the digest key, 10^9 numbers are
    quickly tried, and a kept digest would re-link the person to the waybill, the courier and the times.
    (The access log's ``citizen:<first 64 bits>`` actor is append-only and stays: a known residual.)"""
    from datetime import timedelta

    from postguard.db.base import utcnow
    from postguard.platform import Platform
    from tests.callerid_world import COURIER_PHONE, PROXY, build

    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               callcheck_rate_limit="1000/minute"))
    try:
        w = build(p, faker)
        row = w.rows[0]
        wanted = person_needles(row)
        direct = p.calls.start_call(w.people["an"], waybill=w.waybill)
        assert w.recipient[1:] in base64.urlsafe_b64decode(direct["passport"].split(".")[1] + "==").decode()
        assert p.calls.recorded_passport(w.system, direct["origid"]) == direct["passport"]  # kept, encrypted
        p.calls.proxy_add(org_code="VNP", number=PROXY)
        masked = p.calls.start_call(w.people["an"], waybill=w.waybill)
        assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["target"] == w.recipient
        assert p.calls.route(caller=w.recipient, dialled=PROXY)["target"] == COURIER_PHONE
        sent = p.callcheck.send_code(phone=w.recipient, client="10.0.0.1")
        proof = p.callcheck.confirm_code(phone=w.recipient, code=p.notifier.last_code(w.recipient),
                                         challenge=sent["challenge"], client="10.0.0.1")
        checked = p.callcheck.check(caller=PROXY, proof=proof, client="10.0.0.1")
        assert checked["outcome"] == "verified"
        assert p.callcheck.check_spoken_code(waybill=w.waybill, code=checked["shipment"]["spoken_code"],
                                             proof=proof, client="10.0.0.1")["valid"]
        assert p.privacy.my_data(w.recipient)["shipments"]
        assert scan_every_column(p, wanted) == []  # while the parcel travels: all encrypted or digested
        with p.db.session() as s:
            otp_digest = p.vault.keyed_digest(s, purpose="otp-phone")(w.recipient)
        digests = {p.callerid_keys.phone_digest(w.recipient), otp_digest}
        digest_needles = digests | {d.hex().encode() for d in digests}
        found = {(table, column) for table, column, _ in scan_every_column(p, digest_needles)}
        # the scan sees them while they are in use
        assert {("call_intents", "recipient_digest"), ("masked_calls", "recipient_digest"),
                ("otp_challenges", "phone_digest")} <= found

        p.shipments.set_status(w.system, w.waybill, "delivered")
        dpo = p.staff.create(org_code="VNP", username="dpo", display_name="Võ Thị Dung", role="dpo",
                             password="mật khẩu đủ dài 123")
        req = p.privacy.file_request(w.recipient, org_code="VNP", kind="deletion")
        done = p.privacy.complete(dpo, req["ref"])
        assert done["status"] == "completed" and w.waybill in done["receipt"]["waybills"]
        p.shipments.run_retention(now=utcnow() + timedelta(days=p.settings.retention_days + 1))

        assert p.calls.recorded_passport(w.system, direct["origid"]) is None
        assert p.calls.recorded_passport(w.system, masked["origid"]) is None
        assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["action"] == "refuse"
        assert scan_every_column(p, wanted) == []
        assert scan_every_column(p, digest_needles) == []
    finally:
        p.close()


def test_the_column_scan_sees_encoded_plaintext(platform):
    """The column scan is not blind: a number inside a base64url JWT payload inside a JSON value is found."""
    e164 = "+84912345678"
    payload = base64.urlsafe_b64encode(json.dumps({"dest": {"tn": [e164[1:]]}}).encode()).rstrip(b"=").decode()
    value = json.dumps({"token": f"eyJhbGciOiJFUzI1NiJ9.{payload}.c2lnbmF0dXJlc2lnbmF0dXJl"})
    name = json.dumps({"n": "Nguyễn Thị Hằng"})  # \\u escapes
    assert any(e164[1:].encode() in f for f in _decoded(value.encode()))
    assert any("Nguyễn Thị Hằng".encode() in f for f in _decoded(name.encode()))
    from postguard.callerid.models import ScamReport

    with platform.db.session() as s:
        s.add(ScamReport(number="*******678", note=value, verdict="courier", client_digest=bytes(32)))
    hits = scan_every_column(platform, {e164[1:].encode()})
    assert ("scam_reports", "note", e164[1:].encode()) in hits


def subscriber_needles(rows) -> set[bytes]:
    """Every written form of subscribers' numbers, ID numbers, names and dates of birth."""
    from postguard.subscribers.identity import parse_birth

    out: set[str] = set()
    for r in rows:
        e164 = normalize_phone(r["msisdn"])
        nsn = e164[3:]
        out |= {r["msisdn"], e164, e164[1:], "0" + nsn, f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"}
        if r["id_number"]:
            out.add(r["id_number"])
        if r["full_name"]:
            out |= {r["full_name"], r["full_name"].upper()}
        born = parse_birth(r["date_of_birth"]) if r["date_of_birth"] else None
        if born is not None:
            out |= {r["date_of_birth"], born.isoformat()}
    return {n.encode("utf-8") for n in out}


def test_no_subscriber_value_at_rest(platform, principal, settings, backend):
    """A carrier's subscriber records imported, audited (a number matched against the scam database),
    revealed to a clerk and suspended: no column of any table (read as stored or decoded), no database
    file (SQLite with its WAL) or dump (PostgreSQL) and no log line holds any number, ID number, name
    or date of birth that went in."""
    from postguard.subscribers.generate import generate, write_csv

    log = io.StringIO()
    configure_logging(settings, stream=log)
    made = generate(60, seed=41)  # the column scan is quadratic: values × written forms
    rows = made.rows
    buf = io.StringIO()
    write_csv(rows, buf)
    wanted = subscriber_needles(rows)
    assert platform.subscribers.import_csv(principal, io.BytesIO(buf.getvalue().encode())).imported == 60
    platform.intel.report(indicators=[rows[0]["msisdn"]], category="fake_courier", client="scan")
    assert platform.scam_numbers()
    assert platform.subscribers.run_audit(principal).flagged > 0
    top = platform.subscribers.queue(principal, limit=1)[0]
    assert top["iccid"] == rows[0]["iccid"]
    holder = platform.subscribers.show(principal, top["case_id"], reveal=True, reason="xác minh lại")["holder"]
    assert holder["full_name"] == rows[0]["full_name"]
    platform.subscribers.transition(principal, top["case_id"], to="suspended", version=1)
    assert platform.subscribers.suspensions(rows[0]["msisdn"])

    assert scan_every_column(platform, wanted) == []
    assert found(log.getvalue().encode(), wanted) == []
    if backend == "sqlite":
        platform.close()
        for f in settings.data_dir.iterdir():
            if f.is_file():
                assert found(f.read_bytes(), wanted) == [], f.name
    else:
        dump = _pg_dump_bytes(str(settings.database_url))
        assert b"subscribers" in dump and found(dump, wanted) == []
