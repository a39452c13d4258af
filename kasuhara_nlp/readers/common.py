"""What every reader does to a record before yielding it: segments, size limits, status by role.

Readers fill in the source fields (text, author, role, visibility, time) and hand the record to
:func:`finish_record`, which applies the one scoring rule of the project: only customer/unknown,
public, human-written messages get status "ok"; everything else is kept with a reason.

>>> r = finish_record(MessageRecord(record_id="a", body_text="返金しろ", author_role="agent"))
>>> r.status, r.reason
('not_scored', 'author is agent (role from unknown source)')
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from typing import Any

from ..pii import find_pii
from ..records import MessageRecord
from ..segments import text_to_score
from .streams import has_escaped_bytes, repair_surrogates

__all__ = [
    "MAX_MESSAGE_BYTES",
    "error_record",
    "finish_record",
    "input_error",
    "as_object",
    "first_or_mostly",
    "mostly",
    "normalise_role",
    "text_field",
    "unopenable_input",
]

#: Messages larger than this (UTF-8 bytes) are skipped: no customer writes 1 MB, a dump does.
MAX_MESSAGE_BYTES = 1_000_000

_LONE_SURROGATE = re.compile("[\udc00-\udcff]")
# The str fields besides the body that reach the output (ids, names, subject, locators).
_TEXT_FIELDS = tuple(
    f.name for f in dataclasses.fields(MessageRecord) if f.type in ("str", "str | None") and f.name != "body_text"
)

_CUSTOMER_WORDS = {
    "customer", "end-user", "end_user", "enduser", "user", "requester", "visitor", "lead", "contact",
    "incoming", "inbound", "in", "true", "1", "yes", "お客様", "お客さま", "顧客", "客", "利用者", "ユーザー",
    "受信", "customer_reply", "inquiry",
}
_AGENT_WORDS = {
    "agent", "admin", "staff", "operator", "assistant", "manager", "outgoing", "outbound", "out",
    "false", "0", "no", "reply", "担当", "担当者", "オペレーター", "スタッフ", "サポート", "送信", "当社", "弊社",
    "email", "forwarded_email",
}
_BOT_WORDS = {"bot", "chatbot", "ai", "ボット", "自動応答"}
_SYSTEM_WORDS = {"system", "システム", "log", "event"}


def normalise_role(value: object) -> str:
    """Map a source's author value to one of ROLES (unknown when it cannot be told).

    Booleans are the Salesforce/Freshdesk ``Incoming`` flag: True means the customer wrote it.

    >>> normalise_role("end-user"), normalise_role(False), normalise_role("assistant"), normalise_role("x")
    ('customer', 'agent', 'agent', 'unknown')
    """
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "customer" if value else "agent"
    key = str(value).strip().lower()
    key = key.replace("incoming_email", "incoming")
    if key in _BOT_WORDS:
        return "bot"
    if key in _SYSTEM_WORDS:
        return "system"
    if key in _CUSTOMER_WORDS:
        return "customer"
    if key in _AGENT_WORDS:
        return "agent"
    return "unknown"


def as_object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else {}: for a field read only for what it holds (an author's name,
    a channel), where a value of the wrong type means the same as a missing one.

    >>> as_object({"name": "佐藤"}), as_object("佐藤"), as_object(None)
    ({'name': '佐藤'}, {}, {})
    """
    return value if isinstance(value, dict) else {}


