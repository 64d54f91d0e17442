"""The page script of private lookups (web/static/lookup.js) agrees with the Python side: the same
normal forms, the same bucket prefixes, and an OPRF output finalized in JavaScript equal to the
server's own evaluation. Runs the module under Node.js (skips where there is none)."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from postguard.errors import InvalidInput
from postguard.intel import oprf
from postguard.intel.lookup_client import bucket_prefix, lookup_input
from postguard.intel.normalize import detect
from postguard.phones import OLD_MOBILE_PREFIXES
from postguard.synthetic import MOBILE_PREFIXES
from tests.unit.test_phones import hotline_forms, written_forms

STATIC = Path(__file__).resolve().parents[2] / "src" / "postguard" / "web" / "static"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="no Node.js to run the page script")

RUNNER = """
import * as L from %s;
import readline from "node:readline";
const job = JSON.parse(process.argv[2]);
const out = {
  phones: job.phones.map(L.normalizePhone),
  prefixes: job.inputs.map((i) => L.bucketPrefix(new TextEncoder().encode(i))),
  checks: [],
};
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const post = async (url, body) => {  // the server is the test, on the other end of the pipes
  console.log(JSON.stringify({ url, body }));
  return JSON.parse((await lines.next()).value);
};
for (const raw of job.checks) out.checks.push(await L.privateCheck(raw, { server: "https://pg.example", post }));
console.log(JSON.stringify(out));
process.exit(0);
"""


def run(tmp_path: Path, job: dict, serve=None) -> dict:
    """Run the page script on ``job``; ``serve(url, body) -> reply`` answers its requests."""
    script = tmp_path / "run.mjs"
    script.write_text(RUNNER % json.dumps((STATIC / "lookup.js").as_uri()))
    node = subprocess.Popen([NODE, str(script), json.dumps({"checks": [], **job})], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while True:
            line = node.stdout.readline()
            assert line, node.stderr.read()
            message = json.loads(line)
            if "url" not in message:
                return message
            node.stdin.write(json.dumps(serve(message["url"], message["body"])) + "\n")
            node.stdin.flush()
    finally:
        node.kill()
        node.wait()


def python_phone(raw: str) -> str | None:
    try:
        n = detect(raw, "phone")
    except InvalidInput:
        return None
    return n.value


def test_normal_forms_and_buckets_match_python(tmp_path):
    rng = random.Random(20261123)
    nsns = [rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}" for _ in range(150)]
    old = [o + f"{rng.randrange(10**7):07d}" for o in sorted(OLD_MOBILE_PREFIXES)]
    phones = [f for nsn in nsns for f in written_forms(nsn)] + ["0" + o for o in old] + ["+84" + o for o in old]
    phones += ["1900 545 481", "+84 1800 1234", "(028) 3822 1234", "0243 826 1234"]
    # the private check once called 1800/1900 hotlines "not Vietnamese", and refused "+84 (0) …"
    phones += [f for d in ("19006035", "18001091", "1900545481", "1800599997") for f in hotline_forms(d)]
    garbage = ["", "abc", "0912 345 67x", "+1 415 555 0100", "0912", "12345678901234", "+84", "0012 345 678",
               "1900 12", "+84 (0)(0) 912 345 678", "1900 54 54 8I"]
    inputs = [lookup_input("phone", "+84" + nsn) for nsn in nsns[:40]] + [b"domain\0giao-hang.example.com"]
    got = run(tmp_path, {"phones": phones + garbage, "inputs": [i.decode() for i in inputs]})
    for raw, js in zip(phones, got["phones"]):
        assert js == python_phone(raw), raw
    assert all(js is None for js in got["phones"][len(phones):])
    assert got["prefixes"] == [f"{bucket_prefix(i):04x}" for i in inputs]


def test_a_private_check_in_javascript_matches_what_the_server_evaluates(tmp_path):
    """The whole round trip: the script sends a bucket prefix and a blinded element only, and finds a
    flagged number written another way; an unflagged number in a populated bucket is not flagged."""
    sk, _ = oprf.generate_key_pair()
    flagged = lookup_input("phone", "+84912345678")
    decoy = [lookup_input("phone", f"+8498{i:07d}") for i in range(5)]
    outputs = [base64.b64encode(oprf.evaluate(sk, x)[:16]).decode() for x in [flagged, *decoy]]
    seen = []

    def serve(url, body):
        seen.append(body)
        assert url == "https://pg.example/v1/lookup/bucket" and set(body) == {"prefix", "blinded"}
        evaluated = oprf.blind_evaluate(sk, base64.b64decode(body["blinded"]))
        return {"evaluated": base64.b64encode(evaluated).decode(), "outputs": outputs, "prefix_bits": 16,
                "key_id": "test"}

    got = run(tmp_path, {"phones": [], "inputs": [], "checks": ["0912.345.678", "+84 933 000 111"]}, serve)
    assert got["checks"] == [{"display": "*******678", "flagged": True, "bucketSize": 6},
                             {"display": "*******111", "flagged": False, "bucketSize": 6}]
    assert seen[0]["prefix"] == f"{bucket_prefix(flagged):04x}"
    assert seen[0]["blinded"] != seen[1]["blinded"]
    assert all("912345678" not in json.dumps(b) and "933000111" not in json.dumps(b) for b in seen)
