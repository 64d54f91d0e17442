import io
import json

from postguard.logging import configure_logging, get_logger, redact_pii, scrub
from postguard.settings import Settings


def test_personal_keys_are_redacted_and_phones_scrubbed_everywhere():
    event = redact_pii(None, "info", {
        "event": "called 0912 345 678 about parcel",
        "recipient_phone": "+84912345678",
        "name": "Nguyễn Thị Hằng",
        "nested": {"address": "Số 1 Lê Lợi", "note": "ring +84 912.345.678"},
        "items": ["84912345678", 42],
        "count": 3,
    })
    assert event["event"] == "called [phone] about parcel"
    assert event["recipient_phone"] == event["name"] == "[redacted]"
    assert event["nested"] == {"address": "[redacted]", "note": "ring [phone]"}
    assert event["items"] == ["[phone]", 42] and event["count"] == 3


def test_waybills_and_amounts_are_not_mistaken_for_phones():
    assert scrub("waybill PG000123 cod 150000") == "waybill PG000123 cod 150000"


def test_json_lines_in_production_format(tmp_path):
    out = io.StringIO()
    configure_logging(Settings(data_dir=tmp_path, log_format="json"), stream=out)
    get_logger().info("imported", phone="0912345678", rows=3)
    line = json.loads(out.getvalue())
    assert line["phone"] == "[redacted]" and line["rows"] == 3 and line["level"] == "info"
