"""``postguard messages …``: check a message or a QR code, classify a file of messages, measure the
classifier on a labelled file, and train its model."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import typer

from postguard.cli.common import count, open_platform, print_json
from postguard.cli.message_feedback import feedback_app
from postguard.errors import FieldError, InvalidInput

messages_app = typer.Typer(no_args_is_help=True, help="Messages: is this SMS or QR code a scam?")
messages_app.add_typer(feedback_app, name="feedback")


def _read_text(path: Path, field: str) -> list[str]:
    """One message a line, or a TSV whose header has a ``text`` column."""
    try:
        raw = path.read_bytes() if str(path) != "-" else sys.stdin.buffer.read()
    except OSError as e:
        raise InvalidInput("The file was not accepted.", [FieldError(field, f"cannot read {path}: {e.strerror}")]) from None
    try:
        data = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput("The file was not accepted.",
                           [FieldError(field, f"is not UTF-8 text (byte {e.start})", code="invalid_encoding")]) from None
    lines = data.splitlines()
    if lines and "\t" in lines[0] and "text" in lines[0].split("\t"):
        col = lines[0].split("\t").index("text")
        return [(line.split("\t") + [""] * (col + 1))[col] for line in lines[1:] if line.strip()]
    return [line for line in lines if line.strip()]


@messages_app.command("check")
def check(
    text: str | None = typer.Option(None, "--text", help="The message (default: read from stdin)"),
    qr: str | None = typer.Option(None, "--qr", help="A VietQR / EMVCo QR payload"),
    qr_image: Path | None = typer.Option(None, "--qr-image", help="A PNG or JPEG image of a QR code"),
    sender: str | None = typer.Option(None, "--sender", help="Who sent it: an SMS brandname, a number or a Zalo page "
                                      "(a message from an operator's registered sender is judged against its templates)"),
) -> None:
    """Check a message: label (scam, suspicious, legit), score, reasons and every indicator."""
    image = None
    if qr_image is not None:
        from postguard.messages.vietqr import MAX_IMAGE_BYTES

        try:
            with open(qr_image, "rb") as f:
                image = f.read(MAX_IMAGE_BYTES + 1)
        except OSError as e:
            raise InvalidInput("The image was not accepted.",
                               [FieldError("--qr-image", f"cannot read {qr_image}: {e.strerror}")]) from None
    if text is None and qr is None and image is None:
        from postguard.messages.text import MAX_BYTES

        stdin = getattr(sys.stdin, "buffer", None)
        raw = stdin.read(MAX_BYTES * 4 + 1) if stdin is not None else sys.stdin.read(MAX_BYTES * 4 + 1).encode()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("The message was not accepted.",
                               [FieldError("--text", "stdin is not UTF-8 text", code="invalid_encoding")]) from None
    print_json(open_platform().messages.check(text, qr=qr, qr_image=image, sender=sender, client="cli"))


@messages_app.command("classify")
def classify(
    file: Path = typer.Argument(..., metavar="FILE", help="One message a line, or a TSV with a 'text' column"),
    out: Path = typer.Option(..., "--out", help="Where to write one JSON object a message, in order"),
) -> None:
    """Classify every message of FILE into OUT (JSON lines)."""
    from postguard.messages.text import bounded

    texts = _read_text(file, "FILE")
    service = open_platform().messages
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as f:
        for i, t in enumerate(texts, 1):
            try:
                bounded(t)
            except InvalidInput as e:
                raise InvalidInput("The file was not accepted.",
                                   [FieldError("FILE", f"message {i}: {e.errors[0].message}", row=i,
                                               code=e.errors[0].code)]) from None
            f.write(orjson.dumps(service.answer(t)) + b"\n")
    tmp.replace(out)
    print(f"{count(len(texts), 'message')} classified into {out}", file=sys.stderr)


@messages_app.command("eval")
def evaluate(
    file: Path = typer.Argument(..., metavar="FILE.tsv", help="Labelled TSV: label, language, text"),
    folds: int = typer.Option(0, "--folds", min=0, max=20,
                              help="Cross-validate instead: train K models, each without one K-th of FILE's rows "
                                   "(and with the generated ones), and measure each on the rows it did not see"),
) -> None:
    """Per-language precision, recall and macro-F1 of the classifier on FILE.tsv; Vietnamese rows are
    also measured with their diacritics removed (``vi_no_diacritics``)."""
    from postguard.messages.corpus import read_tsv
    from postguard.messages.evaluate import cross_validate, metrics, pairs

    if folds == 1:
        raise InvalidInput("The options were not accepted.", [FieldError("--folds", "must be 0 (no cross-validation) "
                                                                         "or at least 2", code="invalid")])
    try:
        with open(file, encoding="utf-8", newline="") as f:
            rows = list(read_tsv(f))
    except OSError as e:
        raise InvalidInput("The file was not accepted.", [FieldError("FILE", f"cannot read {file}: {e.strerror}")]) from None
    except UnicodeDecodeError:
        raise InvalidInput("The file was not accepted.", [FieldError("FILE", "is not UTF-8 text",
                                                                     code="invalid_encoding")]) from None
    service = open_platform().messages
    triples = cross_validate(service, rows, folds) if folds else pairs(service, rows)
    print_json(metrics(triples))


@messages_app.command("train")
def train(
    out: Path | None = typer.Option(None, "--out", help="Where to write the model (default: the packaged model file)"),
    extra: Path | None = typer.Option(None, "--extra", help="Another labelled TSV to learn from"),
) -> None:
    """Train the model from the corpus (public.tsv when present, and the generated messages)."""
    from postguard.messages import model as m
    from postguard.messages.corpus import training_rows

    rows = training_rows(extra)
    fitted = m.train((label, text) for label, _, text, _ in rows)
    fitted.meta["sources"] = sorted({"generated" if s.startswith("generated:") else "feedback" if s.startswith("feedback:")
                                     else "public" for *_, s in rows})
    target = out or Path(m.__file__).parent / "model" / m.MODEL_FILE
    fitted.save(target)
    print_json({"model": str(target), **fitted.meta})
