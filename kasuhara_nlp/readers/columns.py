"""From one row or JSON object to a record: which source column holds each field, and the record built.

The columns are resolved once per file, from the header (or the first object's keys).  When no
text column is found, :class:`Columns` raises :class:`InputFormatError` with a message that names
the columns but never quotes cell contents: a file without a header row has a message (names, phone
numbers, the customer's words) where the header should be, and that must not reach a log.

>>> cols = Columns(["チケットID", "本文"], resolve_preset(None), None, None)
>>> row_record({"チケットID": "7", "本文": "返金しろ"}, cols, source_format="csv", path="a.csv",
...            locator="line 2", fallback_id="a.csv:2", max_bytes=1000, warnings=[]).record_id
'7'
>>> describe_columns(["1001", "山田太郎", "090-1234-5678"])
'3 columns found, but the first row looks like data, not a header row (its values are not shown)'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InputFormatError
from ..pii import find_pii
from ..records import MessageRecord
from .common import error_record, finish_record, normalise_role
from .html import html_to_text
from .presets import PRESETS, ColumnPreset, find_column, preset_names
from .timestamps import read_timestamp

__all__ = [
    "Columns", "describe_columns", "follows_id", "get_field", "looks_like_header", "looks_like_id", "resolve_preset",
    "row_record",
]

_TRUE_WORDS = {"true", "1", "yes", "y", "はい", "private", "internal"}
_FALSE_WORDS = {"false", "0", "no", "n", "いいえ", "非公開", "private", "internal"}
# What a column name never holds but a cell often does: sentence punctuation, mail addresses,
# quotes and braces (a JSON line read as CSV), numbers of three digits or more (ids, phone
# numbers, dates, postal codes), or nothing but a number or a time.
_DATA_LIKE = re.compile(r"[@。、！？!?「」『』{}\[\]<>\"\n\r]|\d{3,}|^[\s\d.,:/+\-]+$")
_MAX_NAME = 40
# What an id is made of when it is ASCII: ticket numbers, INC-0001, UUIDs, mail Message-IDs.
_ASCII_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.:#/@<>+=]{0,63}")
# Never in an id, often in a sentence.
_SENTENCE = re.compile(r"[\s。、，．！？!?「」『』（）()]")
# An HTML body in a text column (Salesforce puts HTML there for some Email-to-Case setups).
_HTML_START = re.compile(r"\s*<(?:!doctype|html|head|body|div|p|br|span|table|font|blockquote)\b", re.IGNORECASE)


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
        raise InputFormatError(f"unknown preset {preset!r}; choose one of: {', '.join(preset_names())}")
    return found


def get_field(obj: Mapping[str, Any], key: str | None) -> Any:
    """Value at a column name or a dotted JSON path (``via.channel``).

    >>> get_field({"msg": {"body": "まだか"}}, "msg.body")
    'まだか'
    """
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


def looks_like_header(names: Sequence[str]) -> bool:
    """True when every name looks like a column name rather than a cell of data.

    >>> looks_like_header(["id", "本文", ""]), looks_like_header(["1", "山田", "返金しろ"])
    (True, False)
    """
    for name in names:
        key = unicodedata.normalize("NFKC", name).strip()
        if len(key) > _MAX_NAME or _DATA_LIKE.search(key):
            return False
    return True


def _id_shape(value: str) -> str:
    """An ASCII id with its digits as 9 and its letters as a: ``INC-0012`` and ``INC-0013`` have one shape."""
    return re.sub("[A-Za-z]", "a", re.sub("[0-9]", "9", value))


def looks_like_id(value: str, like: str | None, *, strict: bool = True) -> bool:
    """Whether a cell could be an id of a file whose last id read was ``like`` (None: no id read yet).

    Asked only of the rows after a broken row, to tell a row from a line of the broken message: ids are short,
    have no spaces or sentence punctuation and no PII, and (``strict``, while a quote is open) are digits where
    the file's ids are digits, ASCII id characters where they are ASCII.  Not strict, any ASCII will do there (a
    row whose id a stray quote damaged is still a row).

    >>> looks_like_id("2", "1"), looks_like_id("INC-0002", None), looks_like_id("090-1234-5678", None)
    (True, True, False)
    >>> looks_like_id("電話は090-1234-5678", None), looks_like_id("12A", "11"), looks_like_id("問-2", "問-1")
    (False, False, True)
    >>> looks_like_id('99"2', "98"), looks_like_id('99"2', "98", strict=False), looks_like_id("以上", "98", strict=False)
    (False, True, False)
    """
    value = unicodedata.normalize("NFKC", value).strip()
    if not value or len(value) > 64 or _SENTENCE.search(value) or find_pii(value):
        return False
    like = unicodedata.normalize("NFKC", like) if like is not None else None  # １２ is 12, as for the value
    if like is not None and not _ASCII_ID.fullmatch(like):
        return True  # the file's ids are not ASCII: nothing more to compare
    if not strict:
        return value.isascii()
    # The ids are ASCII (or unknown, and ASCII is what nearly every system writes).
    return bool(_ASCII_ID.fullmatch(value)) and (value.isdigit() or not (like or "").isdigit())


def follows_id(value: str, row_id: str) -> bool:
    """Whether ``value`` looks like the id of a row after the one with id ``row_id``: a larger number, or
    another id of the same shape.

    >>> follows_id("2", "1"), follows_id("T-02", "T-01"), follows_id("1", "2"), follows_id("2回目", "1")
    (True, True, False, False)
    """
    value, row_id = value.strip(), row_id.strip()
    if not value or value == row_id or not _ASCII_ID.fullmatch(value):
        return False
    if value.isdigit() and row_id.isdigit():
        return int(value) > int(row_id)
    return _id_shape(value) == _id_shape(row_id)


def describe_columns(names: Sequence[str]) -> str:
    """The columns found, for an error message: their names when the row is a header, else only a count.

    >>> describe_columns(["id", "foo"])
    '2 columns found: id, foo'
    """
    if not looks_like_header(names):
        return (f"{len(names)} columns found, but the first row looks like data, not a header row "
                "(its values are not shown)")
    shown = ", ".join(n.strip() for n in names[:40]) + (", ..." if len(names) > 40 else "")
    return f"{len(names)} columns found: {shown or '(none)'}"


class Columns:
    """The source columns chosen for each field, resolved once from the first row's keys.

    Raises:
        InputFormatError: no text column (without the path: the reader reports it as a record).
    """

    def __init__(
        self,
        keys: list[str],
        preset: ColumnPreset,
        text_field: str | None,
        id_field: str | None,
        sample: Mapping[str, Any] | None = None,
    ):
        self.text = text_field or find_column(keys, preset.text)
        if self.text is None or (
            text_field and text_field not in keys and (sample is None or get_field(sample, text_field) is None)
        ):
            wanted = f"column {text_field!r} is not in the file" if text_field else "no text column found"
            nested = _nested_list(sample)
            if nested is not None:
                # --text-field reaches into objects (msg.body), never into a list of messages.
                fix = (f"The messages look nested in the list {nested!r}, which --text-field cannot reach: convert the "
                       "file to JSONL with one message per line (id, text, role), or, for a Freshdesk, Intercom, "
                       "Help Scout, HubSpot, Slack or Teams export, pass the file as the vendor exported it")
            elif looks_like_header(keys):
                fix = (f"Pass --text-field NAME (text_field=NAME) naming the message column, or a preset "
                       f"(--preset {'|'.join(preset_names())})")
            else:
                fix = "Add a header row naming the columns (for example id,text) and read the file again"
            raise InputFormatError(f"{wanted}; {describe_columns(keys)}. {fix}.")
        self.id = id_field or find_column(keys, preset.id)
        self.conversation = find_column(keys, preset.conversation)
        self.timestamp = find_column(keys, preset.timestamp)
        self.author = find_column(keys, preset.author)
        self.role = find_column(keys, preset.role)
        self.visibility = find_column(keys, preset.visibility)
        self.internal = find_column(keys, preset.internal)
        self.subject = find_column(keys, preset.subject)
        self.staff = find_column(keys, preset.staff)
        self.channel = find_column(keys, preset.channel)
        # Sources that carry HTML mail (Salesforce HtmlBody): the HTML column stands in for an
        # empty text column row by row, and whatever HTML is scored is converted to text first.
        self.html = find_column(keys, preset.html) if preset.html else None
        self.preset = preset


def _nested_list(sample: Mapping[str, Any] | None, depth: int = 0) -> str | None:
    """The dotted path of a list of objects inside ``sample`` (nested messages), or None.

    >>> _nested_list({"_embedded": {"threads": [{"body": "x"}]}})
    '_embedded.threads'
    """
    if not isinstance(sample, Mapping) or depth > 3:
        return None
    for key, value in sample.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value[:5]):
            return str(key)
        inner = _nested_list(value, depth + 1) if isinstance(value, Mapping) else None
        if inner is not None:
            return f"{key}.{inner}"
    return None


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _join_key(value: Any) -> str | None:
    """A conversation id as a join key: NFKC (１２３ and 123 are one ticket), spaces trimmed.

    >>> _join_key("　１２３ "), _join_key(None)
    ('123', None)
    """
    text = _as_str(value)
    return unicodedata.normalize("NFKC", text).strip() or None if text else None


def _place(locator: str) -> str:
    """The row's place for an id: the line number of ``line 12``, the index of a JSON pointer ``/records/3``."""
    return locator.rpartition(" ")[2] if locator.startswith("line ") else locator.rpartition("/")[2] or locator


