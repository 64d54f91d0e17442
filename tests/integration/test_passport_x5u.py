"""x5u fetching against loopback servers on 127.0.0.1 only: an HTTPS server with a self-signed
certificate generated here, and a plain HTTP one for the ``allow_http`` switch."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from postguard.callerid.stir import jose
from postguard.callerid.stir import passport as pp
from postguard.callerid.stir.fetch import CertificateFetcher, load_trusted_cas, verify_fetched
from postguard.callerid.stir.sip import identity_header
from postguard.crypto import x509 as vx
from postguard.crypto.es256 import SigningKey
from postguard.errors import (
    ConfigurationError,
    PassportAlgorithmError,
    PassportChainError,
    PassportClaimsError,
    PassportError,
    PassportFetchError,
    PassportFormatError,
    PassportHostNotAllowed,
    PassportSignatureError,
    PassportTypeError,
)
from postguard.platform import Platform
from postguard.settings import Settings

NOW = int(time.time())
DAY = 86_400
ORIG = "84912340123"
LOOPBACK = ["127.0.0.1"]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn, public_key, issuer_name, issuer_key, *, ca=False, san=None, tn=None):
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(issuer_name).public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(dt.datetime.fromtimestamp(NOW - DAY, tz=dt.UTC))
         .not_valid_after(dt.datetime.fromtimestamp(NOW + 30 * DAY, tz=dt.UTC)))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if tn is not None:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(vx.TN_AUTH_LIST_OID), tn),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.PEM)


class Site:
    """Routes served by both loopback servers; counts hits per path."""

    def __init__(self) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("Loopback STI-CA", ca_key.public_key(), _name("Loopback STI-CA"), ca_key, ca=True)
        int_key = ec.generate_private_key(ec.SECP256R1())
        self.inter = _cert("Loopback STI-Intermediate", int_key.public_key(), self.ca.subject, ca_key, ca=True)
        self.key = SigningKey.generate()
        pub = serialization.load_der_public_key(self.key.public_key().spki_der())
        tn = vx.encode_tn_auth_list(entries=[vx.TNEntry(kind="range", value="84912340000", count=1000)])
        self.leaf = _cert("Loopback STI-SP", pub, self.inter.subject, int_key, tn=tn)
        self.bundle = _pem(self.leaf) + _pem(self.inter)
        self.files: dict[str, bytes] = {}  # more paths served as they are (tests add their own)
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()

    def hit(self, path: str) -> None:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if not any(k.lower() == "content-length" for k, _ in headers):
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path
            site.hit(path)
            if path == "/chain.pem":
                self._send(200, site.bundle, [("Content-Type", "application/pem-certificate-chain")])
            elif path == "/redirect":
                self._send(302, b"", [("Location", "/chain.pem")])
            elif path == "/big-declared":
                self._send(200, b"x" * (200 * 1024))
            elif path == "/big-undeclared":
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for _ in range(200):
                        self.wfile.write(b"-" * 1024)
                except OSError:
                    pass
                self.close_connection = True
            elif path == "/slow":
                self.send_response(200)
                self.send_header("Content-Length", str(len(site.bundle)))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for i in range(len(site.bundle)):  # one byte every 0.2 s: each read is quick
                        self.wfile.write(site.bundle[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass
            elif path == "/stall":
                time.sleep(3)
                self._send(200, site.bundle)
            elif path == "/not-pem":
                self._send(200, b"hello, not a certificate")
            elif path in site.files:
                self._send(200, site.files[path], [("Content-Type", "application/pem-certificate-chain")])
            else:
                self._send(404, b"no")

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients here hang up on purpose
        pass


class _Server:
    def __init__(self, site: Site, context: ssl.SSLContext | None) -> None:
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(site))
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if context else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def site():
    return Site()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A self-signed server certificate for 127.0.0.1, a client context trusting only it, and the
    certificate's file (for ``SSL_CERT_FILE``: default contexts then trust it too)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("127.0.0.1", key.public_key(), _name("127.0.0.1"), key, ca=True,
                 san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(_pem(cert))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    client_ctx = ssl.create_default_context(cafile=str(d / "cert.pem"))
    return server_ctx, client_ctx, d / "cert.pem"


@pytest.fixture(scope="module")
def https(site, tls):
    s = _Server(site, tls[0])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def http(site):
    s = _Server(site, None)
    yield s
    s.stop()


@pytest.fixture
def fetcher(tls):
    return CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], timeout=1.0)


def _der(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def test_fetch_returns_the_whole_chain_and_caches_it(site, https, tls):
    clock = [1000.0]
    f = CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], cache_ttl=60, clock=lambda: clock[0])
    url = https.url("/chain.pem")
    before = site.hits.get("/chain.pem", 0)
    chain = f.fetch(url)
    assert chain == [_der(site.leaf), _der(site.inter)]
    assert f.fetch(url) == chain  # from the cache, whole chain kept
    assert site.hits["/chain.pem"] == before + 1
    clock[0] += 61  # expired: fetched again
    assert f.fetch(url) == chain
    assert site.hits["/chain.pem"] == before + 2
    no_cache = CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], cache_ttl=0)
    no_cache.fetch(url)
    no_cache.fetch(url)
    assert site.hits["/chain.pem"] == before + 4


def test_the_cache_is_bounded_and_keyed_by_url(site, https, tls):
    for name in ("a", "b", "c"):
        site.files[f"/bounded-{name}.pem"] = site.bundle
    f = CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], cache_ttl=60, max_entries=2)
    urls = [https.url(f"/bounded-{name}.pem") for name in ("a", "b", "c")]
    for url in urls:
        assert f.fetch(url)[0] == _der(site.leaf)
        assert len(f._cache) <= 2
    assert set(f._cache) == set(urls[1:])  # the oldest made room
    hits = dict(site.hits)
    f.fetch(urls[2])
    assert site.hits == hits  # cached, by its own URL
    f.fetch(urls[0])
    assert site.hits["/bounded-a.pem"] == hits["/bounded-a.pem"] + 1 and len(f._cache) == 2


def test_verify_fetched_end_to_end(site, https, fetcher):
    x5u = https.url("/chain.pem")
    token = pp.sign(key=site.key, x5u=x5u, orig_tn=ORIG, dest_tns=["84987654321"], iat=NOW, attest="A",
                    rcd_name="Bưu điện Việt Nam")
    got = verify_fetched(identity_header(token, info_url=x5u), fetcher=fetcher,
                            trusted_cas=[_pem(site.ca)], now=NOW)
    assert got.orig_tn == ORIG and got.x5u == x5u and got.rcd_name == "Bưu điện Việt Nam"
    with pytest.raises(PassportChainError):  # fetched certificates need trust anchors
        verify_fetched(token, fetcher=fetcher, trusted_cas=[], now=NOW)
    other = ec.generate_private_key(ec.SECP256R1())
    stranger = _cert("Stranger CA", other.public_key(), _name("Stranger CA"), other, ca=True)
    with pytest.raises(PassportChainError):
        verify_fetched(token, fetcher=fetcher, trusted_cas=[_pem(stranger)], now=NOW)


def test_redirects_are_not_followed(site, https, fetcher):
    before = site.hits.get("/chain.pem", 0)
    with pytest.raises(PassportFetchError, match="redirect"):
        fetcher.fetch(https.url("/redirect"))
    assert site.hits.get("/chain.pem", 0) == before


@pytest.mark.parametrize("path", ["/big-declared", "/big-undeclared"])
def test_size_cap(https, tls, path):
    f = CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], max_bytes=64 * 1024)
    with pytest.raises(PassportFetchError, match="larger"):
        f.fetch(https.url(path))


def test_small_cap_refuses_even_a_real_chain(https, tls):
    with pytest.raises(PassportFetchError):
        CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], max_bytes=100).fetch(https.url("/chain.pem"))


@pytest.mark.parametrize("path", ["/slow", "/stall"])
def test_time_cap(https, tls, path):
    f = CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1], timeout=1.0)
    start = time.monotonic()
    with pytest.raises(PassportFetchError, match="too long"):
        f.fetch(https.url(path))
    assert time.monotonic() - start < 2.5


@pytest.mark.parametrize("path", ["/missing", "/not-pem"])
def test_bad_answers(https, fetcher, path):
    with pytest.raises(PassportFetchError):
        fetcher.fetch(https.url(path))


def test_untrusted_tls_certificate_is_refused(https):
    with pytest.raises(PassportFetchError):
        CertificateFetcher(allowed_hosts=LOOPBACK, timeout=1.0).fetch(https.url("/chain.pem"))  # system CAs only


def test_http_only_when_allowed(site, http, https, fetcher):
    with pytest.raises(PassportFetchError, match="https"):
        fetcher.fetch(http.url("/chain.pem"))
    assert CertificateFetcher(allowed_hosts=LOOPBACK, allow_http=True).fetch(http.url("/chain.pem"))[0] == _der(site.leaf)


@pytest.mark.parametrize("url", [
    "ftp://127.0.0.1/chain.pem", "file:///etc/passwd", "https://user:pw@127.0.0.1/chain.pem",
    "https:///chain.pem", "https://127.0.0.1:99999/chain.pem", "not a url", "",
])
def test_bad_urls(fetcher, url):
    with pytest.raises(PassportError):
        fetcher.fetch(url)


# --------------------------------------------------------------------------------------------------
# Host allowlist (POSTGUARD_X5U_ALLOWED_HOSTS)


class _NoConnection:
    """Stands in for http.client's connection classes: any attempt to connect fails the test."""

    attempts = 0

    def __init__(self, *args, **kwargs):
        type(self).attempts += 1
        raise AssertionError("a connection was attempted")


