"""Reading an uploaded CSV as spreadsheets save it, row by row, with errors by line and field.

Shared by every import (shipments, subscribers): the file's encoding and separator are found from
its start and its header row, the header is checked against the import's columns, and each record
is handed over as a mapping of column → text with its line number. Records that cannot be read
(malformed CSV, a wrong number of fields) are counted in the ``ImportReport`` with the reason; the
importer validates the rest and reports its own errors through ``ImportReport.error``. Messages
never echo a value (it may be personal data), only the line, the field and the reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from postguard.errors import FieldError, InvalidInput

T = TypeVar("T")

MAX_REPORTED_ERRORS = 1000  # errors kept in a report; every error is counted

# Byte order marks the import understands (UTF-32 first: its little-endian mark starts with UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF8, "utf-8-sig"))
SNIFF_BYTES = 1 << 16  # how much of a file's start decides how it is read
# Separators a spreadsheet writes: the comma, the semicolon (Excel where the decimal mark is a comma,
# as in Viet Nam) and the tab (Excel's "Unicode text").
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "a tab"}
CP1258_NOTE = ("The file is not UTF-8: it was read as Windows-1258 (Vietnamese Windows). If names look wrong, "
               "save it as 'CSV UTF-8' and import it again.")


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    invalid: int = 0
    errors: list[FieldError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    errors_total: int = 0  # every error, reported or not
    encoding: str = "utf-8"
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)  # how the file was read, and a file with no rows

    def error(self, errors: list[FieldError]) -> None:
        """One invalid row and its errors (the first ``MAX_REPORTED_ERRORS`` of the file are kept)."""
        self.invalid += 1
        self.errors_total += len(errors)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    def examples(self) -> list[str]:
        """Lines that illustrate the notes (an importer's own report may have some), shown after them."""
        return []

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "already_present": self.already_present,
            "invalid": self.invalid,
            "errors": [e.as_dict() for e in self.errors],
            "errors_total": self.errors_total,
            "errors_truncated": self.errors_total > len(self.errors),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "notes": list(self.notes),
        }


def _encoding(stream: IO[bytes]) -> str:
    """How to decode the file: UTF-8 (with or without BOM), UTF-16 / UTF-32 when it starts with their
    byte order mark (as spreadsheet programs write "Unicode text"), or Windows-1258 (``cp1258``)
    when its first ``SNIFF_BYTES`` hold bytes that are not UTF-8 and no UTF-8 sequence at all (a
    file saved by an older Vietnamese Excel). A UTF-8 file with a few broken bytes stays UTF-8: its
    broken rows are errors of their lines, never read into something else."""
    if not stream.seekable():
        return "utf-8-sig"
    start = stream.tell()
    head = stream.read(SNIFF_BYTES)
    stream.seek(start)
    bom = next((name for mark, name in _BOMS if head.startswith(mark)), None)
    if bom is not None or head.isascii():
        return bom or "utf-8-sig"
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    broken = any("\udc80" <= c <= "\udcff" for c in text)
    utf8 = any(c >= "\x80" and not "\udc80" <= c <= "\udcff" for c in text)
    return "cp1258" if broken and not utf8 else "utf-8-sig"


def _delimiter(header: str, columns: frozenset[str]) -> str | None:
    """The separator the header row uses: the one that splits it into the most of the import's
    columns (the comma when none does), or None when the row cannot be read as CSV."""
    best, found = ",", 0
    for d in DELIMITERS:
        try:
            names = next(csv.reader([header], delimiter=d), [])
        except csv.Error:
            return None
        known = sum(1 for n in names if n.strip().lower() in columns)
        if known > found:
            best, found = d, known
    return best


def _other_delimiter(header: str, used: str) -> str | None:
    """Another separator that splits an unrecognised header row into several fields, if one does."""
    counts = {d: header.count(d) for d in DELIMITERS if d != used}
    d = max(counts, key=lambda k: counts[k])
    return d if counts[d] >= 2 and counts[d] > header.count(used) else None


def unreadable(e: Exception) -> str:
    """Why a CSV record could not be read, without any of its content."""
    if isinstance(e, UnicodeDecodeError):
        return f"is not valid {e.encoding} text"
    if "field limit" in str(e):
        return f"has a field longer than {csv.field_size_limit()} characters"
    return f"is not valid CSV ({e})"


