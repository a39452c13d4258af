"""Helpdesk and chat exports other than Zendesk, told apart by their JSON shape and read with roles.

Freshdesk (API v2 tickets with ``conversations``, or a conversations list), Intercom (a conversation with
``source`` and ``conversation_parts``), Help Scout (``_embedded.conversations[]._embedded.threads``), HubSpot
conversations (messages with ``conversationsThreadId``), Slack channel exports (``<channel>/<day>.json``) and
Microsoft Graph/Teams ``chatMessage`` lists (``{"value": [...]}``).  Each is a conversation layout the generic
JSON reader cannot follow (the messages are nested, their roles are vendor fields), and each mixes the
customer's words with agent replies, internal notes and bot or system posts, which must not be scored as the
customer's.  HTML bodies are converted to text, quote containers dropped (:func:`html_to_text`).  The Slack and
Teams adapters, with their roles from ``users.json`` and ``userIdentityType``, are in :mod:`.chat_exports`; what
an adapter yields is in :mod:`.adapters`.

>>> t = {"id": 1, "requester_id": 9, "description_text": "返金しろ", "conversations": [
...     {"id": 2, "body_text": "SV相談済み", "private": True, "incoming": False, "user_id": 5}]}
>>> vendor_of(t)
'freshdesk'
>>> [(r.record_id, r.author_role, r.visibility, r.status) for r in vendor_records(t, "freshdesk", "t.json")]
[('1-description', 'customer', 'public', 'ok'), ('2', 'agent', 'internal', 'not_scored')]
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from ..records import MessageRecord
from .adapters import Unreadable, dicts, each, not_a
from .chat_exports import slack_messages, teams_messages
from .common import MAX_MESSAGE_BYTES, as_object, error_record, finish_record, mostly, text_field
from .html import html_to_text
from .streams import decode_whole
from .timestamps import read_timestamp

__all__ = ["VENDORS", "read_helpdesk_json", "vendor_of", "vendor_records"]

#: Vendors whose JSON shape is recognised and read (``helpdesk-json`` format).
VENDORS = ("freshdesk", "intercom", "helpscout", "hubspot", "slack", "teams")

_HTML = re.compile(r"<(?:[a-z][a-z0-9]*|/[a-z][a-z0-9]*|!--)[\s>/]", re.IGNORECASE)


def _is_freshdesk_conversation(obj: dict[str, Any]) -> bool:
    return ("incoming" in obj or "private" in obj) and ("body_text" in obj or "body" in obj)


def vendor_of(data: Any) -> str | None:
    """The vendor whose export ``data`` (a parsed JSON document) looks like, or None.

    >>> vendor_of({"value": [{"messageType": "message", "body": {"content": "x"}}]}), vendor_of([{"a": 1}])
    ('teams', None)
    """
    if isinstance(data, list):
        # Most of the first items, not all: one damaged message must not hide the others from this reader.
        head = data[:5]
        if mostly(head, _is_freshdesk_conversation):
            return "freshdesk"
        if mostly(head, lambda o: "conversationsThreadId" in o):
            return "hubspot"
        if mostly(head, lambda o: "ts" in o and o.get("type") == "message"):
            return "slack"
        return None
    if not isinstance(data, dict):
        return None
    if "description_text" in data or "responder_id" in data or (
        isinstance(data.get("conversations"), list) and any(_is_freshdesk_conversation(c) for c in dicts(data["conversations"]))
    ):
        return "freshdesk"
    if isinstance(data.get("conversation_parts"), dict) or (data.get("type") == "conversation" and "source" in data):
        return "intercom"
    embedded = data.get("_embedded")
    if isinstance(embedded, dict) and ("threads" in embedded or "conversations" in embedded):
        return "helpscout"
    if isinstance(data.get("value"), list) and any("messageType" in v for v in dicts(data["value"])):
        return "teams"
    if isinstance(data.get("results"), list):
        return vendor_of(data["results"])
    return None


def _text(value: Any, html: bool | None = None) -> tuple[Any, bool]:
    """(plain text, converted from HTML); ``html=None`` converts when the value looks like HTML."""
    if not isinstance(value, str):
        return value, False
    if html or (html is None and _HTML.search(value)):
        return html_to_text(value), True
    return value, False


def _record(
    msg: dict[str, Any], *, vendor: str, path: str, locator: str, sequence: int, max_bytes: int
) -> MessageRecord:
    """One finished record from an adapter's message dict (text, id, role, basis, visibility, …)."""
    common = {
        "source_format": vendor, "source_file": path, "source_locator": locator, "sequence": sequence,
        "conversation_id": None if msg.get("conversation") is None else str(msg["conversation"]),
    }
    record_id = str(msg["id"]) if msg.get("id") is not None else f"{os.path.basename(path)}:{locator}"
    text, from_html = _text(msg.get("text"), msg.get("html"))
    if text is not None and not isinstance(text, str):
        return error_record(record_id=record_id, reason=f"message body is {type(text).__name__}, expected a string",
                            **common)
    warnings = [f"html-to-text:{vendor}"] if from_html else []
    # The vendor's own field name, so that the warning points at the field of the export to look at.
    value, field = msg.get("time") or (None, "time")
    utc, local, assumed = read_timestamp(value, field, warnings)
    record = MessageRecord(
        record_id=record_id, body_text=text or "", message_id=record_id, timestamp_utc=utc, timestamp_local=local,
        timestamp_assumed_tz=assumed, author_role=msg.get("role", "unknown"), role_basis=f"{vendor} {msg['basis']}",
        author_name=text_field(msg.get("author")), visibility=msg.get("visibility", "public"),
        channel=msg.get("channel", "other"), subject=text_field(msg.get("subject") or None),
        decode_warnings=warnings, **common,
    )
    record.extra["vendor"] = vendor
    return finish_record(record, max_bytes=max_bytes)


