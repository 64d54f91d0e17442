"""Host allowlists: one entry's canonical form, and whether a host matches a list. Pure functions.

Used by settings validation (``POSTGUARD_X5U_ALLOWED_HOSTS``) and by the x5u certificate fetcher
(``callerid.stir.fetch.CertificateFetcher``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

_DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def normalise_host_pattern(pattern: str) -> str:
    """One allowlist entry in canonical form, or ``ValueError`` (``TypeError`` for a non-string).

    An entry is a host name (ASCII; IDNs in their ``xn--`` form), an IP address, or ``*.`` and a host
    name, which matches any name *below* that one (``*.example.vn`` matches ``cr.example.vn`` and
    ``a.b.example.vn``, not ``example.vn``). Case and a trailing dot are ignored. No scheme, port,
    path or other wildcard.
    """
    if not isinstance(pattern, str):
        raise TypeError("a host must be a string")
    p = pattern.strip().lower().rstrip(".")
    wildcard = p.startswith("*.")
    name = p[2:] if wildcard else p
    if not name:
        raise ValueError("empty host")
    if not wildcard:
        try:
            return str(ipaddress.ip_address(name.strip("[]")))
        except ValueError:
            pass
    labels = name.split(".")
    if len(name) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"not a host name: {pattern!r}")
    if labels[-1].isdigit():
        raise ValueError(f"not a host name or IP address: {pattern!r}")
    if wildcard and len(labels) < 2:
        raise ValueError(f"a wildcard needs a domain of at least two labels: {pattern!r}")
    return ("*." if wildcard else "") + name


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """Whether ``host`` (as ``urlsplit`` returns it) matches one of the normalised ``patterns``."""
    if not host:
        return False
    h = host.lower().rstrip(".")
    try:
        h = str(ipaddress.ip_address(h))
        is_ip = True
    except ValueError:
        is_ip = False
    for p in patterns:
        if p.startswith("*."):
            if not is_ip and h.endswith(p[1:]) and len(h) > len(p) - 1:
                return True
        elif h == p:
            return True
    return False
