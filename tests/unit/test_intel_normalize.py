"""Indicator normal forms: every written form gives one normal form, normal forms are fixed points,
garbage gets a clear InvalidInput (and never another exception)."""

from urllib.parse import urlsplit

import ada_url
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.intel.banks import BANKS, WALLETS
from postguard.intel.normalize import TYPES, detect, normalize
from postguard.synthetic import MOBILE_PREFIXES
from tests.unit.test_phones import written_forms

subscriber = st.integers(min_value=0, max_value=10**7 - 1).map(lambda n: f"{n:07d}")
mobile_nsn = st.builds(lambda p, s: p + s, st.sampled_from(MOBILE_PREFIXES), subscriber)
account = st.text(alphabet="0123456789", min_size=6, max_size=16)
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
tld = st.sampled_from(["com", "vn", "com.vn", "net", "org", "info", "gov.vn", "xyz", "shop"])
path_seg = st.from_regex(r"[A-Za-z0-9_~-]{1,12}", fullmatch=True)


def _fixed_point(n):
    again = normalize(n.value, n.type)
    assert (again.type, again.value) == (n.type, n.value)


@given(mobile_nsn)
def test_phone_every_form_one_normal_form(nsn):
    found = {(n.type, n.value) for n in (detect(f) for f in written_forms(nsn))}
    assert found == {("phone", "+84" + nsn)}
    _fixed_point(detect("0" + nsn))
    assert detect("0" + nsn).display.endswith(nsn[-3:]) and nsn[:-3] not in detect("0" + nsn).display


@pytest.mark.parametrize("raw", ["1900 54 54 81", "1900545481", "+84 1900 545481", "1900.54.54.81"])
def test_service_hotlines(raw):
    assert detect(raw).value == "+841900545481"


@pytest.mark.parametrize("raw,value", [("+44 56 1234 5678", "+445612345678"), ("0044 5612 345678", "+445612345678"),
                                       ("0672 012 345", "+84672012345"), ("+44 70 1234 5678", "+447012345678")])
def test_voip_and_personal_numbers_are_phones(raw, value):
    """What scam calls come from can be reported and looked up: one normal form, masked."""
    n = detect(raw)
    assert (n.type, n.value) == ("phone", value) and n.display == "*******" + value[-3:]
    _fixed_point(n)


def _group(digits: str, sep: str) -> str:
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


@given(st.sampled_from(BANKS), account, st.sampled_from([" ", ".", "-", ""]), st.integers(0, 5))
def test_bank_account_every_form_one_normal_form(bank, digits, sep, layout):
    alias = bank.aliases[0]
    written = _group(digits, sep) if sep else digits
    forms = [
        f"{bank.name} {written}", f"{written} {bank.name}", f"{bank.bin}:{digits}", f"{bank.bin} {written}",
        f"STK {written} ngân hàng {alias.upper()}", f"{alias} - {written}", f"Số tài khoản: {written} ({bank.name})",
    ]
    found = {(n.type, n.value) for n in (detect(f) for f in forms)}
    assert found == {("bank_account", f"{bank.bin}:{digits}")}
    n = detect(forms[layout % len(forms)])
    _fixed_point(n)
    assert digits not in n.display or len(digits) <= 4


def test_bank_names_with_diacritics():
    assert detect("Ngân hàng Á Châu 0123 4567 89").value == "970416:0123456789"
    assert detect("tk 0123456789 Ngoại Thương").value == "970436:0123456789"
    assert detect("MB Bank 0123456789").value == "970422:0123456789"


@given(st.sampled_from(WALLETS), mobile_nsn)
def test_ewallet_every_form_one_normal_form(wallet, nsn):
    forms = [f"{wallet.name} 0{nsn}", f"{wallet.aliases[0]}:+84{nsn}", f"Ví {wallet.name} {nsn[:3]}.{nsn[3:6]}.{nsn[6:]}",
             f"0{nsn} {wallet.name}"]
    found = {(n.type, n.value) for n in (detect(f) for f in forms)}
    assert found == {("ewallet", f"{wallet.code}:+84{nsn}")}
    _fixed_point(detect(forms[0]))


@given(st.lists(label, min_size=1, max_size=3), tld, st.lists(path_seg, max_size=3), st.booleans(),
       st.sampled_from(["", "a=1", "b=x%2fy"]))
