"""Texts for people (docs/translations.md): the message catalogs and the code agree — every key the code
and the templates name has a text in Vietnamese and English, no catalog keeps a key nothing names, a
key's placeholders are the same in both languages, and the shipped .mo files are the .po files
compiled — and every value the pages turn into a key (statuses, kinds, verdicts, roles) has one.

This is the check `tools/catalogs.py --check` makes (it is run here, not separately in CI)."""

import importlib.util
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from postguard.audit.log import PROBLEM_CODES
from postguard.subscribers.service import STATES as SIM_STATES
from postguard.access.door import PURPOSES
from postguard.access.models import ROLES
from postguard.leaks import service as leaks
from postguard.leaks.anomalies import FEATURES
from postguard.leaks.canaries import CHANNEL_KINDS, CONTACT_KINDS
from postguard.leaks.models import KINDS as ALERT_KINDS
from postguard.i18n import LANGUAGES, texts
from postguard.privacy.service import INCIDENT_STATUSES, KINDS, STATUSES
from postguard.web import auditor, words
from postguard.web.privacy import STATES

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("catalogs_tool", ROOT / "tools" / "catalogs.py")
assert _spec is not None and _spec.loader is not None
catalogs = importlib.util.module_from_spec(_spec)
sys.modules["catalogs_tool"] = catalogs
_spec.loader.exec_module(catalogs)


@pytest.fixture(scope="module")
def extracted():
    return catalogs.extract()


def test_the_catalogs_the_code_and_the_compiled_files_agree(extracted):
    """What `tools/catalogs.py --check` says, and CI with it: no key missing, untranslated or unused,
    the same placeholders in both languages, each .mo its .po compiled."""
    shipped = {lang: catalogs.mo_path(lang).read_bytes() for lang in LANGUAGES}
    assert catalogs.problems(extracted, {lang: catalogs.read(lang) for lang in LANGUAGES}, shipped) == []
    assert len(extracted) > 700  # extraction found the pages' texts (not an empty match agreeing with nothing)


def _catalog(lang: str, entries: dict[str, str]) -> Catalog:
    cat = Catalog(locale=lang, domain=catalogs.DOMAIN)
    for key, text in entries.items():
        cat.add(key, text)
    return cat


def test_the_check_names_each_kind_of_disagreement():
    """A key named but missing or empty, a key nothing names, placeholders that differ, markup, and a
    stale or missing .mo are each reported by name."""
    named = {"greeting": ["web/x.py"], "bye": ["web/x.py"], "empty": ["web/y.html"]}
    vi = _catalog("vi", {"greeting": "Xin chào {name}", "empty": "", "stale": "cũ", "bye": "Tạm biệt"})
    en = _catalog("en", {"greeting": "Hello {who}", "empty": "Empty", "bye": "Bye 100%"})
    found = catalogs.problems(named, {"vi": vi, "en": en}, {"vi": catalogs.compiled(vi), "en": b"old"})
    assert found == [
        "vi: unused 'stale' (no code or template names it)",
        "vi: 'empty' has no text",
        "en: 'bye' has a '%' (write 'phần trăm' / 'per cent', or fill it in)",
        "'greeting': placeholders differ, vi ['name'] and en ['who']",
        "en: src/postguard/locale/en/LC_MESSAGES/postguard.mo is not postguard.po compiled",
    ]
    en.delete("bye")
    found = catalogs.problems(named, {"vi": vi, "en": en}, {"vi": None, "en": catalogs.compiled(en)})
    assert "en: missing 'bye' (named in web/x.py)" in found
    assert "vi: src/postguard/locale/vi/LC_MESSAGES/postguard.mo is missing" in found


def test_extraction_finds_literal_keys_and_run_time_keys_declared_with_n_(extracted):
    assert extracted["error_home"] == ["web/errors.py"]  # _("error_home") in Python
    assert "web/templates/check.html" in extracted["check_title"]  # _("check_title") in a template
    assert extracted["error_404_title"] == ["web/errors.py"]  # chosen at run time, declared with N_
    assert "web/words.py" in extracted["st_out_for_delivery"]
    assert "web/templates/base.html" in extracted["nav_report"]  # N_ in a template


