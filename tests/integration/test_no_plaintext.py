"""No plaintext personal data at rest: database files (SQLite with WAL and journal, a pg_dump on
PostgreSQL), logs and label PDFs are scanned for every name, phone (every written form), street
address and goods description that went in."""

import io
import re
import subprocess

from fastapi.testclient import TestClient
from pypdf import PdfReader

from postguard.app import create_app
from postguard.logging import configure_logging
from postguard.phones import normalize_phone
from tests.conftest import csv_bytes


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