def test_url_every_form_one_normal_form(labels, suffix, segs, slash, query):
    host = ".".join(labels) + "." + suffix
    try:
        base = detect("https://" + host + "/")
    except InvalidInput:
        assume(False)
    path = "/" + "/".join(segs) + ("/" if slash and segs else "")
    q = f"?{query}" if query else ""
    forms = [
        f"http://{host}{path}{q}", f"https://{host.upper()}{path}{q}", f"{host}{path}{q}", f"HTTPS://{host}.:443{path}{q}#frag",
        f"hxxps://{host.replace('.', '[.]')}{path}{q}", f"http://{host}:80{path}{q}", f"https://user@{host}{path}{q}",
        f"https://{host}/./{path.lstrip('/')}{q}",
    ]
    found = {(n.type, n.value) for n in (detect(f) for f in forms)}
    assert len(found) == 1 and next(iter(found))[0] == "url"
    n = detect(forms[0])
    _fixed_point(n)
    assert n.domain == base.domain


def test_idna_and_registrable_domains():
    n = detect("BƯUĐIỆN.vn")
    assert n.type == "domain" and n.value.startswith("xn--") and n.display == f"bưuđiện.vn ({n.value})"
    assert detect("https://bưuđiện.vn/a").value == n.value + "/a"
    assert detect("login.vnpost.vn.example.com").domain == "example.com"
    assert detect("shop.blogspot.com").domain == "shop.blogspot.com"  # private suffixes count
    assert detect("https://vnpost.vn@evil.example.com/x").domain == "example.com"


@pytest.mark.parametrize("raw,value", [
    ("https://www.facebook.com/VNPost.Official/", "facebook:vnpostofficial"),
    ("m.facebook.com/profile.php?id=100012345", "facebook:id:100012345"),
    ("fb:vnpostofficial", "facebook:vnpostofficial"),
    ("https://zalo.me/0912345678", "zalo:+84912345678"),
    ("tiktok.com/@Shop.ABC", "tiktok:shop.abc"),
    ("https://t.me/ScamBot_x", "telegram:scambot_x"),
    ("telegram:@ScamBot_x", "telegram:scambot_x"),
    ("https://play.google.com/store/apps/details?id=vn.vnpost.app", "android:vn.vnpost.app"),
    ("VNPOST", "VNPOST"),
])
def test_social_apps_and_brands(raw, value):
    n = detect(raw)
    assert n.value == value
    _fixed_point(n)


@given(st.sampled_from(["facebook.com/", "fb.com/", "https://m.facebook.com/", "https://www.facebook.com/"]),
       st.from_regex(r"[a-z][a-z0-9]{4,15}", fullmatch=True))
def test_facebook_forms(prefix, page):
    assert detect(prefix + page).value == f"facebook:{page}"
    assert detect(prefix + page.upper()).value == f"facebook:{page}"


@pytest.mark.parametrize("raw,code", [
    ("", "empty"), ("   ", "empty"), ("!!!", "unrecognised"), ("xin chào bạn", "unrecognised"),
    ("12345", "invalid_phone"), ("0987654321098", "invalid_phone"), ("com.vn", "invalid_domain"),
    ("example.notatld", "invalid_domain"), ("javascript:alert(1)", "invalid_url"), ("@someone", "ambiguous"),
    ("Vietcombank 12ab34", "invalid_account"), ("Vietcombank 123", "invalid_account"), ("MoMo 123", "invalid_wallet"),
    ("x" * 3000, "too_long"), ("0912\u0000345678", "invalid"),
])
def test_garbage_is_a_clear_invalid_input(raw, code):
    with pytest.raises(InvalidInput) as e:
        detect(raw)
    assert e.value.errors[0].field == "value" and e.value.errors[0].code == code
    if raw.strip()[:1].isdigit():  # numbers are never echoed back
        assert raw.strip() not in e.value.errors[0].message and raw.strip() not in e.value.detail


@given(st.text(max_size=80))
def test_any_text_gives_a_normal_form_or_invalid_input(raw):
    try:
        n = detect(raw)
    except InvalidInput as e:
        assert e.errors and e.errors[0].field == "value"
        return
    assert n.type in TYPES
    _fixed_point(n)


@given(st.sampled_from(TYPES), st.text(max_size=40))
def test_forced_types_never_crash(type_, raw):
    try:
        n = normalize(raw, type_)
    except InvalidInput:
        return
    assert n.type == type_