@pytest.fixture
def no_connections(monkeypatch):
    import http.client

    _NoConnection.attempts = 0
    monkeypatch.setattr(http.client, "HTTPSConnection", _NoConnection)
    monkeypatch.setattr(http.client, "HTTPConnection", _NoConnection)
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: pytest.fail("a host name was resolved"))
    return _NoConnection


@pytest.mark.parametrize("allowed", [[], ["example.vn"], ["*.127.0.0.1.nip.example"], ["127.0.0.2"]])
def test_a_host_outside_the_allowlist_is_refused_before_any_connection(site, https, tls, no_connections,
                                                                       allowed):
    before = dict(site.hits)
    f = CertificateFetcher(allowed_hosts=allowed, ssl_context=tls[1], timeout=1.0)
    with pytest.raises(PassportHostNotAllowed) as err:
        f.fetch(https.url("/chain.pem"))
    assert isinstance(err.value, PassportFetchError) and isinstance(err.value, PassportError)
    assert ("off" in str(err.value)) == (not allowed)
    assert no_connections.attempts == 0 and site.hits == before


def test_default_fetcher_fetches_nothing(https, no_connections):
    f = CertificateFetcher()
    for url in [https.url("/chain.pem"), "https://cr.example.vn/sp.pem", "https://[::1]/x.pem"]:
        with pytest.raises(PassportHostNotAllowed):
            f.fetch(url)
    assert no_connections.attempts == 0


