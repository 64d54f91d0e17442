"""``postguard lookalike ingest|hits|confirm|dismiss`` and ``postguard blocklist export|key|reconcile``:
streamed intake with line numbers, and an exported list whose ``.sig`` verifies."""

from __future__ import annotations

import base64
import json

import orjson

from postguard.blocklist.service import verify
from tests.cli import test_cli
from tests.integration.test_lookalikes import hit

run = test_cli.run  # the fixture


def test_ingest_review_and_export(tmp_path, run):
    lines = [orjson.dumps(hit(f"vnpost-{i}.com")).decode() for i in range(5)]
    lines[2] = "{not json"
    lines.insert(3, "")
    lines.append(orjson.dumps(hit("ok.com", technique="guess")).decode())
    lines.append("x" * (70 * 1024))
    path = tmp_path / "hits.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run("lookalike", "ingest", str(path), "--batch", "2")
    assert code == 2 and "new: 4" in out and "invalid: 3" in out
    assert "line 3: line: not JSON" in err and "line 7: technique:" in err and "line 8: line: longer than" in err
    code, out, _ = run("lookalike", "ingest", "-",
                           stdin=orjson.dumps(hit("vnpost-0.com")).decode() + "\n")
    assert code == 0 and "updated: 1" in out
    code, out, _ = run("lookalike", "hits", "--status", "new")
    assert code == 0 and len(json.loads(out)["items"]) == 4
    code, out, _ = run("lookalike", "confirm", "vnpost-0.com", "--note", "login form")
    assert code == 0 and json.loads(out)["status"] == "confirmed"
    code, out, _ = run("lookalike", "dismiss", "vnpost-1.com")
    assert code == 0 and json.loads(out)["status"] == "dismissed"
    code, _, err = run("lookalike", "confirm", "nowhere.com")
    assert code == 3 and "error:" in err

    code, out, _ = run("blocklist", "key")
    public = base64.b64decode(json.loads(out)["public_key"])
    for fmt in ("rpz", "hosts", "json"):
        target = tmp_path / f"list.{fmt}"
        code, out, _ = run("blocklist", "export", "--format", fmt, "--out", str(target))
        assert code == 0, out
        body, sig = target.read_bytes(), (tmp_path / f"list.{fmt}.sig").read_bytes()
        assert b"vnpost-0.com" in body and b"vnpost-1.com" not in body
        assert verify(body, sig, public) and not verify(body.replace(b"vnpost-0", b"vnpost-9"), sig, public)
    code, _, err = run("blocklist", "export", "--format", "csv", "--out", str(tmp_path / "x"))
    assert code == 2 and "format" in err
    code, out, _ = run("blocklist", "reconcile")
    assert code == 0 and json.loads(out) == {"listed": 1, "added": 0, "withdrawn": 0}
