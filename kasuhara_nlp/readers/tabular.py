"""CSV/TSV, JSONL and JSON-array exports: one record per row, object or line.

Rows that cannot be read are yielded as records with status "error" and a reason naming the file
and line, so a run accounts for every input row; only a missing text column stops the run,
because then no row can be read.

>>> import io, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "inbox.csv")
>>> _ = open(path, "w", encoding="utf-8").write("id,本文\\n1,返金しろ\\n")
>>> [(r.record_id, r.body_text, r.status) for r in read_tabular(path)]
[('1', '返金しろ', 'ok')]
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import InputFormatError
from ..records import MessageRecord
from .common import MAX_MESSAGE_BYTES, error_record, finish_record, normalise_role
from .presets import PRESETS, ColumnPreset, find_column, preset_names
from .streams import ESCAPE_ERRORS, open_input, sniff_text_encoding
from .timestamps import parse_timestamp

__all__ = ["TABULAR_FORMATS", "read_tabular", "resolve_preset"]

TABULAR_FORMATS = ("csv", "tsv", "jsonl", "json")

# Big enough that a 1 MB message reaches the size check (and is reported as too large) instead
# of failing inside the csv module.  The limit is process-wide; raising it harms no one.
_CSV_FIELD_LIMIT = 16 * 1024 * 1024
_FALSE_WORDS = {"false", "0", "no", "n", "いいえ", "非公開", "private", "internal"}


def resolve_preset(preset: str | ColumnPreset | None) -> ColumnPreset:
    """The column preset for a name (None: guess from common headers).

    >>> resolve_preset(None).name
    'auto'
    """
    if preset is None:
        return ColumnPreset(name="auto")
    if isinstance(preset, ColumnPreset):
        return preset
    found = PRESETS.get(preset)
    if found is None:
        raise InputFormatError(
            f"unknown preset {preset!r}; choose one of: {', '.join(preset_names())}"
        )
    return found


def _get(obj: Mapping[str, Any], key: str | None) -> Any:
    """Value at a column name or a dotted JSON path (``via.channel``)."""
    if key is None:
        return None
    if key in obj:
        return obj[key]
    cur: Any = obj
    for part in key.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


class _Columns:
    """The source columns chosen for each field, resolved once from the first row's keys."""

    def __init__(
        self,
        keys: list[str],
        preset: ColumnPreset,
        text_field: str | None,
        id_field: str | None,
        path: str,
        sample: Mapping[str, Any] | None = None,
    ):
        def pick(explicit: str | None, candidates: tuple[str, ...]) -> str | None:
            if explicit:
                return explicit
            return find_column(keys, candidates)

        self.text = pick(text_field, preset.text)
        if self.text is None or (
            text_field and text_field not in keys and (sample is None or _get(sample, text_field) is None)
        ):
            shown = ", ".join(keys[:40]) or "(none)"
            wanted = f"column {text_field!r} is not in the file" if text_field else "no text column found"
            raise InputFormatError(
                f"{wanted}; columns found: {shown}. Pass --text-field NAME (text_field=NAME) "
                f"naming the message column, or a preset (--preset {'|'.join(preset_names())})",
                path=path,
            )
        self.id = pick(id_field, preset.id)
        self.conversation = find_column(keys, preset.conversation)
        self.timestamp = find_column(keys, preset.timestamp)
        self.author = find_column(keys, preset.author)
        self.role = find_column(keys, preset.role)
        self.visibility = find_column(keys, preset.visibility)
        self.subject = find_column(keys, preset.subject)
        self.staff = find_column(keys, preset.staff)
        self.channel = find_column(keys, preset.channel)
        self.preset = preset


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _row_record(
    row: Mapping[str, Any],
    cols: _Columns,
    *,
    source_format: str,
    path: str,
    locator: str,
    fallback_id: str,
    max_bytes: int,
    warnings: list[str],
) -> MessageRecord:
    """Build (and finish) the record of one row or JSON object."""
    raw_id = _as_str(_get(row, cols.id))
    record_id = raw_id or fallback_id
    text = _get(row, cols.text)
    common: dict[str, Any] = {
        "record_id": record_id,
        "source_format": source_format,
        "source_file": path,
        "source_locator": locator,
        "message_id": raw_id,
    }
    if text is not None and not isinstance(text, str):
        return error_record(
            reason=f"text field {cols.text!r} is {type(text).__name__}, expected a string",
            **common,
        )
    record = MessageRecord(body_text=text or "", decode_warnings=list(warnings), **common)
    record.conversation_id = _as_str(_get(row, cols.conversation))
    record.subject = _as_str(_get(row, cols.subject))
    record.author_name = _as_str(_get(row, cols.author))
    record.staff_name = _as_str(_get(row, cols.staff))
    record.channel = _as_str(_get(row, cols.channel)) or cols.preset.channel_default
    record.timestamp_utc, record.timestamp_local, record.timestamp_assumed_tz = parse_timestamp(
        _get(row, cols.timestamp)
    )
    if cols.role is not None:
        record.author_role = normalise_role(_get(row, cols.role))
        record.role_basis = f"column {cols.role}"
    if record.author_role == "unknown" and record.staff_name and record.author_name == record.staff_name:
        # Helpdesk exports list the assigned staff member; a row sent by them is our reply.
        record.author_role = "agent"
        record.role_basis = f"column {cols.author} equals {cols.staff}"
    if cols.visibility is not None:
        vis = _get(row, cols.visibility)
        if vis is False or (isinstance(vis, str) and vis.strip().lower() in _FALSE_WORDS):
            record.visibility = "internal"
    if cols.preset.name != "auto":
        record.extra["preset"] = cols.preset.name
    return finish_record(record, max_bytes=max_bytes)


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
    if encoding is None:
        encoding = preset.encoding
        if encoding is None or not _decodes(sample, encoding):
            encoding, warnings = sniff_text_encoding(sample, complete=len(sample) < 256 * 1024)
    text = io.TextIOWrapper(stream, encoding=encoding, errors=ESCAPE_ERRORS, newline="")
    if delimiter is None:
        first = sample.split(b"\n", 1)[0].decode(encoding, "ignore") if "16" not in encoding else ""
        if "16" in encoding or source_format == "tsv" or first.count("\t") > first.count(","):
            delimiter = "\t"
        else:
            delimiter = ","
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    name = os.path.basename(path)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputFormatError(f"cannot read the header row: {exc}", path=path, line=1) from None
    header = [h.strip() for h in header]
    cols = _Columns(header, preset, text_field, id_field, path)
    last_line = reader.line_num
    while True:
        start_line = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield error_record(
                record_id=f"{name}:{start_line}", source_format=source_format, source_file=path,
                source_locator=f"line {start_line}",
                reason=f"malformed CSV row ({exc}); check the quoting of this row",
            )
            continue
        last_line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line is not a record
        locator = f"line {start_line}"
        if len(row) != len(header):
            yield error_record(
                record_id=f"{name}:{start_line}", source_format=source_format, source_file=path,
                source_locator=locator,
                reason=f"row has {len(row)} fields but the header has {len(header)}; check quoting and delimiters",
            )
            continue
        yield _row_record(
            dict(zip(header, row)), cols, source_format=source_format, path=path, locator=locator,
            fallback_id=f"{name}:{start_line}", max_bytes=max_bytes, warnings=warnings,
        )


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
    cols: _Columns | None = None
    encoding, warnings = sniff_text_encoding(sample, complete=len(sample) < 256 * 1024)
    for lineno, raw in enumerate(stream, start=1):
        line = raw.decode(encoding, ESCAPE_ERRORS).strip()
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
        if cols is None:
            cols = _Columns(list(obj), opts["preset"], opts["text_field"], opts["id_field"], path, obj)
        yield _row_record(
            obj, cols, source_format="jsonl", path=path, locator=f"line {lineno}",
            fallback_id=f"{name}:{lineno}", max_bytes=max_bytes, warnings=warnings,
        )