def _body(row: Mapping[str, Any], cols: Columns, warnings: list[str]) -> tuple[Any, str | None]:
    """The row's text, converted from HTML where the source carries HTML, and the column it came from."""
    text = get_field(row, cols.text)
    column = cols.text
    if cols.html and cols.html != cols.text and (text is None or (isinstance(text, str) and not text.strip())):
        # An HTML-only mail: Salesforce leaves TextBody empty and fills HtmlBody.
        html = get_field(row, cols.html)
        if isinstance(html, str) and html.strip():
            text, column = html, cols.html
    # Only for sources known to carry HTML mail: elsewhere "<" in a message is the customer's own.
    if cols.preset.html and isinstance(text, str) and (column == cols.html or _HTML_START.match(text)):
        warnings.append(f"html-to-text:{column}")
        text = html_to_text(text)
    return text, column


def row_record(
    row: Mapping[str, Any],
    cols: Columns,
    *,
    source_format: str,
    path: str,
    locator: str,
    fallback_id: str,
    max_bytes: int,
    warnings: list[str],
) -> MessageRecord:
    """Build (and finish) the record of one row or JSON object."""
    raw_id = _as_str(get_field(row, cols.id))
    conversation_id = _join_key(get_field(row, cols.conversation))
    if raw_id and cols.id == cols.conversation and cols.preset.name != "auto":
        # A preset whose ticket number names the conversation, not the message (jp-helpdesk exports have one row
        # per message of a ticket): each row gets its own id, the ticket number plus the row's place.  Without a
        # preset a チケットID column may be either, and stays the id it always was.
        raw_id = f"{conversation_id}:{_place(locator)}"
    common: dict[str, Any] = {
        "record_id": raw_id or fallback_id,
        "source_format": source_format,
        "source_file": path,
        "source_locator": locator,
        "message_id": raw_id,
    }
    row_warnings = list(warnings)
    text, column = _body(row, cols, row_warnings)
    if text is not None and not isinstance(text, str):
        return error_record(reason=f"text field {column!r} is {type(text).__name__}, expected a string", **common)
    record = MessageRecord(body_text=text or "", decode_warnings=row_warnings, **common)
    record.conversation_id = conversation_id
    record.subject = _as_str(get_field(row, cols.subject))
    record.author_name = _as_str(get_field(row, cols.author))
    record.staff_name = _as_str(get_field(row, cols.staff))
    record.channel = _as_str(get_field(row, cols.channel)) or cols.preset.channel_default
    # A date no reader can place (0001/01/01, 2025/13/45) is said in a warning: timing signals leave the row out.
    record.timestamp_utc, record.timestamp_local, record.timestamp_assumed_tz = read_timestamp(
        get_field(row, cols.timestamp), cols.timestamp, record.decode_warnings)
    if cols.role is not None:
        record.author_role = normalise_role(get_field(row, cols.role))
        record.role_basis = f"column {cols.role}"
    if record.author_role == "unknown" and record.staff_name and record.author_name == record.staff_name:
        # Helpdesk exports list the assigned staff member; a row sent by them is our reply.
        record.author_role = "agent"
        record.role_basis = f"column {cols.author} equals {cols.staff}"
    if cols.visibility is not None:
        vis = get_field(row, cols.visibility)
        if vis is False or (isinstance(vis, str) and vis.strip().lower() in _FALSE_WORDS):
            record.visibility = "internal"
    if cols.internal is not None:
        flag = get_field(row, cols.internal)
        if flag is True or (isinstance(flag, str) and flag.strip().lower() in _TRUE_WORDS):
            record.visibility = "internal"
    if cols.preset.name != "auto":
        record.extra["preset"] = cols.preset.name
    return finish_record(record, max_bytes=max_bytes)

