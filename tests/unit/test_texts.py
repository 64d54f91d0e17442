"""Page texts: both languages have the same keys, every key a template names exists, and every
value the privacy pages turn into a key (kinds, statuses, clocks, actors, messages) has a text."""

import re
from pathlib import Path

from postguard.access.models import ROLES
from postguard.privacy.service import INCIDENT_STATUSES, KINDS, STATUSES
from postguard.web.i18n import TEXTS
from postguard.web.privacy import STATES

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "postguard" / "web" / "templates"


def test_both_languages_have_the_same_keys():
    assert TEXTS["vi"].keys() == TEXTS["en"].keys()


def test_every_key_named_in_a_template_exists():
    for page in TEMPLATES.glob("*.html"):
        for key in re.findall(r"\bt\.([a-z_][a-z0-9_]*)\b", page.read_text()):
            if key != "get":
                assert key in TEXTS["vi"], (page.name, key)


def test_every_computed_key_exists():
    keys = [f"dsr_kind_{k}" for k in KINDS] + [f"dsr_status_{s}" for s in STATUSES]
    keys += [f"dsr_complete_{k}" for k in KINDS] + [f"clock_{c}" for c in ("open", "overdue", "done", "late")]
    keys += [f"me_as_{r}" for r in ("sender", "recipient")] + [f"me_actor_{a}" for a in ("you", "system", "data_subject")]
    keys += [f"role_{r}" for r in ROLES]
    keys += [f"dsr_msg_{s}" for s in STATES if s in ("acknowledged", "completed", "waiting")]
    keys += [f"inc_msg_{s}" for s in STATES if s in ("recorded", "notified")]
    assert INCIDENT_STATUSES == ("open", "notified")
    for lang in TEXTS.values():
        missing = [k for k in keys if k not in lang]
        assert not missing
