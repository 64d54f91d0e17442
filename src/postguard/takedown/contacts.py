"""Who to ask to take a site down, and at which address (pure: no I/O, no WHOIS, no DNS).

Each confirmed site gets one request per recipient kind:

- ``registrar``: the domain's registrar or registry. For names under ``.vn`` it is VNNIC, the
  registry (its DNS abuse report portal); for other top-level domains the analyst enters the
  registrar's abuse contact (no WHOIS at run time), unless ``REGISTRIES`` knows the registry's.
- ``hosting``: the hosting provider, whose abuse contact the analyst enters.
- ``platform``: for a site on a free-hosting or site-builder parent (``PLATFORMS``), the platform
  itself; such a site has no registrar or hosting request of its own (the platform is both).

A recipient that cannot be determined gets a request without a contact ("needs a contact"): nothing
is invented. An analyst's entry always wins over a built-in one.

Where the built-in entries come from: each names the page the provider publishes for abuse reports
(``source``), as read when the table was compiled (2026-12). postguard never fetches them; they change,
so check them before relying on them in production, and prefer an address the analyst confirmed.
Entries whose provider stopped hosting sites are kept, marked, since old sites may still be reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from postguard.errors import FieldError, InvalidInput

KINDS = ("registrar", "hosting", "platform")


@dataclass(frozen=True)
class Contact:
    """An abuse desk: a name and an e-mail address and/or a web form; ``source`` says where it came
    from (``analyst``, ``builtin:<key>``) and ``reference`` the page that publishes it."""

    name: str
    email: str | None = None
    url: str | None = None
    source: str = "analyst"
    reference: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Recipient:
    kind: str
    contact: Contact | None  # None: needs a contact

    @property
    def name(self) -> str:
        if self.contact is not None:
            return self.contact.name
        return {"registrar": "Registrar (needs a contact)", "hosting": "Hosting provider (needs a contact)",
                "platform": "Platform (needs a contact)"}[self.kind]


# Registries keyed by top-level domain (the last label): only those that take abuse reports about
# names under them. .vn: VNNIC's DNS abuse report portal, opened 14 May 2024
# (https://baocaolamdungdns.vnnic.vn/, also https://dnsabuse.vnnic.vn/); reports are filed there
# with an account, so the request is marked sent by hand after the pack is uploaded.
REGISTRIES: dict[str, Contact] = {
    "vn": Contact("VNNIC — Trung tâm Internet Việt Nam (registry of .vn)", url="https://baocaolamdungdns.vnnic.vn/",
                  source="builtin:registry:vn", reference="https://baocaolamdungdns.vnnic.vn/gioi-thieu",
                  note="Web portal with an account: upload the pack there, then set the status to sent."),
}

# Free-hosting and site-builder parents: a site at <name>.<parent> (or under the parent's paths) is
# the platform's to remove. Each entry: the provider's published abuse channel and its page.
PLATFORMS: dict[str, Contact] = {
    "github.io": Contact("GitHub (GitHub Pages)", url="https://support.github.com/contact/report-abuse",
                         source="builtin:platform:github.io",
                         reference="https://docs.github.com/en/communities/maintaining-your-safety-on-github/"
                                   "reporting-abuse-or-spam"),
    "vercel.app": Contact("Vercel", email="abuse@vercel.com", url="https://vercel.com/abuse",
                          source="builtin:platform:vercel.app", reference="https://vercel.com/abuse"),
    "netlify.app": Contact("Netlify", url="https://www.netlify.com/abuse/", source="builtin:platform:netlify.app",
                           reference="https://www.netlify.com/abuse/"),
    "pages.dev": Contact("Cloudflare (Pages)", url="https://abuse.cloudflare.com/", source="builtin:platform:pages.dev",
                         reference="https://www.cloudflare.com/trust-hub/reporting-abuse/"),
    "workers.dev": Contact("Cloudflare (Workers)", url="https://abuse.cloudflare.com/",
                           source="builtin:platform:workers.dev",
                           reference="https://www.cloudflare.com/trust-hub/reporting-abuse/"),
    "blogspot.com": Contact("Google (Blogger)", url="https://reportcontent.google.com/",
                            source="builtin:platform:blogspot.com",
                            reference="https://support.google.com/blogger/answer/76315"),
    "sites.google.com": Contact("Google (Sites)", url="https://reportcontent.google.com/",
                                source="builtin:platform:sites.google.com",
                                reference="https://support.google.com/legal/answer/3110420"),
    "firebaseapp.com": Contact("Google (Firebase Hosting)", url="https://firebase.google.com/support/troubleshooter/report/abuse",
                               source="builtin:platform:firebaseapp.com",
                               reference="https://firebase.google.com/support/troubleshooter/report/abuse"),
    "web.app": Contact("Google (Firebase Hosting)", url="https://firebase.google.com/support/troubleshooter/report/abuse",
                       source="builtin:platform:web.app",
                       reference="https://firebase.google.com/support/troubleshooter/report/abuse"),
    "weebly.com": Contact("Weebly (Square)", url="https://www.weebly.com/abuse", source="builtin:platform:weebly.com",
                          reference="https://www.weebly.com/abuse"),
    "wixsite.com": Contact("Wix", url="https://www.wix.com/abuse", source="builtin:platform:wixsite.com",
                           reference="https://www.wix.com/abuse"),
    "herokuapp.com": Contact("Heroku (Salesforce)", email="abuse@heroku.com", source="builtin:platform:herokuapp.com",
                             reference="https://www.heroku.com/policy/aup"),
    "glitch.me": Contact("Glitch (Fastly)", url="https://glitch.com/", source="builtin:platform:glitch.me",
                         reference="https://glitch.com/", note="Glitch ended project hosting in July 2025."),
    "000webhostapp.com": Contact("000webhost (Hostinger)", email="abuse@hostinger.com",
                                 source="builtin:platform:000webhostapp.com",
                                 reference="https://www.hostinger.com/legal/abuse",
                                 note="000webhost closed in 2024; Hostinger's abuse desk answers for it."),
}

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")
_URL = re.compile(r"^https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[\x21-\x7e]*)?$")
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput("The contact was refused.", [FieldError(field, message)])


def analyst_contact(field: str, *, name: str | None, email: str | None, url: str | None) -> Contact | None:
    """An abuse contact an analyst entered (``field``: where, for errors), checked: an e-mail address
    (one, plain, ASCII), an https URL, a name without control characters. None when nothing was
    entered."""
    name, email, url = (name or "").strip(), (email or "").strip(), (url or "").strip()
    if not (email or url):
        if name:
            raise _bad(f"{field}.email", "give an e-mail address or a web form (https URL) with the name")
        return None
    if email and not _EMAIL.fullmatch(email):
        raise _bad(f"{field}.email", "one e-mail address such as abuse@example.com")
    if url and not _URL.fullmatch(url):
        raise _bad(f"{field}.url", "an https:// URL of at most 500 characters")
    if len(url) > 500:
        raise _bad(f"{field}.url", "an https:// URL of at most 500 characters")
    if name and not _NAME.fullmatch(name):
        raise _bad(f"{field}.name", "at most 200 characters, no control characters")
    return Contact(name or (email.split("@")[1] if email else url.split("/")[2]), email=email or None,
                   url=url or None, source="analyst")


def platform_of(host: str, *, path: str | None = None) -> str | None:
    """The parent in ``PLATFORMS`` that ``host`` is a site of: a name below it, or the parent itself
    with a path (``sites.google.com/view/...``). None otherwise."""
    for parent in PLATFORMS:
        if host.endswith("." + parent):
            return parent
        if host == parent and path not in (None, "", "/"):
            return parent
    return None


def is_platform_parent(host: str) -> bool:
    """``host`` is one of the parents themselves (``vercel.app``): the platform, not a site on it."""
    return host in PLATFORMS


def recipients(*, host: str, registrable: str | None, path: str | None = None,
               registrar: Contact | None = None, hosting: Contact | None = None,
               platform_contact: Contact | None = None) -> list[Recipient]:
    """The recipients of a site's takedown requests, in the order they are created. ``registrable``:
    the registrable domain (None for an IP address: no registrar). Contacts the analyst entered win."""
    parent = platform_of(host, path=path)
    if parent is not None:
        return [Recipient("platform", platform_contact or PLATFORMS[parent])]
    out = []
    if registrable is not None:
        tld = registrable.rsplit(".", 1)[-1]
        out.append(Recipient("registrar", registrar or REGISTRIES.get(tld)))
    out.append(Recipient("hosting", hosting))
    return out