def text_field(value: Any) -> str | None:
    """A JSON value for a record's optional text field (subject, author name, channel): a string as it is, a
    number written out, and anything else (a bool, a list, an object) None: it names nothing, and a non-string
    there would reach the output as if it were text.

    >>> text_field("返品"), text_field(42), text_field(True), text_field({"a": 1})
    ('返品', '42', None, None)
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def mostly(items: list[Any], test: Callable[[dict[str, Any]], bool]) -> bool:
    """True when at least one and at least half of ``items`` are objects passing ``test``.

    Format detection by the first few items of a list: one damaged item must not turn the whole file over to
    another reader, which would then read none of its messages; the reader makes it an error record instead.

    >>> looks = lambda o: "ts" in o
    >>> mostly([{}, {"ts": 1}, {"ts": 2}], looks), mostly([None, {"a": 1}, {"ts": 2}], looks), mostly([], looks)
    (True, False, False)
    """
    hits = sum(1 for item in items if isinstance(item, dict) and test(item))
    return hits > 0 and 2 * hits >= len(items)


def first_or_mostly(items: list[Any], test: Callable[[dict[str, Any]], bool], *, head: int = 5) -> bool:
    """True when the first item is an object passing ``test``, or most of the first ``head`` items are.

    How a reader recognises its format from the start of a list: a damaged first item must not hide
    the rest (see :func:`mostly`).

    >>> looks = lambda o: "ts" in o
    >>> first_or_mostly([{"ts": 1}, None, None], looks), first_or_mostly([None, {"ts": 1}], looks)
    (True, True)
    >>> first_or_mostly([None, None, {"ts": 1}], looks), first_or_mostly([], looks)
    (False, False)
    """
    return bool(items) and (isinstance(items[0], dict) and test(items[0]) or mostly(items[:head], test))


def error_record(
    *,
    record_id: str,
    source_format: str,
    source_file: str,
    source_locator: str,
    reason: str,
    status: str = "error",
    **fields: Any,
) -> MessageRecord:
    """A record standing for input that could not be read, so that nothing is silently dropped.

    >>> error_record(record_id="f:3", source_format="csv", source_file="f.csv",
    ...              source_locator="line 3", reason="bad quoting").reason
    'f.csv line 3: bad quoting'
    """
    record = MessageRecord(
        record_id=record_id,
        source_format=source_format,
        source_file=source_file,
        source_locator=source_locator,
        status=status,
        reason=f"{source_file} {source_locator}: {reason}",
        **fields,
    )
    _repair_fields(record)
    return record


def finish_record(record: MessageRecord, *, max_bytes: int = MAX_MESSAGE_BYTES) -> MessageRecord:
    """Segment the body, find PII, and set status/reason by size, role, visibility and origin.

    Records already marked "error" or "skipped" are returned unchanged.
    """
    _repair_fields(record)
    if record.status in ("error", "skipped"):
        return record
    where = f"{record.source_file} {record.source_locator}".strip()
    text = record.body_text
    # A caller's own str (source "library", predict_conversation) was never decoded from bytes here, so a
    # U+DCxx in it is half of an emoji, not an undecodable byte: it is repaired below like the others.
    if has_escaped_bytes(text) and record.source_format != "library":
        record.status = "error"
        record.reason = f"{where}: undecodable bytes in the text; re-export as UTF-8 or pass the right encoding"
        text = _LONE_SURROGATE.sub("\ufffd", text)
        record.body_text, _ = repair_surrogates(text)
        record.decode_warnings.append("undecodable-bytes")
        return record
    # Halves of UTF-16 pairs that no decoder made (a JSON "\ud83d" escape, a library caller's str): the text
    # cannot be tokenised or written as UTF-8, so they become U+FFFD and the message is still scored.
    text, lone = repair_surrogates(text)
    if lone:
        record.body_text = text
        record.decode_warnings.append(f"lone-surrogates:{lone}")
    if not text.strip():
        record.status = "skipped"
        record.reason = f"{where}: empty text"
        return record
    # Cheap check first: a str can never be shorter in UTF-8 than in characters.
    if len(text) > max_bytes // 4 and len(text.encode("utf-8")) > max_bytes:
        record.status = "skipped"
        record.reason = (
            f"{where}: message is {len(text.encode('utf-8'))} bytes, over the {max_bytes}-byte limit; "
            "split it or raise max_message_bytes"
        )
        record.body_text = ""
        return record
    scoring = text_to_score(text)
    record.text_to_score = scoring.text
    record.segments = scoring.segments
    record.text_fallback = scoring.fallback
    record.pii_findings = [f.to_dict() for f in find_pii(text)]
    basis = record.role_basis or "unknown source"
    if record.author_role in ("agent", "bot", "system"):
        record.status = "not_scored"
        record.reason = f"author is {record.author_role} (role from {basis})"
    elif record.visibility != "public":
        record.status = "not_scored"
        record.reason = f"{record.visibility} message (internal note), not customer-facing"
    elif record.is_auto_generated:
        record.status = "not_scored"
        record.reason = record.reason or "auto-generated message (auto-reply, bounce or system mail)"
    else:
        record.status = "ok"
    return record


def _repair_fields(record: MessageRecord) -> None:
    """Make U+FFFD of lone surrogates in the record's other text fields (id, names, subject...), which the
    output writes as UTF-8: one record's broken id must not stop the whole output."""
    for name in _TEXT_FIELDS:
        value = getattr(record, name)
        if isinstance(value, str):  # None, or a JSON value a reader left as it was, is not text to repair
            fixed, lone = repair_surrogates(value)
            if lone:
                setattr(record, name, fixed)
                record.decode_warnings.append(f"lone-surrogates:{name}")


def unopenable_input(path: str) -> str:
    """Why an input path given by the caller cannot be read ("" when it can): missing, or refused by the system."""
    if path == "-":
        return ""
    if not os.path.lexists(path):
        return "no such file or folder; check the path"
    try:
        if os.path.isdir(path):
            os.listdir(path)
        elif os.path.isfile(path) or not os.path.exists(path):
            # Not a pipe or device: opening one to test it could block or consume what the reader needs.
            with open(path, "rb"):
                pass
    except OSError as exc:
        # A dangling link, a permission or an I/O error: say which, never the file's contents.
        return f"cannot open ({exc.strerror or type(exc).__name__}); check the path and its permissions"
    return ""


def input_error(path: str, problem: str) -> MessageRecord:
    """The one record of an input path that could not be opened, so that the summary counts it."""
    return error_record(record_id=path, source_format="input", source_file=path, source_locator="path",
                        reason=f"{problem}. Nothing was read from it; the other inputs were read")