def test_unknown_type_is_refused():
    with pytest.raises(InvalidInput) as e:
        normalize("0912345678", "fax")
    assert e.value.errors[0].field == "type"


def test_every_alias_has_a_letter():
    """``detect`` skips the alias search for inputs without letters (the hot path of phone lookups):
    that is only sound while no bank or wallet alias is made of digits alone."""
    from postguard.intel.banks import BANK_ALIASES, WALLET_ALIASES

    assert all(any(c.isalpha() for word in alias for c in word) for alias, _ in BANK_ALIASES + WALLET_ALIASES)


def _outcome(raw):
    try:
        n = detect(raw)
        return (n.type, n.value, n.display)
    except InvalidInput as e:
        return ("error", [(f.field, f.message, f.code) for f in e.errors])


BINS = sorted({b.bin for b in BANKS})[:5]


@given(st.one_of(st.text(alphabet="+0123456789 .-", min_size=1, max_size=30),
                 st.builds(lambda b, a, sep: b + sep + a, st.sampled_from(BINS), account, st.sampled_from(" .-")),
                 st.builds(lambda p, nsn, sep: p + sep.join([nsn[:3], nsn[3:6], nsn[6:]]),
                           st.sampled_from(["0", "+84", "84", "+84 "]), mobile_nsn, st.sampled_from(["", " ", ".", "-"]))))
def test_plain_number_shortcut_decides_as_the_full_detection(raw):
    """``detect`` answers plain numbers without the full type detection; a leading space (stripped
    by the full path, refused by the shortcut) gives the full path's answer for the same input."""
    assert _outcome(raw) == _outcome(" " + raw)


@given(st.from_regex(r"\+84[35789][0-9]{8}", fullmatch=True))
def test_the_direct_phone_normal_is_the_constructors(e164):
    from postguard.intel.normalize import Normal
    from postguard.vault.masking import mask_phone

    made = Normal("phone", e164, mask_phone(e164))
    assert Normal.phone(e164) == made and hash(Normal.phone(e164)) == hash(made)
    assert repr(Normal.phone(e164)) == repr(made)


# -- links read as browsers read them (WHATWG URL standard) -------------------------------------------
@pytest.mark.parametrize("raw,value,warnings", [
    ("https://evil-pay.com\\@vnpost.vn/phi-luu-kho", "evil-pay.com/@vnpost.vn/phi-luu-kho",
     {"host_mismatch", "backslash"}),
    ("evil-pay.com\\@vnpost.vn/phi-luu-kho", "evil-pay.com/@vnpost.vn/phi-luu-kho", {"host_mismatch", "backslash"}),
    ("https://vnpost.vn@evil-pay.com/x", "evil-pay.com/x", {"userinfo"}),
    ("https://vnpost.vn:pw@evil-pay.com/x", "evil-pay.com/x", {"userinfo"}),
    ("https://vnpost.vn\\.evil-pay.com/x", "vnpost.vn/.evil-pay.com/x", {"host_mismatch", "backslash"}),
    ("https://vnpost.vn\t.evil-pay.com/x", "vnpost.vn.evil-pay.com/x", {"hidden_characters", "embedded_domain"}),
    ("https://evil-\npay.com/x", "evil-pay.com/x", {"hidden_characters"}),
    ("https://%65vil-pay.com/x", "evil-pay.com/x", {"host_mismatch", "encoded_host"}),
    ("http://0x7f.1/", "127.0.0.1/", {"host_mismatch", "ip_address"}),
    ("http://0177.0.0.1/", "127.0.0.1/", {"host_mismatch", "ip_address"}),
    ("http://2130706433/", "127.0.0.1/", {"host_mismatch", "ip_address"}),
    ("http://127.0.0.1/", "127.0.0.1/", {"ip_address"}),
    ("https:evil-pay.com/x", "evil-pay.com/x", {"host_mismatch"}),
    ("https://vnp\u043est.vn/", "xn--vnpst-lye.vn/", {"lookalike_letters"}),  # Cyrillic о
    ("https://\u0430\u0440\u0440\u04cf\u0435.com/", "xn--80ak6aa92e.com/", {"lookalike_letters"}),  # all Cyrillic
    ("vnpost.vn.evil-pay.com/phi-luu-kho", "vnpost.vn.evil-pay.com/phi-luu-kho", {"embedded_domain"}),
    # honest forms: nothing to warn about
    ("HTTPS://VNPOST.VN./Tra-Cuu", "vnpost.vn/Tra-Cuu", set()),
    ("https://ｖｎｐｏｓｔ.vn/x", "vnpost.vn/x", set()),  # full-width letters: the browser maps them to vnpost.vn
    ("https://bưuđiện.vn/a", "xn--buin-1ua66gr30m.vn/a", set()),
    ("https://tracking.vnpost.vn/a", "tracking.vnpost.vn/a", set()),
    ("https://vnpost.vn/a\\b", "vnpost.vn/a/b", set()),
])
def test_links_are_read_as_browsers_read_them(raw, value, warnings):
    n = detect(raw)
    assert n.type == "url" and n.value == value
    assert {code for code, _ in n.warnings} == warnings
    assert all(v for _, v in n.warnings)  # each warning names what it is about
    _fixed_point(n)


