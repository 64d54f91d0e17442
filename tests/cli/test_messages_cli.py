"""``postguard messages check | classify | eval | train``: the output contracts, and clear errors
naming the field for bad input (too long, not UTF-8, bad QR codes, bad files)."""

from __future__ import annotations

import io
import json

import segno

from postguard.messages import vietqr
from postguard.messages.model import VERSION, Model
from tests.cli.test_cli import run  # noqa: F401  (the fixture)

SCAM = "VNPost: buu pham bi giu, chuyen khoan phi luu kho 25.000d vao STK 0123456789 Vietcombank truoc 17h hom nay."
LEGIT = "Ma OTP cua Quy khach la 123456. Tuyet doi KHONG cung cap ma nay cho bat ky ai."
KEYS = {"label", "score", "reasons", "indicators"}


def test_check_from_stdin_text_and_qr(run, tmp_path):  # noqa: F811
    code, out, _ = run("messages", "check", stdin=SCAM)
    body = json.loads(out)
    assert code == 0 and KEYS <= body.keys() and body["label"] == "scam"
    assert {i["type"] for i in body["indicators"]} >= {"bank_account", "amount", "brand"}
    code, out, _ = run("messages", "check", "--text", LEGIT)
    assert code == 0 and json.loads(out)["label"] == "legit"
    payload = vietqr.build("970436", "0123456789", amount=25000, message="phi luu kho")
    code, out, _ = run("messages", "check", "--qr", payload)
    assert code == 0 and json.loads(out)["qr"]["bank"] == "Vietcombank"
    img = tmp_path / "qr.png"
    buf = io.BytesIO()
    segno.make(payload).save(buf, kind="png", scale=4)
    img.write_bytes(buf.getvalue())
    code, out, _ = run("messages", "check", "--qr-image", str(img))
    assert code == 0 and json.loads(out)["qr"]["amount"] == 25000


def test_check_errors_name_the_field(run, tmp_path):  # noqa: F811
    code, _, err = run("messages", "check", "--text", "x" * 4097)
    assert code != 0 and "text" in err and "4096 bytes" in err and "Traceback" not in err
    code, _, err = run("messages", "check", "--qr", vietqr.build("970436", "0123456789")[:-4] + "0000")
    assert code != 0 and "qr" in err and "CRC" in err
    bogus = tmp_path / "bogus.png"
    bogus.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code, _, err = run("messages", "check", "--qr-image", str(bogus))
    assert code != 0 and "qr_image" in err and "Traceback" not in err
    code, _, err = run("messages", "check", "--qr-image", str(tmp_path / "missing.png"))
    assert code != 0 and "--qr-image" in err


def test_classify_lines_and_tsv_in_order(run, tmp_path):  # noqa: F811
    lines = tmp_path / "in.txt"
    lines.write_text(f"{SCAM}\n\n{LEGIT}\nhello there\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run("messages", "classify", str(lines), "--out", str(out))
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert code == 0 and len(rows) == 3 and all(KEYS <= r.keys() for r in rows)
    assert [r["label"] for r in rows[:2]] == ["scam", "legit"]
    tsv = tmp_path / "in.tsv"
    tsv.write_text(f"id\ttext\tnote\n1\t{LEGIT}\tx\n2\t{SCAM}\ty\n", encoding="utf-8")
    code, _, _ = run("messages", "classify", str(tsv), "--out", str(out))
    assert code == 0 and [json.loads(x)["label"] for x in out.read_text().splitlines()] == ["legit", "scam"]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe latin\n")
    code, _, err = run("messages", "classify", str(bad), "--out", str(tmp_path / "x.jsonl"))
    assert code != 0 and "FILE" in err and "UTF-8" in err and not (tmp_path / "x.jsonl").exists()
    big = tmp_path / "big.txt"
    big.write_text("ok\n" + "a" * 5000 + "\n", encoding="utf-8")
    code, _, err = run("messages", "classify", str(big), "--out", str(tmp_path / "y.jsonl"))
    assert code != 0 and "message 2" in err and not (tmp_path / "y.jsonl").exists()


def test_eval_prints_per_language_metrics(run, tmp_path):  # noqa: F811
    f = tmp_path / "gold.tsv"
    f.write_text("label\tlanguage\ttext\n"
                 f"scam\tvi\t{SCAM}\nlegit\tvi\t{LEGIT}\n"
                 "legit\tvi\tĐơn hàng của bạn đã được giao thành công. Cảm ơn bạn.\n"
                 "legit\ten\tYour parcel was delivered. Thank you.\n"
                 "scam\ten\tPay the redelivery fee now at http://spx-vn.top or your parcel will be returned\n",
                 encoding="utf-8")
    code, out, _ = run("messages", "eval", str(f))
    m = json.loads(out)
    assert code == 0 and set(m) == {"vi", "vi_no_diacritics", "en"}
    for lang in m.values():
        assert {"macro_f1", "labels", "count"} <= lang.keys()
        assert all({"precision", "recall", "f1"} <= v.keys() for v in lang["labels"].values())
    assert m["vi"]["macro_f1"] == 1.0 and m["vi_no_diacritics"]["count"] == 1
    f.write_text("label\tlanguage\ttext\nmaybe\tvi\tx\n", encoding="utf-8")
    code, _, err = run("messages", "eval", str(f))
    assert code != 0 and "label" in err and "line 2" in err
    f.write_text("text\nx\n", encoding="utf-8")
    code, _, err = run("messages", "eval", str(f))
    assert code != 0 and "'label'" in err


def test_eval_cross_validates(run, tmp_path):  # noqa: F811
    """``--folds K`` measures models that never saw the rows they label: a corpus of one repeated
    scam and one repeated genuine notice is learnt, whatever the fold."""
    f = tmp_path / "gold.tsv"
    rows = [f"scam\tvi\t{SCAM} {i}" for i in range(6)] + [f"legit\tvi\t{LEGIT} {i}" for i in range(6)]
    f.write_text("label\tlanguage\ttext\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run("messages", "eval", "--folds", "3", str(f))
    m = json.loads(out)
    assert code == 0 and m["vi"]["count"] == 12 and m["vi"]["accuracy"] == 1.0
    code, _, err = run("messages", "eval", "--folds", "1", str(f))
    assert code != 0 and "--folds" in err


def test_train_writes_a_model_that_loads(run, tmp_path):  # noqa: F811
    out = tmp_path / "m.npz"
    code, stdout, _ = run("messages", "train", "--out", str(out))
    from postguard.messages.corpus import GENERATED_ROWS, public_rows

    assert code == 0 and json.loads(stdout)["rows"] == GENERATED_ROWS + len(public_rows())
    m = Model.load(out)
    assert m.meta["version"] == VERSION and out.stat().st_size < 512 * 1024
    # Training is deterministic: the packaged model is exactly what the corpus trains
    shipped = Model.load()
    assert shipped.meta["rows"] == m.meta["rows"] and abs(shipped.bias - m.bias) < 1e-9
    assert (shipped.weights == m.weights).all()