def test_the_allowlist_is_checked_before_the_cache(site, https, tls):
    url = https.url("/chain.pem")
    f = CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=tls[1])
    assert f.fetch(url)
    f.allowed_hosts = ("cr.example.vn",)  # the same fetcher, narrowed: a cached chain is no way round
    with pytest.raises(PassportHostNotAllowed):
        f.fetch(url)


def test_verify_fetched_refuses_a_non_listed_x5u(site, https, tls, no_connections):
    token = pp.sign(key=site.key, x5u=https.url("/chain.pem"), orig_tn=ORIG, dest_tns=["84987654321"],
                    iat=NOW, attest="A")
    f = CertificateFetcher(allowed_hosts=["cr.example.vn"], ssl_context=tls[1])
    with pytest.raises(PassportHostNotAllowed):
        verify_fetched(token, fetcher=f, trusted_cas=[_pem(site.ca)], now=NOW)
    assert no_connections.attempts == 0


def _reheaded(token: str, **changes) -> str:
    """``token`` with its header changed (the signature left as it was)."""
    h, p, sig = token.split(".")
    header = {k: v for k, v in {**json.loads(base64.urlsafe_b64decode(h + "==")), **changes}.items() if v is not None}
    return ".".join([jose.b64url_encode(jose.canonical_json(header)), p, sig])


@pytest.mark.parametrize(("mangle", "error"), [
    (lambda t: _reheaded(t, alg="none"), PassportAlgorithmError),
    (lambda t: _reheaded(t, alg="HS256"), PassportAlgorithmError),
    (lambda t: _reheaded(t, typ="JWT"), PassportTypeError),
    (lambda t: _reheaded(t, ppt=None), PassportTypeError),
    (lambda t: _reheaded(t, x5u="file:///etc/passwd"), PassportClaimsError),
    (lambda t: t.rsplit(".", 1)[0] + "." + jose.b64url_encode(bytes(70)), PassportSignatureError),  # DER-sized
    (lambda t: t.replace(".", "..", 1), PassportFormatError),
    (lambda t: t + ";info=<https://127.0.0.1/other.pem>", PassportFormatError),  # info differs from x5u
], ids=["alg-none", "alg-hs256", "typ", "no-ppt", "x5u-file", "der-signature", "empty-segment", "info-differs"])
def test_a_token_refused_on_its_face_costs_no_fetch(site, https, fetcher, mangle, error):
    """What needs no certificate is checked before the x5u is fetched: junk sent to a verifier never
    makes it call an allow-listed host."""
    x5u = https.url("/chain.pem")
    token = pp.sign(key=site.key, x5u=x5u, orig_tn=ORIG, dest_tns=["84987654321"], iat=NOW, attest="A")
    before = site.hits.get("/chain.pem", 0)
    with pytest.raises(error):
        verify_fetched(mangle(token), fetcher=fetcher, trusted_cas=[_pem(site.ca)], now=NOW)
    assert site.hits.get("/chain.pem", 0) == before