# --- helpdesk adapters: each yields (locator, message dict) or (locator, what cannot be read), see .adapters --


def _freshdesk(data: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(data, list):
        yield from each(data, "", partial(_freshdesk_conversation, ticket=None))
        return
    if not isinstance(data, dict) or _is_freshdesk_conversation(data):
        return
    ticket = data
    yield "/description", {
        # The ticket's first message is its description, not one of the conversations (reference §2.2).
        "id": f"{ticket.get('id')}-description", "conversation": ticket.get("id"),
        **_freshdesk_body(ticket.get("description"), ticket.get("description_text")),
        "role": "customer", "basis": "ticket description (the requester's first message)",
        "time": (ticket.get("created_at"), "created_at"), "subject": ticket.get("subject"),
    }
    yield from each(ticket.get("conversations"), "/conversations",
                    partial(_freshdesk_conversation, ticket=ticket))


def _freshdesk_body(html: Any, text: Any) -> dict[str, Any]:
    """The HTML body converted (its ``freshdesk_quote`` history dropped), else the ``*_text`` field.

    Freshdesk's ``body_text`` keeps the quoted reply as unmarked text, so the HTML, whose quote sits in a
    known container, is read where it is there.
    """
    if isinstance(html, str) and html.strip():
        return {"text": html, "html": True}
    return {"text": text, "html": False}


def _freshdesk_conversation(conv: dict[str, Any], ticket: dict[str, Any] | None) -> dict[str, Any]:
    ticket = ticket or {}
    if conv.get("incoming") is True:
        role, basis = "customer", "incoming=true"
    elif ticket.get("requester_id") is not None and conv.get("user_id") == ticket.get("requester_id"):
        role, basis = "customer", "user_id is the requester"
    elif conv.get("incoming") is False:
        role, basis = "agent", "incoming=false"
    else:
        role, basis = "unknown", "no incoming flag: role unknown, scored"
    return {
        "id": conv.get("id"), "conversation": conv.get("ticket_id", ticket.get("id")), "role": role, "basis": basis,
        **_freshdesk_body(conv.get("body"), conv.get("body_text")),
        "visibility": "internal" if conv.get("private") is True else "public",
        "time": (conv.get("created_at"), "created_at"), "subject": ticket.get("subject"),
    }


def _intercom_role(author: Any) -> tuple[str, str]:
    author = as_object(author)
    kind = str(author.get("type") or "")
    if author.get("from_ai_agent") or kind == "bot":
        return "bot", f"author.type {kind or 'bot'}"
    if kind in ("user", "lead", "contact"):
        return "customer", f"author.type {kind}"
    if kind in ("admin", "team"):
        return "agent", f"author.type {kind}"
    return "unknown", f"author.type {kind or 'missing'}: role unknown, scored"


def _intercom(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    conv_id = data.get("id")
    source = data.get("source")
    if isinstance(source, dict):
        role, basis = _intercom_role(source.get("author"))
        yield "/source", {
            "id": f"{conv_id}-source" if source.get("id") is None else source.get("id"), "conversation": conv_id,
            "text": source.get("body"), "html": True, "role": role, "basis": basis,
            "time": (data.get("created_at"), "created_at"),
            "subject": source.get("subject") or data.get("title"), "author": as_object(source.get("author")).get("name"),
        }
    elif source is not None:
        yield "/source", not_a("the first message as an object", source)
    parts = data.get("conversation_parts")
    if isinstance(parts, dict):
        yield from each(parts.get("conversation_parts"), "/conversation_parts/conversation_parts",
                        partial(_intercom_part, conv_id=conv_id))
    else:  # the list itself, where an export leaves out the wrapper
        yield from each(parts, "/conversation_parts", partial(_intercom_part, conv_id=conv_id))


def _intercom_part(part: dict[str, Any], conv_id: Any) -> dict[str, Any]:
    role, basis = _intercom_role(part.get("author"))
    if part.get("body") is None:
        role, basis = "system", f"part_type {part.get('part_type')} without a body (an event)"
    return {
        "id": part.get("id"), "conversation": conv_id, "text": part.get("body") or "", "html": True,
        "role": role, "basis": basis, "time": (part.get("created_at"), "created_at"),
        "visibility": "internal" if part.get("part_type") == "note" else "public",
        "author": as_object(part.get("author")).get("name"),
    }


def _helpscout(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    conversations = as_object(data.get("_embedded")).get("conversations")
    if conversations in (None, []):  # one conversation, exported alone
        convs = [("", data)]
    elif isinstance(conversations, list):
        convs = [(f"/_embedded/conversations/{i}", c) for i, c in enumerate(conversations)]
    else:
        yield "/_embedded/conversations", not_a("a list of conversations", conversations)
        return
    for prefix, conv in convs:
        embedded = conv.get("_embedded") if isinstance(conv, dict) else None
        if not isinstance(conv, dict):
            yield prefix, not_a("a conversation object", conv)
        elif embedded is not None and not isinstance(embedded, dict):
            yield f"{prefix}/_embedded", not_a("an object holding the threads", embedded)
        else:
            threads = as_object(embedded).get("threads")
            yield from each(threads, f"{prefix}/_embedded/threads", partial(_helpscout_thread, conv=conv))


def _helpscout_thread(th: dict[str, Any], conv: dict[str, Any]) -> dict[str, Any]:
    kind = th.get("type")
    by = as_object(th.get("createdBy")).get("type")
    if kind == "lineitem":
        role, basis = "system", "thread type lineitem (an event)"
    elif kind == "customer" or by == "customer":
        role, basis = "customer", f"thread type {kind}, createdBy {by}"
    else:
        role, basis = "agent", f"thread type {kind}, createdBy {by}"
    return {
        "id": th.get("id"), "conversation": conv.get("id"), "text": th.get("body") or "", "html": True,
        "role": role, "basis": basis, "time": (th.get("createdAt"), "createdAt"), "subject": conv.get("subject"),
        "visibility": "internal" if kind == "note" else "public",
    }


def _hubspot(data: Any) -> Iterator[tuple[str, Any]]:
    rows, prefix = (data.get("results"), "/results") if isinstance(data, dict) else (data, "")
    return each(rows, prefix, _hubspot_message)


def _hubspot_message(msg: dict[str, Any]) -> dict[str, Any]:
    kind, direction = msg.get("type"), str(msg.get("direction") or "").upper()
    if kind == "COMMENT":
        role, basis, vis = "agent", "type COMMENT (an internal comment)", "internal"
    elif direction == "INCOMING":
        role, basis, vis = "customer", "direction INCOMING", "public"
    elif direction == "OUTGOING":
        role, basis, vis = "agent", "direction OUTGOING", "public"
    elif kind == "WELCOME_MESSAGE":
        role, basis, vis = "bot", "type WELCOME_MESSAGE", "public"
    else:
        role, basis, vis = "unknown", "no direction: role unknown, scored", "public"
    senders = dicts(msg.get("senders"))
    return {
        "id": msg.get("id"), "conversation": msg.get("conversationsThreadId"), "role": role, "basis": basis,
        "visibility": vis, "text": msg.get("text") if msg.get("text") is not None else msg.get("richText"),
        "html": None, "time": (msg.get("createdAt"), "createdAt"), "subject": msg.get("subject"),
        "author": senders[0].get("name") if senders else None,
    }


def vendor_records(
    data: Any, vendor: str, path: str, *, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> Iterator[MessageRecord]:
    """One record per message of a ``vendor`` export already parsed from ``path`` (see :func:`vendor_of`)."""
    if vendor == "freshdesk":
        messages = _freshdesk(data)
    elif vendor == "intercom":
        messages = _intercom(data)
    elif vendor == "helpscout":
        messages = _helpscout(data)
    elif vendor == "hubspot":
        messages = _hubspot(data)
    elif vendor == "slack":
        messages = slack_messages(data, path)
    elif vendor == "teams":
        messages = teams_messages(data)
    else:
        raise ValueError(f"unknown vendor {vendor!r}; expected one of {', '.join(VENDORS)}")
    for seq, (locator, msg) in enumerate(messages):
        if not isinstance(msg, dict):
            yield error_record(
                record_id=f"{os.path.basename(path)}:{locator}", source_format=vendor, source_file=path,
                source_locator=locator,
                reason=msg if isinstance(msg, Unreadable) else not_a("a message object", msg),
            )
            continue
        yield _record(msg, vendor=vendor, path=path, locator=locator, sequence=seq, max_bytes=max_message_bytes)


def read_helpdesk_json(path: str, *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> Iterator[MessageRecord]:
    """Read one vendor export file (the ``helpdesk-json`` format); a file of no known shape is one error record."""
    with open(path, "rb") as f:
        text, _ = decode_whole(f.read())
    name = os.path.basename(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield error_record(record_id=name, source_format="helpdesk-json", source_file=path,
                           source_locator=f"line {exc.lineno}", reason=f"malformed JSON ({exc.msg} at column {exc.colno})")
        return
    vendor = vendor_of(data)
    if vendor is None:
        yield error_record(
            record_id=name, source_format="helpdesk-json", source_file=path, source_locator="file",
            reason=(f"not a {', '.join(VENDORS)} export this reader knows; read it with format 'json' and "
                    "--text-field, or convert it to JSONL with one message per line"),
        )
        return
    yield from vendor_records(data, vendor, path, max_message_bytes=max_message_bytes)
