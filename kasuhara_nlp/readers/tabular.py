"""CSV/TSV, JSONL and JSON-array exports: one record per row, object or line.

Rows that cannot be read are yielded as records with status "error" and a reason naming the file
and line, so a run accounts for every input row.  A file that cannot be read at all (no text
column, an unreadable header row, a JSON document without rows) becomes one error record that says
how many rows were not read, and the run goes on with the other files.

>>> import io, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "inbox.csv")
>>> _ = open(path, "w", encoding="utf-8").write("id,本文\\n1,返金しろ\\n")
>>> [(r.record_id, r.body_text, r.status) for r in read_tabular(path)]
[('1', '返金しろ', 'ok')]
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import InputFormatError
from ..records import MessageRecord
from .columns import Columns, looks_like_header, resolve_preset, row_record
from .common import MAX_MESSAGE_BYTES, error_record
from .csvrows import CsvFile, CsvRow, choose_delimiter, csv_records, delimiter_hint, iter_csv_rows
from .linecodec import MIXED, MixedLines, decode_line
from .presets import PRESETS, TEXT_CANDIDATES, ColumnPreset, find_column
from .streams import (
    ESCAPE_ERRORS, SNIFF_BYTES, decode_whole, has_escaped_bytes, honour_bom, open_input, repair_surrogates,
    sniff_text_encoding,
)

__all__ = ["TABULAR_FORMATS", "read_tabular", "resolve_preset", "sniff_delimited"]

TABULAR_FORMATS = ("csv", "tsv", "jsonl", "json")

# Big enough that a 1 MB message reaches the size check (and is reported as too large) instead
# of failing inside the csv module.  The limit is process-wide; raising it harms no one.
_CSV_FIELD_LIMIT = 16 * 1024 * 1024
# Every text column a preset knows, for telling a table from a chat log by its header.
_ALL_TEXT_COLUMNS = TEXT_CANDIDATES + tuple(c for p in PRESETS.values() for c in p.text)


def _not_read(count: int, first: str = "", last: str = "") -> str:
    """How many rows a file-level error left unread, so that the loss is counted."""
    if count == 0:
        return "The file has no rows after it."
    where = "" if not first else f" (line {first})" if first == last else f" (lines {first}-{last})"
    return f"None of its {count} row{'s' if count != 1 else ''}{where} was read."


def _error(record_id: str, source_format: str, path: str, locator: str, reason: str) -> MessageRecord:
    """The error record of a row, or of a whole file that could not be read."""
    return error_record(
        record_id=record_id, source_format=source_format, source_file=path, source_locator=locator, reason=reason,
    )


def _count_rows(rows: Iterable[CsvRow]) -> str:
    """_not_read for the CSV rows left after a file-level error (read to the end, to count them)."""
    count, first, last = 0, 0, 0
    for row in rows:  # the caller chains the first row in when it is a message, not a header
        if row.fields == []:
            continue
        count += 1
        first = first or row.line
        last = row.end_line
    return _not_read(count, str(first or ""), str(last or ""))


def _read_csv(
    stream: io.BufferedIOBase,
    sample: bytes,
    path: str,
    *,
    preset: ColumnPreset,
    text_field: str | None,
    id_field: str | None,
    encoding: str | None,
    delimiter: str | None,
    max_bytes: int,
    source_format: str,
) -> Iterator[MessageRecord]:
    warnings: list[str] = []
    if encoding is None and (preset.encoding is None or not _decodes(sample, preset.encoding)):
        encoding, warnings = sniff_text_encoding(sample, complete=len(sample) < SNIFF_BYTES)
    else:
        encoding = honour_bom(encoding or preset.encoding or "utf-8", sample)
    mixed = MixedLines(stream) if encoding == MIXED else None
    text: Iterable[str]
    if mixed is not None:
        # Each line in its own encoding: the rows read as CP932 are marked, not the whole file.
        text, warnings = mixed, [w for w in warnings if not w.startswith("mixed-encoding:")]
    else:
        # (A TextIOWrapper closes the stream when it is collected, so it is made only when used.)
        text = io.TextIOWrapper(stream, encoding=encoding, errors=ESCAPE_ERRORS, newline="")
    delimiter = delimiter or choose_delimiter(sample, encoding, source_format)
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    name = os.path.basename(path)
    rows = iter_csv_rows(text, delimiter=delimiter)
    first = next((row for row in rows if row.fields != []), None)  # blank lines before the header
    if first is None:
        # Like an empty .txt, an empty export is a record: a truncated export must not pass unnoticed.
        yield error_record(record_id=name, source_format=source_format, source_file=path, source_locator="file",
                           status="skipped", reason="the file is empty: no header row and no rows")
        return
    at = f"line {first.line}"
    if first.fields is None:
        yield _error(f"{name}:{first.line}", source_format, path, at,
                          f"cannot read the header row; check its quoting. {_count_rows(rows)}")
        return
    header = [h.strip() for h in first.fields]
    # A BOM that the codec did not eat (files joined by a tool) would hide the first column.
    header[0] = header[0].lstrip("\ufeff")
    try:
        cols = Columns(header, preset, text_field, id_field)
    except InputFormatError as exc:
        # Without a header row the first line is a message too, and is lost with the others.
        lost = rows if looks_like_header(header) else itertools.chain([first], rows)
        yield _error(f"{name}:{first.line}", source_format, path, at,
                     f"{exc} {delimiter_hint(header, delimiter)}{_count_rows(lost)}")
        return
    yield from csv_records(CsvFile(path, source_format, header, cols, delimiter, warnings, mixed, max_bytes), rows)


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError as exc:
        # Tolerate only a character cut at the end of the sample.
        return exc.start >= len(sample) - 4
    return True


def _read_jsonl(
    stream: io.BufferedIOBase, sample: bytes, path: str, *, max_bytes: int, **opts: Any
) -> Iterator[MessageRecord]:
    name = os.path.basename(path)
    cols: Columns | None = None
    encoding, warnings = sniff_text_encoding(sample, complete=len(sample) < SNIFF_BYTES)
    if encoding == MIXED:
        warnings = [w for w in warnings if not w.startswith("mixed-encoding:")]  # said per line instead
    lines = enumerate(stream, start=1)
    for lineno, raw in lines:
        line, cp932 = decode_line(raw) if encoding == MIXED else (raw.decode(encoding, ESCAPE_ERRORS), False)
        line = line.strip()
        if not line:
            continue
        common = {
            "record_id": f"{name}:{lineno}", "source_format": "jsonl", "source_file": path,
            "source_locator": f"line {lineno}",
        }
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield error_record(reason=f"malformed JSON ({exc.msg} at column {exc.colno})", **common)
            continue
        if not isinstance(obj, dict):
            yield error_record(reason=f"expected a JSON object, got {type(obj).__name__}", **common)
            continue
        obj, row_warnings = _json_surrogates(obj, not has_escaped_bytes(line), warnings)
        if cp932:
            row_warnings = [*row_warnings, "row-decoded-as:cp932"]
        if cols is None:
            try:
                cols = Columns(list(obj), opts["preset"], opts["text_field"], opts["id_field"], obj)
            except InputFormatError as exc:
                # Read on only to count the lines that are lost, so the error accounts for them.
                count, last = 1, lineno
                for n, rest in lines:
                    if rest.strip():
                        count, last = count + 1, n
                yield error_record(reason=f"{exc} {_not_read(count, str(lineno), str(last))}", **common)
                return
        yield row_record(
            obj, cols, source_format="jsonl", path=path, locator=f"line {lineno}",
            fallback_id=f"{name}:{lineno}", max_bytes=max_bytes, warnings=row_warnings,
        )


def _json_surrogates(obj: Any, decoded_cleanly: bool, warnings: list[str]) -> tuple[Any, list[str]]:
    """``obj`` with lone surrogates repaired, and the row's warnings.

    When every byte of the JSON source decoded, a surrogate in ``obj`` came from a JSON ``\\uD83D`` escape (an
    emoji cut in half): it becomes U+FFFD and is counted.  Otherwise it may be an undecodable byte, and
    :func:`~kasuhara_nlp.readers.common.finish_record` reports the row.
    """
    if not decoded_cleanly:
        return obj, warnings
    obj, lone = repair_surrogates(obj)
    return obj, [*warnings, f"lone-surrogates:{lone}"] if lone else warnings


def iter_json_rows(data: Any, path: str) -> tuple[list[Any], str]:
    """The list of row objects in a JSON document and the JSON pointer of that list.

    Raises:
        InputFormatError: the document is neither an array nor an object.
    """
    if isinstance(data, list):
        return data, ""
    if isinstance(data, dict):
        for key in ("records", "data", "items", "messages", "rows", "results"):
            if isinstance(data.get(key), list):
                return data[key], f"/{key}"
        return [data], ""
    raise InputFormatError(f"expected a JSON array or object, got {type(data).__name__}", path=path)


def _read_json(
    stream: io.BufferedIOBase, sample: bytes, path: str, *, max_bytes: int, **opts: Any
) -> Iterator[MessageRecord]:
    raw = stream.read()
    name = os.path.basename(path)
    text, warnings = decode_whole(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # One document: nothing else can be read, but the run goes on with other files.
        yield _error(name, "json", path, f"line {exc.lineno}",
                          f"malformed JSON ({exc.msg} at column {exc.colno}); is it JSONL? pass format='jsonl'")
        return
    if not isinstance(data, (list, dict)):
        yield _error(name, "json", path, "file",
                          f"expected a JSON array or object, got {type(data).__name__}; nothing was read")
        return
    rows, pointer = iter_json_rows(data, path)
    clean = not has_escaped_bytes(text)
    cols: Columns | None = None
    for i, obj in enumerate(rows):
        locator = f"{pointer}/{i}"
        if not isinstance(obj, dict):
            yield _error(f"{name}:{locator}", "json", path, locator,
                              f"expected a JSON object, got {type(obj).__name__}")
            continue
        obj, row_warnings = _json_surrogates(obj, clean, warnings)
        if cols is None:
            try:
                cols = Columns(list(obj), opts["preset"], opts["text_field"], opts["id_field"], obj)
            except InputFormatError as exc:
                yield _error(f"{name}:{locator}", "json", path, locator, f"{exc} {_not_read(len(rows) - i)}")
                return
        yield row_record(
            obj, cols, source_format="json", path=path, locator=locator,
            fallback_id=f"{name}:{locator}", max_bytes=max_bytes, warnings=row_warnings,
        )


def read_tabular(
    path: str,
    *,
    format: str | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    preset: str | ColumnPreset | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[MessageRecord]:
    """Read a CSV/TSV, JSONL or JSON file (``-`` = stdin) lazily, one record per row.

    ``format`` is one of TABULAR_FORMATS; by default it comes from the extension (``.json``
    files starting with ``{`` on every line are read as JSONL).  ``encoding`` overrides sniffing.
    A file without a text column gives one "error" record that lists the columns found (never
    cell contents) and counts the rows not read.

    Raises:
        InputFormatError: an unknown preset, format or encoding.
    """
    cp = resolve_preset(preset)
    stream, sample, name = open_input(path)
    try:
        fmt = format or _guess_format(path, sample)
        if fmt in ("csv", "tsv"):
            yield from _read_csv(
                stream, sample, name, preset=cp, text_field=text_field, id_field=id_field,
                encoding=encoding, delimiter=delimiter, max_bytes=max_message_bytes, source_format=fmt,
            )
        elif fmt == "jsonl":
            yield from _read_jsonl(
                stream, sample, name, preset=cp, text_field=text_field, id_field=id_field,
                max_bytes=max_message_bytes,
            )
        elif fmt == "json":
            yield from _read_json(
                stream, sample, name, preset=cp, text_field=text_field, id_field=id_field,
                max_bytes=max_message_bytes,
            )
        else:
            raise InputFormatError(
                f"format {fmt!r} is not tabular; use one of {', '.join(TABULAR_FORMATS)}", path=name
            )
    finally:
        if path != "-":
            stream.close()


def _guess_format(path: str, sample: bytes) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext in (".tsv", ".tab"):
        return "tsv"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".json":
        head = sample.lstrip()
        lines = [ln.strip() for ln in head.splitlines()[:3] if ln.strip()]
        if len(lines) >= 2 and all(ln.startswith(b"{") and ln.endswith(b"}") for ln in lines):
            return "jsonl"
        return "json"
    return "csv"


def _same_tabs_on_every_line(lines: list[str]) -> bool:
    """Two or more non-blank lines, each with the same number (at least one) of tabs.

    >>> _same_tabs_on_every_line(["a\\tb", "c\\td", ""]), _same_tabs_on_every_line(["a\\tb", "本文です"])
    (True, False)
    """
    counts = {line.count("\t") for line in lines if line.strip()}
    return sum(1 for line in lines if line.strip()) >= 2 and len(counts) == 1 and counts != {0}


def sniff_delimited(sample: bytes) -> str | None:
    """``"tsv"`` or ``"csv"`` when ``sample`` opens with a header row that names a text column, else None.

    For files whose extension says nothing, such as Excel's "Unicode テキスト" save (a UTF-16 TSV
    named ``.txt``).  A known text column is required, so that chat logs with tabs (LINE) and
    messages with commas stay what they are.  A UTF-16 file may have one column (Excel saves a sheet
    of messages that way); in other encodings a first line naming a text column is a letter's first word.

    >>> import codecs
    >>> sniff_delimited(codecs.BOM_UTF16_LE + "id\\t本文\\r\\n1\\t返金しろ\\r\\n".encode("utf-16-le"))
    'tsv'
    >>> sniff_delimited("本文\\r\\n返金しろ\\r\\n".encode("utf-16")), sniff_delimited("本文\\n返金しろ\\n".encode())
    ('tsv', None)
    >>> sniff_delimited("10:15\\t山田\\t返金しろ\\n".encode())

    A UTF-16 file whose every line has the same number of tabs is a table saved without its header row:
    "tsv", so that the table reader says which row it needs instead of scoring the table as one message.

    >>> sniff_delimited("1001\\t返金しろ\\r\\n1002\\t確認します\\r\\n".encode("utf-16"))
    'tsv'
    """
    if not sample.strip():
        return None
    head = sample[:8192]  # even: a UTF-16 sample is not cut inside a code unit
    complete = len(sample) <= len(head)
    encoding, _ = sniff_text_encoding(head, complete=complete)
    utf16 = "16" in encoding
    lines = re.split(r"\r\n|\r|\n", head.decode(encoding, ESCAPE_ERRORS))
    first = lines[0]
    if utf16 and _same_tabs_on_every_line(lines if complete else lines[:-1]):  # the last line may be cut
        return "tsv"
    delimiter = "\t" if first.count("\t") >= max(first.count(","), 1) else "," if "," in first else None
    one_column = delimiter is None and utf16
    if one_column:
        delimiter = "\t"
    elif delimiter is None:
        return None
    names = [h.strip().lstrip("\ufeff") for h in next(csv.reader([first], delimiter=delimiter))]
    if (len(names) < 2 and not one_column) or not looks_like_header(names):
        return None
    if find_column(names, _ALL_TEXT_COLUMNS) is None:
        return None
    return "tsv" if delimiter == "\t" else "csv"