def iter_json_rows(data: Any, path: str) -> tuple[list[Any], str]:
    """The list of row objects in a JSON document and the JSON pointer of that list."""
    if isinstance(data, list):
        return data, ""
    if isinstance(data, dict):
        for key in ("records", "data", "items", "messages", "rows", "results"):
            if isinstance(data.get(key), list):
                return data[key], f"/{key}"
        return [data], ""
    raise InputFormatError(
        f"expected a JSON array or object, got {type(data).__name__}", path=path
    )


def _read_json(
    stream: io.BufferedIOBase, sample: bytes, path: str, *, max_bytes: int, **opts: Any
) -> Iterator[MessageRecord]:
    raw = stream.read()
    encoding, warnings = sniff_text_encoding(raw[: 256 * 1024], complete=len(raw) <= 256 * 1024)
    try:
        data = json.loads(raw.decode(encoding, ESCAPE_ERRORS))
    except json.JSONDecodeError as exc:
        # One document: nothing else can be read, but the run goes on with other files.
        yield error_record(
            record_id=os.path.basename(path), source_format="json", source_file=path,
            source_locator=f"line {exc.lineno}",
            reason=f"malformed JSON ({exc.msg} at column {exc.colno}); is it JSONL? pass format='jsonl'",
        )
        return
    rows, pointer = iter_json_rows(data, path)
    name = os.path.basename(path)
    cols: _Columns | None = None
    for i, obj in enumerate(rows):
        locator = f"{pointer}/{i}"
        if not isinstance(obj, dict):
            yield error_record(
                record_id=f"{name}:{locator}", source_format="json", source_file=path,
                source_locator=locator, reason=f"expected a JSON object, got {type(obj).__name__}",
            )
            continue
        if cols is None:
            cols = _Columns(list(obj), opts["preset"], opts["text_field"], opts["id_field"], path, obj)
        yield _row_record(
            obj, cols, source_format="json", path=path, locator=locator,
            fallback_id=f"{name}:{locator}", max_bytes=max_bytes, warnings=warnings,
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

    Raises:
        InputFormatError: no text column (the message lists the columns found), or an unknown
            preset.
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