def test_allowed_host_with_a_certificate_for_another_name_is_refused(site, https, tls):
    """The loopback server's certificate names 127.0.0.1 only: asked for as ``localhost`` (allowed, and
    the issuing certificate trusted), the TLS host name check still refuses it."""
    f = CertificateFetcher(allowed_hosts=["localhost"], ssl_context=tls[1], timeout=1.0)
    before = site.hits.get("/chain.pem", 0)
    with pytest.raises(PassportFetchError) as err:
        f.fetch(f"https://localhost:{https.port}/chain.pem")
    assert not isinstance(err.value, PassportHostNotAllowed)
    assert site.hits.get("/chain.pem", 0) == before


def test_a_tls_context_that_does_not_verify_is_refused(tls):
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ConfigurationError):
        CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=lax)
    no_names = ssl.create_default_context()
    no_names.check_hostname = False
    with pytest.raises(ConfigurationError):
        CertificateFetcher(allowed_hosts=LOOPBACK, ssl_context=no_names)


@pytest.mark.parametrize("bad", ["https://cr.example.vn", "cr.example.vn:443", "cr.example.vn/x", "*",
                                 "*.vn", "a..b", "-a.vn", "cr example.vn", "", "c*.example.vn"])
def test_a_bad_allowlist_entry_is_a_configuration_error(bad):
    with pytest.raises(ConfigurationError):
        CertificateFetcher(allowed_hosts=[bad])
    with pytest.raises(ValueError):
        Settings(x5u_allowed_hosts=[bad])
    with pytest.raises(ConfigurationError):
        CertificateFetcher(allowed_hosts="cr.example.vn")  # one string is not a list of hosts


def test_settings_configure_the_platform_fetcher(site, https, tls, tmp_path, monkeypatch):
    monkeypatch.setenv("POSTGUARD_X5U_ALLOWED_HOSTS", '["127.0.0.1", "*.certs.example.vn"]')
    monkeypatch.setenv("POSTGUARD_X5U_MAX_BYTES", "1024")
    settings = Settings(data_dir=tmp_path)
    assert settings.x5u_allowed_hosts == ["127.0.0.1", "*.certs.example.vn"]
    f = CertificateFetcher.from_settings(settings, ssl_context=tls[1])
    assert f.max_bytes == 1024 and f.timeout == 2.0 and f.cache_ttl == 3600
    assert len(site.bundle) > 1024
    with pytest.raises(PassportFetchError, match="larger"):
        f.fetch(https.url("/chain.pem"))
    big = CertificateFetcher.from_settings(settings, ssl_context=tls[1], max_bytes=64 * 1024)
    assert big.fetch(https.url("/chain.pem"))[0] == _der(site.leaf)

    monkeypatch.delenv("POSTGUARD_X5U_ALLOWED_HOSTS")
    monkeypatch.delenv("POSTGUARD_X5U_MAX_BYTES")
    p = Platform(Settings(data_dir=tmp_path / "p"))
    try:
        assert p.x5u_fetcher.allowed_hosts == () and p.stir_trusted_cas == []
        with pytest.raises(PassportHostNotAllowed, match="off"):
            p.x5u_fetcher.fetch(https.url("/chain.pem"))
    finally:
        p.close()


def test_trusted_ca_file(site, https, tls, tmp_path):
    ca_file = tmp_path / "sti-ca.pem"
    ca_file.write_bytes(_pem(site.ca))
    p = Platform(Settings(data_dir=tmp_path / "p", x5u_allowed_hosts=LOOPBACK, stir_trusted_ca_file=ca_file))
    try:
        assert p.stir_trusted_cas == [_der(site.ca)]
        token = pp.sign(key=site.key, x5u=https.url("/chain.pem"), orig_tn=ORIG, dest_tns=["84987654321"],
                        iat=NOW, attest="B")
        fetcher = CertificateFetcher.from_settings(p.settings, ssl_context=tls[1])
        got = verify_fetched(token, fetcher=fetcher, trusted_cas=p.stir_trusted_cas, now=NOW)
        assert got.attest == "B"
        # the intermediate alone is not a trust anchor the chain can skip past: trusting only the
        # leaf's issuer still works (a path to any trusted CA), trusting an unrelated CA does not
        assert verify_fetched(token, fetcher=fetcher, trusted_cas=[_pem(site.inter)], now=NOW)
    finally:
        p.close()
    q = Platform(Settings(data_dir=tmp_path / "q", stir_trusted_ca_file=tmp_path / "missing.pem"))
    try:
        with pytest.raises(ConfigurationError, match="does not exist"):
            _ = q.stir_trusted_cas
    finally:
        q.close()
    leaf_file = tmp_path / "leaf.pem"
    leaf_file.write_bytes(_pem(site.leaf))
    with pytest.raises(ConfigurationError, match="not a CA"):
        load_trusted_cas(leaf_file.read_bytes())
    with pytest.raises(ConfigurationError):
        load_trusted_cas(b"not a certificate")
