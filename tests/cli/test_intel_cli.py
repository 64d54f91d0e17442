"""``postguard intel …`` end to end, in process."""

import json

from tests.cli import test_cli

run = test_cli.run  # the fixture


def test_intel_workflow(run, tmp_path):
    code, out, _ = run("intel", "official", "seed")
    assert code == 0 and json.loads(out)["channels_added"] >= 10
    code, out, _ = run("intel", "official", "list", "--org", "VNPOST")
    assert {c["display"] for c in json.loads(out)} == {"vnpost.vn", "*******481"}
    code, out, _ = run("intel", "check", stdin="1900 54 54 81\n")
    assert code == 0 and json.loads(out[out.index("{"):])["verdict"] == "official"
    png = tmp_path / "s.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 30)
    for org in ["VIETTEL", "SHOPEE"]:
        code, out, err = run("intel", "report", "--value", "0977 444 555", "--category", "fake_courier",
                             "--org", org, "--evidence", str(png))
        assert code == 0, err
    code, out, _ = run("intel", "queue")
    item = json.loads(out)[0]
    assert item["verdict"] == "corroborated"
    code, out, _ = run("intel", "decide", str(item["indicator"]), "--action", "confirm")
    assert json.loads(out)["verdict"] == "confirmed"
    code, out, _ = run("intel", "show", str(item["indicator"]))
    assert json.loads(out)["history"][-1]["action"] == "confirm"
    code, out, err = run("intel", "report", "--value", "!!!", "--category", "other")
    assert code == 2 and "indicators[0]" in err
