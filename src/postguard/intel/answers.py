"""The answer to a lookup (``POST /v1/check``, ``postguard intel check``), written from what was
graded: verdict, headline, reasons, official owner, notes and advice. Pure functions, no I/O."""

from __future__ import annotations

from typing import NamedTuple

from postguard.intel.models import Indicator
from postguard.intel.normalize import LINK_WARNINGS, Normal, shown_host, unicode_host
from postguard.intel.verdicts import SEVERITY, Verdict, judge_link
from postguard.lookalike.match import Hit

MUTE_NOTE = ("The holder of an account or wallet used in a scam may be a 'mule' who sold or lent it, or "
             "a victim whose account was taken over; reports say the account was used, not who holds it.")
HEADLINES = {
    "unknown": "No reports found. That does not mean it is safe.",
    "reported": "Reported as used in scams. Be careful.",
    "corroborated": "Reported by several independent sources as used in scams. Do not transfer money.",
    "confirmed": "Confirmed as used in scams. Do not transfer money, share codes or install anything.",
    "disputed": "Reported, but disputed: a review or an appeal is open. Be careful meanwhile.",
    "delisted": "Removed from the list after review. That does not mean it is safe.",
    "official": "Official channel of {org}.",
    "suspicious": "This link is disguised: it really goes to {host}. Do not open it or enter anything there.",
}
HEADLINE_LOOKALIKE = ("Imitates {brand}: the official site is {official}. Do not enter anything there.",
                      "Giả mạo {brand} — trang chính thức là {official}. Đừng nhập thông tin gì vào đó.")
LOOKALIKE_TEXT = {  # by technique: (English, Vietnamese)
    "fake_suffix": ("The address starts like {brand}'s ({official}) but belongs to another domain ({domain}).",
                    "Địa chỉ bắt đầu giống của {brand} ({official}) nhưng thuộc một tên miền khác ({domain})."),
    "homoglyph": ("The name uses letters that look like {brand}'s but are different.",
                  "Tên miền dùng các chữ cái trông giống tên {brand} nhưng là chữ khác."),
    "tld_swap": ("{brand}'s name on a domain that is not {brand}'s ({domain}).",
                 "Tên {brand} trên một tên miền không phải của {brand} ({domain})."),
    "subdomain": ("{brand}'s name put in front of another domain ({domain}).",
                  "Tên {brand} được đặt trước một tên miền khác ({domain})."),
    "combosquat": ("{brand}'s name combined with other words ({domain}).",
                   "Tên {brand} ghép thêm các từ khác ({domain})."),
    "typo": ("A misspelling of {brand}'s name ({domain}).", "Tên {brand} bị viết sai chính tả ({domain})."),
    "free_hosting": ("{brand}'s name on a free website builder ({domain}).",
                     "Tên {brand} trên một dịch vụ làm web miễn phí ({domain})."),
}
HEADLINE_SUSPICIOUS_VI = ("Liên kết này được ngụy trang: thực chất nó dẫn tới {host}. Đừng mở, đừng nhập thông tin "
                          "gì vào đó.")
IDN_NOTE = ("The domain has letters outside a-z; written as a browser sends it, it is {value}.",
            "Tên miền có chữ ngoài a-z; viết theo cách trình duyệt gửi đi, nó là {value}.")
OFFICIAL_REASONS = frozenset({"official_channel", "reports_under_review"})
ADVICE = ("A genuine courier never asks you to transfer money to a personal account, to tell an OTP code, "
          "to install an app or to pay a storage fee. When unsure, hang up and call the operator's official hotline.")
NO_REPORTS = {"code": "no_reports", "text": "Nothing has been reported about this yet."}


class Owner(NamedTuple):
    """Whose verified official channel an indicator is, as an answer shows it."""
    kind: str  # the channel's kind (``domain``, ``hotline``, ...)
    label: str
    org_code: str
    org_name: str


class Graded(NamedTuple):
    """One target of a lookup as graded: nothing stored (``indicator`` None), or its verdict and
    official owner."""
    target: Normal
    indicator: Indicator | None = None
    verdict: Verdict | None = None
    owner: Owner | None = None


def unknown_answer(n: Normal, targets: list[Normal]) -> dict:
    """``graded_answer`` when nothing is stored under any target, built directly (the common lookup)."""
    return {"type": n.type, "display": n.display, "verdict": "unknown", "score": 0,
            "headline": HEADLINES["unknown"], "reasons": [NO_REPORTS], "official": None, "notes": [],
            "related": [{"type": t.type, "display": t.display, "verdict": "unknown", "score": 0}
                        for t in targets[1:]], "advice": ADVICE}


