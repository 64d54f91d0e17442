"""Fetching the signer's certificate from a PASSporT's ``x5u``, and the CAs it must chain to.

``CertificateFetcher`` fetches only from allow-listed hosts (``POSTGUARD_X5U_ALLOWED_HOSTS``; none by
default, so nothing is ever fetched unless configured), over HTTPS, without redirects, within a size
and a time budget, and keeps what it fetched for a bounded time in a bounded cache keyed by URL.
``load_trusted_cas`` reads the STI certification authorities (``POSTGUARD_STIR_TRUSTED_CA_FILE``);
``verify_fetched`` puts the two together with ``passport.verify``.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from postguard.callerid.stir.jose import https_url
from postguard.callerid.stir.passport import PPT_SHAKEN, Passport, unverified_x5u, verify
from postguard.crypto import x509 as _x509
from postguard.errors import (
    ConfigurationError,
    PassportChainError,
    PassportFetchError,
    PassportHostNotAllowed,
)
from postguard.hosts import host_allowed, normalise_host_pattern

__all__ = ["CertificateFetcher", "load_trusted_cas", "verify_fetched"]


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        rest = self.end - time.monotonic()
        if rest <= 0:
            raise PassportFetchError("Fetching the certificate took too long.")
        return rest


class CertificateFetcher:
    """Fetch the certificate chain at an ``x5u`` URL.

    * only hosts in ``allowed_hosts`` (see ``normalise_host_pattern``) are fetched from; any other
      host raises ``PassportHostNotAllowed`` before anything is resolved or connected to. An empty
      allowlist, the default, means fetching is off;
    * HTTPS only (plain HTTP only with ``allow_http``, for tests and closed networks), the server
      certificate checked against ``ssl_context`` (default: the system CAs) with host name checking
      on (a context that does not verify is refused);
    * no redirects, no proxy, no credentials in the URL;
    * at most ``max_bytes`` read, at most ``timeout`` seconds from connecting to the last byte;
    * the whole chain cached per URL for ``cache_ttl`` seconds (``max_entries`` URLs at most).

    ``fetch`` returns the DER of each certificate of the PEM bundle, the end-entity first. Whether
    the chain is trusted is ``verify_fetched``'s business: it needs the trusted CAs.
    """

    def __init__(self, *, allowed_hosts: Sequence[str] = (), allow_http: bool = False,
                 max_bytes: int = 64 * 1024, timeout: float = 2.0, cache_ttl: int = 3600,
                 ssl_context: ssl.SSLContext | None = None, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 1024) -> None:
        if isinstance(allowed_hosts, str):
            raise ConfigurationError("allowed_hosts must be a list of host names, not one string.")
        try:
            self.allowed_hosts = tuple(dict.fromkeys(normalise_host_pattern(h) for h in allowed_hosts))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"The x5u host allowlist has a bad entry: {exc}.") from None
        if ssl_context is not None and (ssl_context.verify_mode != ssl.CERT_REQUIRED
                                        or not ssl_context.check_hostname):
            raise ConfigurationError("The x5u TLS context must verify certificates and host names.")
        self.allow_http = allow_http
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.max_entries = max_entries
        self._ssl_context = ssl_context
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[bytes, ...]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> CertificateFetcher:
        """A fetcher configured by ``POSTGUARD_X5U_*`` (``settings`` is a ``postguard.settings.Settings``)."""
        options: dict[str, Any] = {
            "allowed_hosts": settings.x5u_allowed_hosts, "max_bytes": settings.x5u_max_bytes,
            "timeout": settings.x5u_timeout_seconds, "cache_ttl": settings.x5u_cache_seconds,
        }
        options.update(overrides)
        return cls(**options)

    def check_url(self, url: str) -> None:
        """Raise unless ``url`` may be fetched: scheme, no credentials, a valid port, an allowed host.
        Pure: nothing is resolved or connected to."""
        if not isinstance(url, str) or not https_url(url, allow_http=self.allow_http):
            raise PassportFetchError("The certificate URL must be https" +
                                     (" or http." if self.allow_http else "."))
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise PassportFetchError("The certificate URL must not carry credentials.")
        try:
            parts.port  # noqa: B018 - raises for a bad port
        except ValueError:
            raise PassportFetchError("The certificate URL has a bad port.") from None
        if not host_allowed(parts.hostname or "", self.allowed_hosts):
            if not self.allowed_hosts:
                raise PassportHostNotAllowed("Fetching x5u certificates is off: no host is allowed "
                                             "(POSTGUARD_X5U_ALLOWED_HOSTS).")
            raise PassportHostNotAllowed("The certificate URL's host is not in the x5u allowlist.")

    def fetch(self, url: str) -> list[bytes]:
        self.check_url(url)
        with self._lock:
            hit = self._cache.get(url)
            if hit is not None and hit[0] > self._clock():
                return list(hit[1])
        chain = tuple(self._download(url))
        if self.cache_ttl > 0:
            with self._lock:
                now = self._clock()
                for k in [k for k, (exp, _) in self._cache.items() if exp <= now]:
                    del self._cache[k]
                while len(self._cache) >= self.max_entries:
                    del self._cache[next(iter(self._cache))]
                self._cache[url] = (now + self.cache_ttl, chain)
        return list(chain)

    def _download(self, url: str) -> list[bytes]:
        self.check_url(url)  # again: a subclass or a direct call must not skip it
        parts = urlsplit(url)
        host = parts.hostname or ""  # check_url refused a URL without a host
        port = parts.port
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        deadline = _Deadline(self.timeout)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            ctx = self._ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, port, timeout=deadline.left(), context=ctx)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=deadline.left())
        body = bytearray()
        try:
            conn.request("GET", path, headers={
                "Accept": "application/pem-certificate-chain, application/x-pem-file;q=0.9, */*;q=0.1",
                "User-Agent": "postguard-stir", "Connection": "close"})
            sock = conn.sock
            if sock is not None:
                sock.settimeout(deadline.left())
            resp = conn.getresponse()
            if 300 <= resp.status < 400:
                raise PassportFetchError("The certificate URL redirects; redirects are not followed.")
            if resp.status != 200:
                raise PassportFetchError(f"The certificate URL answered HTTP {resp.status}.")
            length = resp.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
                raise PassportFetchError("The certificate is larger than allowed.")
            while True:
                if sock is not None:
                    sock.settimeout(deadline.left())
                chunk = resp.read1(min(16384, self.max_bytes + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
                if len(body) > self.max_bytes:
                    raise PassportFetchError("The certificate is larger than allowed.")
                deadline.left()
        except PassportFetchError:
            raise
        except TimeoutError:
            raise PassportFetchError("Fetching the certificate took too long.") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise PassportFetchError(f"The certificate could not be fetched ({type(exc).__name__}).") from None
        finally:
            conn.close()
        try:
            return _x509.split_pem_certificates(data=bytes(body))
        except _x509.X509Error:
            raise PassportFetchError("The certificate URL did not return a PEM certificate chain.") from None


def load_trusted_cas(data: bytes | None, *, configured: bool = True) -> list[bytes]:
    """The DER of each CA certificate of a PEM bundle, for ``verify_fetched``'s ``trusted_cas``.

    ``None`` with ``configured`` (a file was named but is missing) and a bundle holding anything but
    loadable CA certificates raise ``ConfigurationError``: a trust store that silently trusts nothing
    (or the wrong thing) is a deployment error, not a verification result.
    """
    if data is None:
        if configured:
            raise ConfigurationError("The STIR trusted CA file does not exist.")
        return []
    try:
        certs = _x509.load_certificates(data=data)
    except _x509.X509Error as exc:
        raise ConfigurationError(f"The STIR trusted CA file cannot be read: {exc}.") from None
    if not all(c.is_ca for c in certs):
        raise ConfigurationError("The STIR trusted CA file holds a certificate that is not a CA.")
    return [c.der for c in certs]


def verify_fetched(token: str, *, fetcher: CertificateFetcher, trusted_cas: Sequence[bytes], now: int,
                   **options: Any) -> Passport:
    """Fetch the chain named by the (not yet trusted) ``x5u`` with ``fetcher``, then ``verify`` with
    the first certificate as signer, the rest as intermediates, and ``trusted_cas`` required: a
    certificate anyone can publish is worth nothing without a trusted CA.

    Before anything is fetched the token must pass the checks that need no certificate (format,
    ``alg``, ``typ`` and ``ppt``, the signature's length, an ``x5u`` that is a URL): junk costs no
    request. ``options`` are ``verify``'s."""
    options.setdefault("allow_http_x5u", fetcher.allow_http)
    x5u = unverified_x5u(token, ppt=options.get("ppt", PPT_SHAKEN), allow_http_x5u=options["allow_http_x5u"])
    if not trusted_cas:
        raise PassportChainError("Verifying a fetched certificate needs trusted CAs.")
    chain = fetcher.fetch(x5u)
    return verify(token, certificate=chain[0], intermediates=chain[1:], trusted_cas=trusted_cas,
                  now=now, **options)
