"""PASSporT benchmarks: signing and verification against raw ECDSA P-256 on the same bytes.

    .venv/bin/python benchmarks/bench_passport.py                  # 5 rounds of 2 x 0.6 CPU s per figure
    .venv/bin/python benchmarks/bench_passport.py --seconds 0.2    # the CI smoke run

Prints JSON lines (DESIGN.md §4), medians of interleaved rounds, pinned to one core:

- ``sign_per_s``: ``passport.sign`` (argument checks, canonical JSON, base64url, a fresh origid,
  ES256 with the R||S conversion) against ``raw_ecdsa_p256_sign_per_s``: pyca/cryptography's
  ``private_key.sign`` of the same signing-input bytes (DER out, no conversion).
- ``verify_per_s``: ``passport.verify(token, certificate=leaf_pem, now=…)`` (parsing, certificate,
  signature, TNAuthList, claims, freshness, the calling number's coverage) against
  ``raw_ecdsa_p256_verify_per_s``: ``public_key.verify`` of the same signing inputs and signatures
  (DER in).
- ``verify_chain_per_s``: the same verification with ``trusted_cas`` and ``intermediates`` (the
  path to the STI-CA validated as well), against the same raw baseline.
- one line per target, ``<figure>_ratio`` (the median of the per-round ratios) against
  ``target_ratio`` 0.8: ``ratio`` ≥ 1 means met.

Each figure and its baseline run in alternating batches of 32 calls within one round, so that both
see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from postguard.callerid.stir import jose
from postguard.callerid.stir import passport as pp
from postguard.crypto import x509 as vx
from postguard.crypto.es256 import SigningKey

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
X5U = "https://cr.sti.example.vn/sp/postguard-2026.pem"
ORIG = "84912340123"
DEST = ["84987654321"]
TARGET = 0.8


def emit(metric, value, baseline_metric, baseline):
    print(json.dumps({"bench": "passport", "metric": metric, "value": round(value, 3),
                      "baseline_metric": baseline_metric, "baseline": round(baseline, 3),
                      "ratio": round(value / baseline, 3)}), flush=True)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn, public_key, issuer, issuer_key, *, ca=False, tn=None):
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(issuer).public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(dt.datetime.fromtimestamp(NOW - 86_400, tz=dt.UTC))
         .not_valid_after(dt.datetime.fromtimestamp(NOW + 365 * 86_400, tz=dt.UTC)))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if tn is not None:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(vx.TN_AUTH_LIST_OID), tn),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.PEM)


class Fixture:
    def __init__(self, pool: int) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("Bench STI-CA", ca_key.public_key(), _name("Bench STI-CA"), ca_key, ca=True)
        int_key = ec.generate_private_key(ec.SECP256R1())
        self.inter = _cert("Bench STI-ICA", int_key.public_key(), self.ca.subject, ca_key, ca=True)
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self.private_key.public_key()
        self.key = SigningKey(self.private_key)  # the same key for PASSporTs and the raw baseline
        tn = vx.encode_tn_auth_list(entries=[vx.TNEntry(kind="range", value="84912340000", count=1000)])
        self.leaf = _cert("Bench STI-SP", self.public_key, self.inter.subject, int_key, tn=tn)
        self.leaf_pem, self.inter_pem, self.ca_pem = _pem(self.leaf), _pem(self.inter), _pem(self.ca)
        self.tokens = [self.sign() for _ in range(pool)]
        self.raw = []  # (signing input, DER signature) of each token: the raw baseline's work
        for t in self.tokens:
            h, p, s = t.split(".")
            rs = jose.b64url_decode(s, "signature")
            der = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))
            self.raw.append((f"{h}.{p}".encode("ascii"), der))

    def sign(self) -> str:
        return pp.sign(key=self.key, x5u=X5U, orig_tn=ORIG, dest_tns=DEST, iat=NOW, attest="A",
                       rcd_name="Bưu điện Việt Nam")


def paired(fn, base, seconds: float, batch: int = 32) -> tuple[float, float]:
    """Calls per second of ``fn(i)`` and ``base(i)``, measured in alternating batches over about
    ``seconds`` each: on a shared machine whose speed drifts, both see the same conditions."""
    t_fn = t_base = 0.0
    n = 0
    pc = time.process_time  # CPU time: a batch descheduled by the shared machine is not charged
    while t_fn < seconds or t_base < seconds:
        t0 = pc()
        for i in range(n, n + batch):
            fn(i)
        t1 = pc()
        for i in range(n, n + batch):
            base(i)
        t2 = pc()
        t_fn += t1 - t0
        t_base += t2 - t1
        n += batch
    return n / t_fn, n / t_base


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0.6,
                    help="CPU seconds per figure (and as many for its baseline) per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pool", type=int, default=256, help="distinct tokens verified in turn")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    fx = Fixture(args.pool)
    alg = ec.ECDSA(hashes.SHA256())
    pool = len(fx.tokens)
    tokens, raw = fx.tokens, fx.raw
    leaf, inter, ca = fx.leaf_pem, [fx.inter_pem], [fx.ca_pem]
    priv, pub = fx.private_key, fx.public_key
    data0 = raw[0][0]

    # Every figure checks its own work once before being timed.
    assert pp.verify(fx.sign(), certificate=leaf, now=NOW).orig_tn == ORIG
    assert pp.verify(tokens[0], certificate=leaf, now=NOW, trusted_cas=ca, intermediates=inter)
    pub.verify(raw[0][1], raw[0][0], alg)

    sign = lambda i: fx.sign()
    raw_sign = lambda i: priv.sign(data0, alg)
    verify = lambda i: pp.verify(tokens[i % pool], certificate=leaf, now=NOW)
    verify_chain = lambda i: pp.verify(tokens[i % pool], certificate=leaf, now=NOW,
                                       trusted_cas=ca, intermediates=inter)
    raw_verify = lambda i: pub.verify(raw[i % pool][1], raw[i % pool][0], alg)
    pairs = {"sign": (sign, raw_sign), "verify": (verify, raw_verify), "verify_chain": (verify_chain, raw_verify)}
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in pairs}
    for r in range(args.rounds):
        for name in (list(pairs) if r % 2 == 0 else list(pairs)[::-1]):
            got[name].append(paired(*pairs[name], args.seconds))

    def med(name: str) -> tuple[float, float, float]:
        """Median rate, median baseline rate, median of the per-round ratios."""
        rows = got[name]
        return (statistics.median(a for a, _ in rows), statistics.median(b for _, b in rows),
                statistics.median(a / b for a, b in rows))

    for name, base in (("sign", "raw_ecdsa_p256_sign_per_s"), ("verify", "raw_ecdsa_p256_verify_per_s"),
                       ("verify_chain", "raw_ecdsa_p256_verify_per_s")):
        value, baseline, _ = med(name)
        emit(f"{name}_per_s", value, base, baseline)
    for name in ("sign", "verify"):
        emit(f"{name}_ratio", med(name)[2], "target_ratio", TARGET)
    import cryptography

    print(f"# one core, Python {'.'.join(map(str, sys.version_info[:3]))}, cryptography "
          f"{cryptography.__version__}, {args.rounds} rounds of {args.seconds} s per figure", flush=True)


if __name__ == "__main__":
    main()