def test_idn_hosts_are_shown_in_both_forms():
    n = detect("https://vnp\u043est.vn/phi")
    assert n.display == "vnp\u043est.vn/phi (xn--vnpst-lye.vn)"
    assert detect("https://vnpost.vn/phi").display == "vnpost.vn/phi"


def test_domains_with_a_known_domain_in_front_are_flagged():
    assert {c for c, _ in detect("vnpost.vn.evil-pay.com").warnings} == {"embedded_domain"}
    assert detect("login.vnpost.vn").warnings == () and detect("www.vnpost.vn").warnings == ()


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:alert(1)",
                                 "data:text/html;base64,PGI+aGk8L2I+", "vbscript:msgbox(1)"])
def test_code_links_are_refused(raw):
    with pytest.raises(InvalidInput) as e:
        detect(raw)
    assert e.value.errors[0].code == "invalid_url" and "never open" in e.value.errors[0].message


_IPV4_FORMS = st.integers(0, 2**32 - 1).flatmap(lambda n: st.sampled_from([
    str(n), hex(n), f"0{n:o}", ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0)),
    ".".join(hex((n >> s) & 255) for s in (24, 16, 8, 0)), f"{n >> 24}.{n & 0xFFFFFF}"]))
_LETTERS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzVNPOST0123456789-") + ["ư", "đ", "ệ", "о", "а", "ß", "Ａ"])
_WORD = st.text(_LETTERS, min_size=1, max_size=8)
_HOSTISH = st.one_of(
    st.builds(lambda ls, t, dot: ".".join(ls) + "." + t + dot, st.lists(_WORD, min_size=1, max_size=3), tld,
              st.sampled_from(["", "."])),
    _IPV4_FORMS,
    st.builds(lambda h: "".join(f"%{ord(c):02X}" if c.isalpha() and c.isascii() and c < "m" else c for c in h),
              st.sampled_from(["vnpost.vn", "evil-pay.com", "shop.com.vn"])))
_BEFORE = st.sampled_from(["", "@", "vnpost.vn@", "user:pw@", "\\", "\t", "\n", "%40"])
_BETWEEN = st.sampled_from(["", "@", "\\@", "\\", "\\.", ".", "\t", "%40", "#@", "/@", "?@", ":1@", "%5C@"])


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTPS://", "https:", "https:\\\\", ""]), _BEFORE, _HOSTISH, _BETWEEN,
       _HOSTISH, st.sampled_from(["", ":443", ":8080", ":99999"]), st.sampled_from(["/", "\\", "/a/../b", "?q=1", "#x"]))
def test_the_host_judged_is_the_host_a_browser_visits(scheme, before, host, between, host2, port, sep):
    """For generated links, the host postguard judges (and stores reports under) is the host
    ``ada-url`` (a WHATWG URL parser, as in browsers) reports, or the link is refused; when a naive
    (RFC 3986) reading shows another host, the link is flagged."""
    raw = scheme + before + host + between + host2 + port + sep
    try:
        n = normalize(raw, "url")
    except InvalidInput:
        return
    text = raw.strip()
    text = text if text.lower().startswith(("http:", "https:")) else "http://" + text
    browser = ada_url.URL(text).hostname  # parses: postguard accepted it
    assert n.host == browser.rstrip(".")
    assert n.value.startswith(n.host)
    try:
        naive = urlsplit(text).hostname
    except ValueError:
        naive = None
    if naive is None or (naive.isascii() and naive.rstrip(".") != n.host):
        assert n.warnings  # whatever a naive reading shows instead is flagged