def graded_answer(n: Normal, graded: list[Graded]) -> dict:
    """The answer for normal form ``n`` from its targets as graded (``n`` itself first)."""
    owned = next(((g, g.owner) for g in graded if g.owner is not None), None)
    main = graded[0]
    if owned is not None:
        official, owner = owned
        chosen = official.verdict
        headline = HEADLINES["official"].format(org=owner.org_name)
        official_out = {"org": owner.org_code, "name": owner.org_name, "kind": owner.kind, "label": owner.label,
                        "via": official.target.type, "display": official.target.display}
    else:
        official_out = None
        found = [g.verdict for g in graded if g.verdict is not None]
        worst = max(found, key=lambda v: SEVERITY[v.verdict], default=None)
        chosen = worst if worst is not None and SEVERITY[worst.verdict] > 0 else (main.verdict or None)
        verdict_name = chosen.verdict if chosen else "unknown"
        headline = HEADLINES[verdict_name]
    verdict_name = chosen.verdict if chosen else "unknown"
    notes: list[dict[str, str]] = []
    out = {
        "type": n.type,
        "display": n.display,
        "verdict": verdict_name,
        "score": chosen.score if chosen else 0,
        "headline": headline,
        "reasons": [r.as_dict() for r in chosen.reasons] if chosen else [NO_REPORTS],
        "official": official_out,
        "notes": notes,
        "related": [{"type": g.target.type, "display": g.target.display,
                     "verdict": g.verdict.verdict if g.verdict else "unknown",
                     "score": g.verdict.score if g.verdict else 0} for g in graded[1:]],
        "advice": ADVICE,
    }
    if n.type in ("bank_account", "ewallet") and verdict_name not in ("unknown", "official", "delisted"):
        notes.append({"code": "holder_may_be_mule_or_victim", "text": MUTE_NOTE})
    return out


def link_answer(n: Normal, answer: dict) -> dict:
    """The answer for the written form looked up: ``answer`` (graded, and kept, per normal form)
    with what the link's writing adds. A deceptive link (``n.warnings``) is ``suspicious`` at
    least and never official, each warning explained in Vietnamese and English; a link's host
    is shown in both forms (Unicode and the A-labels a browser sends)."""
    if n.type != "url" and not n.warnings:
        return answer
    out = dict(answer)
    host = n.host or ""
    out["link"] = {"host": host, "host_unicode": unicode_host(host), "shown": shown_host(host),
                   "domain": n.domain, "deceptive": bool(n.warnings), "warnings": [code for code, _ in n.warnings]}
    if host != out["link"]["host_unicode"]:
        out["notes"] = [*answer["notes"], {"code": "idn_host", "text": IDN_NOTE[0].format(value=host),
                                           "text_vi": IDN_NOTE[1].format(value=host), "value": host}]
    if not n.warnings:
        return out
    verdict = judge_link(answer["verdict"], n.warnings)
    reasons = [{"code": f"link_{code}", "text": LINK_WARNINGS[code][1].format(value=value),
                "text_vi": LINK_WARNINGS[code][0].format(value=value), "value": value}
               for code, value in n.warnings]
    out["reasons"] = reasons + [r for r in answer["reasons"] if r["code"] not in OFFICIAL_REASONS]
    out["official"] = None
    if verdict != answer["verdict"]:
        shown = shown_host(host) if host else "?"
        out.update(verdict=verdict, headline=HEADLINES["suspicious"].format(host=shown),
                   headline_vi=HEADLINE_SUSPICIOUS_VI.format(host=shown))
    return out


def lookalike_answer(answer: dict, hit: Hit | None, stored: str) -> dict:
    """``answer`` (with what the link's writing adds) for a link or domain whose host imitates a brand
    (``hit``): ``lookalike`` naming the brand and its official site, unless graded graver
    (``corroborated``, ``confirmed``: kept, with the brand named), or unless what is stored about it
    (``stored``, the verdict graded before the link's writing was judged) is official or delisted: an
    analyst who dismissed it is not contradicted (a deceptively written link stays ``suspicious``)."""
    if hit is None or stored in ("official", "delisted") or answer["verdict"] in ("official", "delisted"):
        return answer
    out = dict(answer)
    official = hit.official[0] if hit.official else ""
    text = LOOKALIKE_TEXT[hit.technique]
    out["lookalike"] = {"brand": hit.brand, "official": list(hit.official), "technique": hit.technique,
                        "score": hit.score, "campaign": hit.campaign, "reasons": [r.as_dict() for r in hit.reasons]}
    reason = {"code": f"lookalike_{hit.technique}", "text": text[0].format(brand=hit.brand, official=official,
                                                                           domain=hit.domain),
              "text_vi": text[1].format(brand=hit.brand, official=official, domain=hit.domain), "value": hit.host}
    out["reasons"] = [reason, *[r for r in answer["reasons"] if r["code"] != NO_REPORTS["code"]]]
    if SEVERITY[answer["verdict"]] <= SEVERITY["reported"]:  # unknown, disputed, suspicious, reported
        out.update(verdict="lookalike", score=max(answer["score"], hit.score),
                   headline=HEADLINE_LOOKALIKE[0].format(brand=hit.brand, official=official),
                   headline_vi=HEADLINE_LOOKALIKE[1].format(brand=hit.brand, official=official))
    return out