def test_every_value_a_page_turns_into_a_key_has_its_texts():
    families = [(words.DSR_KIND, KINDS), (words.DSR_STATUS, STATUSES), (words.DSR_COMPLETE, KINDS),
                (words.CLOCK, ("open", "overdue", "done", "late")), (words.ME_AS, ("sender", "recipient")),
                (words.ME_ACTOR, ("you", "system", "data_subject")), (words.ROLE, ROLES),
                (words.DSR_MSG, [s for s in STATES if s in ("acknowledged", "completed", "waiting")]),
                (words.INC_MSG, [s for s in STATES if s in ("recorded", "notified")]),
                (words.PURPOSE, PURPOSES), (words.SIM_STATE, ("open", *SIM_STATES)), (words.VERIFY_PROBLEM, PROBLEM_CODES), (auditor.WHY, leaks.WEIGHTS), (auditor.LAWFUL, leaks.LAWFUL),
                (auditor.ANOMALY_FEATURES, FEATURES), (auditor.ALERT_TEXTS, ALERT_KINDS),
                (auditor.CHANNELS, CHANNEL_KINDS), (auditor.CONTACTS, CONTACT_KINDS)]
    assert INCIDENT_STATUSES == ("open", "notified")
    for family, values in families:
        assert set(values) <= family.keys(), sorted(set(values) - family.keys())
        for lang in LANGUAGES:
            assert all(family[v] in texts(lang) for v in values)


def test_texts_are_read_once_per_language():
    assert texts("vi") is texts("vi") and texts("vi")("error_home") == "Về trang chủ"
    assert texts("en")("error_home") == "Home"
    with pytest.raises(ValueError):
        texts("fr")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_alerts_and_triangulation_reasons_are_said_from_their_codes(lang):
    _ = texts(lang)
    details = {"break_glass": {"waybills": ["DM1"], "justification": "khách khiếu nại"},
               "canary_reveal": {"channel": "courier:an", "purpose": "delivery"},
               "canary_contact": {"channel": "hub:HN01", "contact": "sms"},
               "anomaly": {"feature": "exports", "value": 9, "peer_median": "1", "peers": 4}}
    assert details.keys() == set(ALERT_KINDS)
    for kind, d in details.items():
        alert = {"kind": kind, "severity": "high", "subject": "DM1", "actor": "staff:8", "details": d,
                 "reason": "English reason"}
        said = auditor.alert_text(_, alert)
        assert "English reason" not in said and "{" not in said, said
        assert ("#8" in said) == (kind != "canary_contact") and "courier:" not in said and "hub:" not in said
        assert auditor.alert_text(_, {**alert, "details": {}}) == "English reason"  # an older alert: its reason
    for code in leaks.WEIGHTS:
        why = auditor.access_why(_, {"why": "English", "reason": {"code": code, "after_delivery": True,
                                                                  "purpose": "dsr_match", "request": "DSR-1",
                                                                  "alert": 3, "acknowledged_by": "staff:2"}})
        assert why != "English" and "{" not in why, (code, why)


def test_text_messages_are_vietnamese_with_diacritics_for_every_purpose():
    from postguard.i18n import SMS_LANGUAGE
    from postguard.otp import PURPOSE_TEXT

    _ = texts(SMS_LANGUAGE)
    for purpose, key in PURPOSE_TEXT.items():
        sms = _("sms_code").format(code="123456", purpose=_(key))
        assert sms.startswith("postguard: mã xác minh 123456 để ") and "kể cả shipper" in sms, (purpose, sms)
    assert _("sms_dsr_completed").format(ref="DSR-ABC") == "postguard: yêu cầu DSR-ABC của bạn đã hoàn thành."
