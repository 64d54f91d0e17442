"""Matching a hostname against every protected brand at once.

One pass of a multi-pattern automaton (Aho-Corasick, ``pyahocorasick``) over the skeleton of all the
name's labels finds, together: every long brand token (exact, anywhere: the brand on another TLD, in a
subdomain, before a fake suffix, combined with words), every short token glued to a context word
(``acbbank``), and every *piece* of a long token, the seeds of typos: a token of ``n`` letters with at
most ``d`` edits keeps one of its ``d + 1`` pieces intact, so a misspelled brand, even inside a longer
label, always shows one. Each seed is checked with a compiled edit distance (``rapidfuzz``'s optimal
string alignment, i.e. Damerau-Levenshtein without repeated edits of a substring): first one
longest-common-subsequence bound over the region, then the few windows around the seed. Short tokens
(``acb``, ``vib``, ``ghn``) are looked up as whole words of a label only.

Every candidate is scored (``postguard.lookalike.score``); the best is the hit when it reaches the
threshold. A name under an official domain of any brand is never a hit."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

import ahocorasick
from rapidfuzz.distance import OSA, LCSseq

from postguard.lookalike.brands import CONTEXT_WORDS, LONG, BrandModel, stem_of
from postguard.lookalike.normal import Host, fold_table, skeleton, split_host, suffix_list
from postguard.lookalike.score import BASE, CONTEXT, SUFFIX_WORDS, TECHNIQUE_TEXT, THRESHOLD, Reason, letter_runs, modifiers

# Free hosting and site builders: a brand in the site's name is the brand on someone else's site.
# Those on the public suffix list are suffixes (``shopee-vn.vercel.app``); the others are registrable
# domains whose next label is the site (``shopee-vn.weebly.com``).
FREE_HOSTS = frozenset((
    "vercel.app", "netlify.app", "github.io", "gitlab.io", "pages.dev", "workers.dev", "r2.dev", "web.app",
    "firebaseapp.com", "herokuapp.com", "blogspot.com", "wixsite.com", "weebly.com", "weeblysite.com",
    "000webhostapp.com", "glitch.me", "wordpress.com", "square.site", "webflow.io", "carrd.co", "godaddysites.com",
    "mystrikingly.com", "jimdosite.com", "yolasite.com", "site123.me", "tiiny.site", "surge.sh", "onrender.com",
    "fly.dev", "azurewebsites.net", "appspot.com", "repl.co", "replit.app", "ngrok.io", "ngrok-free.app",
    "trycloudflare.com", "bitbucket.io", "framer.website", "framer.app", "canva.site", "notion.site",
    "business.site", "google.com", "sites.google.com", "wix.com", "mobirisesite.com", "ladipage.me",
    "ladi.me", "cloudfront.net", "amplifyapp.com", "translate.goog",
))
_WORD_EDGE = frozenset("-0123456789")
MAX_OFFICIAL_SHOWN = 20  # a hit names at most this many of its brand's official domains, main site first
_FOLDED_WORDS = re.compile(r"[a-z]+")
_RUNS = re.compile(r"[a-z0-9]+")
_DIGITS_AS_L = str.maketrans("01", "ol")
_DIGITS_AS_I = str.maketrans("01", "oi")


class Hit(NamedTuple):
    host: str
    domain: str  # registrable
    brand: str
    official: tuple[str, ...]
    technique: str
    score: int
    reasons: tuple[Reason, ...]
    campaign: str
    token: str
    distance: int

    def as_dict(self) -> dict:
        return {"host": self.host, "domain": self.domain, "brand": self.brand,
                "official": list(self.official[:MAX_OFFICIAL_SHOWN]),
                "technique": self.technique, "score": self.score,
                "reasons": [r.as_dict() for r in self.reasons], "campaign": self.campaign}


class _Found(NamedTuple):
    brand: int
    token: str
    technique: str
    strength: str
    label: int
    start: int  # in the label's skeleton
    end: int
    distance: int


def _pieces(token: str, d: int) -> list[tuple[str, int]]:
    n, parts = len(token), d + 1
    cuts = [round(i * n / parts) for i in range(parts + 1)]
    return [(token[a:b], a) for a, b in zip(cuts, cuts[1:], strict=False)]


def max_distance(token: str) -> int:
    """Edits a misspelling of ``token`` may have: none under 6 letters, 1 up to 8, 2 from 9."""
    return 0 if len(token) < 6 else 1 if len(token) < 9 else 2


class Matcher:
    """Every brand of a ``BrandModel``, compiled once; ``match`` is thread-safe and pure."""

    def __init__(self, model: BrandModel, *, threshold: int = THRESHOLD) -> None:
        self.model = model
        self.threshold = threshold
        self.tokens: dict[str, int] = {}
        self.short: dict[str, int] = {}
        patterns: dict[str, list[tuple]] = {}
        for token, brand in model.tokens():
            if len(token) >= LONG:
                self.tokens.setdefault(token, brand)
                patterns.setdefault(token, []).append(("x", brand, token, len(token)))
                d = max_distance(token)
                if d:
                    for piece, offset in _pieces(token, d):
                        n = len(piece)
                        # the piece, and the piece as a transposition across its cut leaves it
                        variants = {piece}
                        if offset + n < len(token):
                            variants.add(piece[:-1] + token[offset + n])
                        if offset > 0:
                            variants.add(token[offset - 1] + piece[1:])
                        for v in variants:
                            patterns.setdefault(v, []).append(("p", brand, token, offset, d, n))
            else:
                self.short.setdefault(token, brand)
                for word in CONTEXT_WORDS:
                    for glued in (token + word, word + token):
                        key = skeleton(glued)
                        patterns.setdefault(key, []).append(("c", brand, token, len(key)))
        self.stems = {t: stem_of(t) for t in self.tokens}
        self.glue = tuple(sorted({*CONTEXT_WORDS, *CONTEXT}, key=len, reverse=True))
        self._automaton = ahocorasick.Automaton()
        for key, payloads in patterns.items():
            self._automaton.add_word(key, tuple(payloads))
        if patterns:
            self._automaton.make_automaton()
        self._fold = fold_table()

    # -- one name ---------------------------------------------------------------------------------
    def match(self, raw: str) -> Hit | None:
        """The lookalike ``raw`` is (best-scored, at or over the threshold), or None."""
        found = self._candidates(raw)
        if found is None:
            return None
        host, parent, labels, items = found
        best: Hit | None = None
        for f in items:  # the best score; among equals, the brand found as written, then the longest name
            hit = self._judge(host, parent, labels, f)
            if best is None or (hit.score, hit.technique != "typo", len(hit.token)) > \
                    (best.score, best.technique != "typo", len(best.token)):
                best = hit
        return best if best is not None and best.score >= self.threshold else None

    def _candidates(self, raw: str) -> tuple[Host, str | None, tuple[str, ...], list[_Found]] | None:
        host = split_host(raw)
        if host is None:
            return None
        reg = host.registrable
        if reg in self.model.official:
            return None
        labels = host.labels
        parent = None
        if host.suffix in FREE_HOSTS:
            parent = host.suffix
        elif reg in FREE_HOSTS and len(labels) >= 2:
            parent, labels = reg, labels[:-1]
        sks = [skeleton(label) for label in labels]
        joined = ".".join(sks)
        starts = [0]
        for sk in sks[:-1]:
            starts.append(starts[-1] + len(sk) + 1)
        items: list[_Found] = []
        checked: set[tuple[str, int, int]] = set()
        site = len(labels) - 1
        for end, payloads in self._automaton.iter(joined) if self.tokens or self.short else ():
            for p in payloads:
                if p[0] == "p":
                    self._typo(p, end, starts, labels, sks, checked, items)
                    continue
                length = p[3]
                li = bisect_right(starts, end - length + 1) - 1
                s = end - length + 1 - starts[li]
                items.append(self._exact(p[1], p[2], li, s, s + length, labels, sks, site, parent,
                                         "long" if p[0] == "x" else "context"))
        # Short tokens: whole words of a label only (letters between hyphens, dots and digits).
        for li, label in enumerate(labels):
            folded = label if label.isascii() else label.lower().translate(self._fold)
            brand = self.short.get(sks[li])
            if brand is not None and sks[li] != folded:  # ``rnomo``: a short brand drawn with other letters
                items.append(_Found(brand, sks[li], "homoglyph", "whole" if li == site else "part", li, 0,
                                    len(sks[li]), 0))
            for m in _RUNS.finditer(folded) if "0" in folded or "1" in folded else ():
                run = m.group()
                if run.isalpha():
                    continue
                for variant in (run.translate(_DIGITS_AS_L), run.translate(_DIGITS_AS_I)):
                    brand = self.short.get(variant)
                    if brand is not None:  # ``b1dv``, ``m0mo``: a short brand drawn with digits
                        items.append(_Found(brand, variant, "homoglyph", "whole" if run == folded and li == site
                                            else "part", li, m.start(), m.end(), 0))
                        break
            for m in _FOLDED_WORDS.finditer(folded):
                brand = self.short.get(m.group())
                if brand is not None and folded != label.lower() and m.group() not in label:
                    # ``ọcb``: a short brand with a diacritic or another script's letter
                    items.append(_Found(brand, m.group(), "homoglyph", "whole" if m.group() == folded and li == site
                                        else "part", li, m.start(), m.end(), 0))
                elif brand is not None:
                    numbered = m.end() < len(folded) and folded[m.end()].isdigit()  # ``acb396``: as glued
                    items.append(self._exact(brand, m.group(), li, m.start(), m.end(), labels,
                                             [folded if i == li else sk for i, sk in enumerate(sks)],
                                             site, parent, "context" if numbered else "short"))
        return host, parent, labels, items

    def _where(self, li: int, site: int, parent: str | None, labels, sks, s: int, e: int, *,
               whole: bool) -> tuple[str, bool]:
        """The technique of a brand found in label ``li`` (the site's label is ``site``)."""
        if li < site:
            nxt = sks[li + 1]
            first = letter_runs(nxt[:8])
            if e == len(sks[li]) and first and nxt.startswith(first[0]) and \
                    (first[0] in SUFFIX_WORDS or suffix_list().publicsuffix(first[0]) == first[0]):
                return "fake_suffix", True  # ``brand.com.vn-xyz.top``, ``zalo.me.xac-minh.xyz``
            return "subdomain", True
        if parent is not None:
            return "free_hosting", True
        return ("tld_swap" if whole else "combosquat"), False

    def _exact(self, brand: int, token: str, li: int, s: int, e: int, labels, sks, site: int,
               parent: str | None, size: str) -> _Found:
        sk = sks[li]
        whole = s == 0 and e == len(sk)
        technique, _ = self._where(li, site, parent, labels, sks, s, e, whole=whole)
        raw = labels[li]
        if size == "long" and token not in raw and technique in ("tld_swap", "combosquat"):
            return _Found(brand, token, "homoglyph", "whole" if whole else "part", li, s, e, 0)
        if size == "context":  # a short brand glued to a word of its trade, a scam word or a number
            return _Found(brand, token, "combosquat" if technique == "tld_swap" else technique, "context",
                          li, s, e, 0)
        if technique == "combosquat":
            if size == "short":
                strength = "short4" if len(token) == 4 else "short"
            else:
                edge = raw.lower() if len(raw) == len(sk) else sk  # digits folded to letters are still digits
                edges = (s == 0 or edge[s - 1] in _WORD_EDGE) and (e == len(sk) or edge[e] in _WORD_EDGE)
                if not edges:  # glued to a word of the trade or a scam word (``vietcombankvn``) is a word
                    before, after = sk[:s], sk[e:]
                    edges = (not before or before[-1] in _WORD_EDGE or before.endswith(self.glue)) and \
                        (not after or after[0] in _WORD_EDGE or after.startswith(self.glue))
                    extra = len(sk) - (e - s)
                    if not edges and extra <= max_distance(token) and "-" not in sk \
                            and not any(c.isdigit() for c in raw):
                        # ``shopeee``: the brand with a letter or two more is a misspelling of it
                        return _Found(brand, token, "typo", f"whole{extra}", li, s, e, extra)
                strength = "word" if edges else "glued" if len(token) >= 7 else "glued_short"
        else:
            strength = "long" if size == "long" else "short4" if len(token) == 4 else "short"
        return _Found(brand, token, technique, strength, li, s, e, 0)

    def _typo(self, p: tuple, end: int, starts: list[int], labels: tuple[str, ...], sks: list[str], checked: set,
              items: list[_Found]) -> None:
        _, brand, token, offset, d, length = p
        li = bisect_right(starts, end) - 1
        sk = sks[li]
        n = len(token)
        s0 = end - starts[li] - length + 1 - offset  # where the token starts if the piece is in its place
        if token in sk:  # the brand itself is there: not a misspelling of it
            return
        key = (token, li, s0)
        if key in checked:
            return
        checked.add(key)
        lo, hi = max(0, s0 - d), min(len(sk), s0 + n + d)
        if hi - lo < n - d or LCSseq.similarity(token, sk[lo:hi]) < n - d:
            return
        best: tuple[int, int, int] | None = None
        best_rank: tuple[int, int, int] | None = None
        for a in range(max(0, s0 - d), min(len(sk), s0 + d) + 1):
            for b in range(max(a + n - d, a + 1), min(len(sk), a + n + d) + 1):
                window = sk[a:b]
                dist = OSA.distance(window, token, score_cutoff=d)
                if 0 < dist <= d and window not in self.tokens:
                    edges = (a == 0 or sk[a - 1] in _WORD_EDGE) and (b == len(sk) or sk[b] in _WORD_EDGE)
                    rank = (dist, 0 if a == 0 and b == len(sk) else 1 if edges else 2, abs(b - a - n))
                    if best_rank is None or rank < best_rank:
                        best, best_rank = (dist, a, b), rank
        if best is None:
            return
        dist, a, b = best
        stem = self.stems[token]
        if stem != token:  # the misspelling may not undo the distinctive part: ``lebank`` is not ``lpbank``
            k = len(stem)
            allowed = 0 if k <= 3 else 1
            if min(OSA.distance(sk[a:a + m], stem) for m in (k - 1, k, k + 1)) > allowed:
                return
        whole = a == 0 and b == len(sk)
        edge = labels[li].lower() if len(labels[li]) == len(sk) else sk
        edges = (a == 0 or edge[a - 1] in _WORD_EDGE) and (b == len(sk) or edge[b] in _WORD_EDGE)
        strength = f"{'whole' if whole else 'word' if edges else 'glued'}{dist}"
        items.append(_Found(brand, token, "typo", strength, li, a, b, dist))

    def _judge(self, host: Host, parent: str | None, labels: tuple[str, ...], f: _Found) -> Hit:
        brand = self.model.brands[f.brand]
        site = len(labels) - 1
        label = labels[f.label]
        strength = f.strength
        if f.technique == "typo" and f.label < site and strength.startswith("whole"):
            strength = "word" + strength[-1]  # a misspelled brand as a subdomain: less sure than as the name
        if f.technique == "homoglyph" and f.label < site:
            strength = "part"
        base = BASE.get((f.technique, strength), 25)
        shown = label[f.start:f.end] if label.isascii() else label
        text = TECHNIQUE_TEXT[f.technique].format(token=f.token, shown=shown, distance=f.distance,
                                                  rest=".".join(labels[f.label + 1:f.label + 3]) or host.suffix,
                                                  parent=parent or "")
        reasons = [Reason(f.technique, base, text)]
        if host.idn and f.technique != "homoglyph":
            reasons.append(Reason("idn", 10, "letters outside a-z (an internationalised name)"))
        words = []
        for lab in labels:
            folded = lab if lab.isascii() else lab.lower().translate(self._fold)
            runs = letter_runs(folded)
            if any(c.isdigit() for c in folded):  # ``h0tro``, ``xacm1nh``: scam words disguised too
                runs += letter_runs(folded.translate(_DIGITS_AS_I)) + letter_runs(folded.translate(_DIGITS_AS_L))
            for run in runs:  # and the words glued to the brand: ``momovay``, ``tikivn``
                words.append(run)
                if f.token in run and run != f.token:
                    words.extend(part for part in run.split(f.token) if part)
        tld = host.suffix.rsplit(".", 1)[-1]
        reasons.extend(modifiers(words, tld, label, f.token, short=len(f.token) < LONG))
        score = min(100, sum(r.points for r in reasons))
        return Hit(host.host, host.registrable, brand.name, tuple(brand.official), f.technique, score,
                   tuple(reasons), campaign_of(host, parent, labels, f), f.token, f.distance)


_DIGIT_RUN = re.compile(r"\d+")


def campaign_of(host: Host, parent: str | None, labels: tuple[str, ...], f: _Found) -> str:
    """The template a hit shares with its campaign's other names: a brand in subdomains of one
    domain is that domain's campaign (``*.tra-cuu.xyz``); otherwise the name with the brand as
    ``{brand}`` and digit runs as ``<N>`` (``{brand}<N>.vip``, ``{brand}-cskh.top``)."""
    site = len(labels) - 1
    tail = parent or host.suffix
    if f.label < site:
        return "*." + (f"{labels[site]}.{tail}" if parent is None else f"{labels[site]}.{parent}")
    label = labels[f.label]
    sk = skeleton(label) if label.isascii() else label
    if label.isascii() and len(sk) == len(label):
        template = label[:f.start] + "{brand}" + label[f.end:]
    else:
        template = "{brand}"
    return _DIGIT_RUN.sub("<N>", template) + "." + tail
