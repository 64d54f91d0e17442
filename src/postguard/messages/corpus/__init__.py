"""Labelled messages the model learns from and is measured on: ``public.tsv`` in this package
(when present: columns ``label``, ``language``, ``text``, ``source``) and generated ones
(``generated.py``, every row marked as generated)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from postguard.errors import FieldError, InvalidInput

LABELS = ("scam", "suspicious", "legit")
LANGUAGES = ("vi", "en")
MAX_FILE = 64 * 1024 * 1024
# Generated rows the model trains on, next to the public ones: enough hard negatives to keep genuine
# notices legit, few enough that their templates do not drown the wording of real messages (measured
# by cross-validation on the public rows: docs/benchmarks.md).
GENERATED_ROWS = 600


def read_tsv(stream: io.TextIOBase, *, name: str = "FILE", need: tuple[str, ...] = ("label", "language", "text"),
             ) -> Iterator[dict[str, str]]:
    """Rows of a labelled TSV with a header naming at least ``need``; ``InvalidInput`` naming the
    file, line and column for a missing column or a label or language outside the lists."""
    csv.field_size_limit(1 << 20)
    reader = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = [c for c in need if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("The file was not accepted.",
                           [FieldError(name, f"the header has no column {c!r}", code="missing") for c in missing])
    for row in reader:
        line = reader.line_num
        if "label" in need and row.get("label") not in LABELS:
            raise InvalidInput("The file was not accepted.", [FieldError(
                "label", f"line {line}: label must be one of {', '.join(LABELS)}", row=line, code="invalid")])
        if "language" in need and row.get("language") not in LANGUAGES:
            raise InvalidInput("The file was not accepted.", [FieldError(
                "language", f"line {line}: language must be vi or en", row=line, code="invalid")])
        if not (row.get("text") or "").strip():
            continue
        yield row


def public_rows() -> list[dict[str, str]]:
    """The public corpus bundled in the package, or none."""
    ref = resources.files("postguard.messages.corpus").joinpath("public.tsv")
    if not ref.is_file():
        return []
    data = ref.read_bytes().decode("utf-8")
    return list(read_tsv(io.StringIO(data, newline=""), name="public.tsv"))


def training_rows(extra: Path | None = None) -> list[tuple[str, str, str, str]]:
    """``(label, language, text, source)``: the public corpus, ``extra`` if given, and the generated rows."""
    from postguard.messages.corpus.generated import generate

    rows = [(r["label"], r["language"], r["text"], r.get("source") or "public") for r in public_rows()]
    if extra is not None:
        with open(extra, encoding="utf-8", newline="") as f:
            rows += [(r["label"], r["language"], r["text"], r.get("source") or str(extra)) for r in read_tsv(f)]
    rows += list(generate(GENERATED_ROWS))
    return rows