def shown(name: str) -> str:
    """A header name as it can be shown back: bytes that were not text become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class CsvRows:
    """One uploaded CSV, its header checked against ``columns`` (all required) and ``optional``
    (columns that may be left out); iterating yields ``(line, {column: text})`` for every record that
    has the header's number of fields, in file order. ``report`` says how the file was read and
    counts the rows; records that cannot be read are already counted in it as invalid."""

    def __init__(self, stream: IO[bytes], *, columns: tuple[str, ...], optional: tuple[str, ...] = (),
                 report: ImportReport | None = None) -> None:
        self._stream = stream
        self.report = report if report is not None else ImportReport()  # an importer's own kind of report
        encoding = _encoding(stream)
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
        try:
            first = self._text.readline()
        except UnicodeDecodeError as e:
            raise InvalidInput("The header row cannot be read.", [FieldError("header", unreadable(e), 1, "malformed")]) \
                from None
        if not first:
            raise InvalidInput("The file is empty.", [FieldError("file", "no header row", 1, "empty")])
        if "\x00" in first:
            raise InvalidInput("The file is not UTF-8 text; save it as CSV UTF-8.", [FieldError(
                "file", "contains NUL characters: UTF-16 or UTF-32 without a byte order mark?", 1, "encoding")])
        known = frozenset(columns) | frozenset(optional)
        delimiter = _delimiter(first, known) or ","
        self._reader = csv.reader(itertools.chain((first,), self._text), delimiter=delimiter)
        try:
            header = next(self._reader, None)
        except csv.Error as e:
            raise InvalidInput("The header row cannot be read.", [FieldError("header", unreadable(e), 1, "malformed")]) \
                from None
        header = [h.strip().lower() for h in header or ()]
        missing = [c for c in columns if c not in header]
        unknown = [h for h in header if h not in known]
        if missing or unknown or len(set(header)) != len(header):
            errs = [FieldError(c, "column missing from header", 1, "missing_column") for c in missing]
            errs += [FieldError(shown(h) or "(blank)", "unknown column", 1, "unknown_column") for h in unknown]
            if len(set(header)) != len(header):
                errs.append(FieldError("header", "a column appears twice", 1, "duplicate_column"))
            other = _other_delimiter(first, delimiter) if len(header) <= 1 else None
            if other is not None:  # a separator was found, but not the import's column names
                errs.insert(0, FieldError("header", f"the file seems to use {DELIMITER_NAMES[other]} as separator, "
                                          "but its column names are not the import format's", 1, "delimiter"))
            raise InvalidInput("The header row does not match the import format.", errs)
        self.report.encoding = {"cp1258": "windows-1258", "utf-8-sig": "utf-8"}.get(encoding, encoding)
        self.report.delimiter = delimiter
        if encoding == "cp1258":
            self.report.notes.append(CP1258_NOTE)
        if delimiter != ",":
            self.report.notes.append(f"Fields are separated by {DELIMITER_NAMES[delimiter]}; read as such.")
        self.columns = tuple(c for c in (*columns, *optional) if c in header)  # what each mapping holds
        self._order = [header.index(c) for c in self.columns]
        self._width = len(header)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        report, reader, width, columns, order = self.report, self._reader, self._width, self.columns, self._order
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as e:  # e.g. a field over csv.field_size_limit(): this record only
                report.rows += 1
                report.error([FieldError("row", unreadable(e), reader.line_num, "malformed")])
                continue
            except UnicodeDecodeError as e:
                raise InvalidInput(f"The file cannot be read after line {reader.line_num}; rows up to there were "
                                   "imported.", [FieldError("file", unreadable(e), reader.line_num + 1, "encoding")]) \
                    from None
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            report.rows += 1
            if len(rec) != width:
                report.error([FieldError("row", f"has {len(rec)} fields, the header has {width}", reader.line_num,
                                         "field_count")])
                continue
            yield reader.line_num, {c: rec[i] for c, i in zip(columns, order, strict=True)}

    def position(self) -> int:
        """How far into the file (bytes) reading got, for a progress bar (0 when it cannot tell)."""
        return self._stream.tell() if self._stream.seekable() else 0

    def finish(self) -> ImportReport:
        """The report, once every record was read (the stream is left open)."""
        self._text.detach()
        if self.report.rows == 0:
            self.report.notes.append("No rows: the file has a header row and nothing after it.")
        return self.report


def valid_batches(rows: CsvRows, validate: Callable[..., tuple[Any, list[FieldError]]], *, size: int,
                  progress: Callable[[int], None] | None = None,
                  seen: Callable[[int, Any], None] | None = None) -> Iterator[list[Any]]:
    """The records of ``rows`` that ``validate(raw, row=line)`` accepts, in lists of ``size`` (the last one
    shorter); refused ones are counted with their errors in ``rows.report``; ``seen(line, record)`` is
    told of each accepted one. ``progress`` is told how far into the file reading got after each list
    was handled, and at the end (``finish`` is called)."""
    batch: list[Any] = []
    for line, raw in rows:
        item, errors = validate(raw, row=line)
        if errors or item is None:  # item is None exactly when there are errors
            rows.report.error(errors)
            continue
        if seen is not None:
            seen(line, item)
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
            if progress:
                progress(rows.position())
    if batch:
        yield batch
    if progress:
        progress(rows.position())
    rows.finish()


def fresh_only(items: Iterable[T], key: Callable[[T], str], existing: Container[str], report: ImportReport) -> dict[str, T]:
    """The items whose key is neither stored (``existing``) nor earlier in ``items``, by key; the others
    are counted in ``report`` as already present (a re-imported file creates no duplicates)."""
    fresh: dict[str, T] = {}
    for it in items:
        k = key(it)
        if k in existing or k in fresh:
            report.already_present += 1
        else:
            fresh[k] = it
    return fresh
