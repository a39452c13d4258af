"""Zendesk exports: tickets with comments (embedded or in separate files) and users.

One record per comment.  Roles come from ``users[author_id].role`` (end-user -> customer,
agent/admin -> agent); without users, the ticket's requester is the customer.  Comments with
``public: false`` are internal notes (not scored).  ``metadata`` (IP address, location) is never
copied.

>>> t = {"id": 1, "requester_id": 9, "comments": [
...     {"id": 10, "author_id": 9, "public": True, "plain_body": "返金しろ"},
...     {"id": 11, "author_id": 42, "public": False, "plain_body": "SV相談済み"}]}
>>> [(r.record_id, r.author_role, r.status) for r in zendesk_records([t], source_file="z.json")]
[('10', 'customer', 'ok'), ('11', 'agent', 'not_scored')]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..records import MessageRecord
from .common import MAX_MESSAGE_BYTES, error_record, finish_record, normalise_role
from .html import html_to_text
from .streams import ESCAPE_ERRORS, sniff_text_encoding
from .timestamps import parse_timestamp

__all__ = ["is_zendesk", "read_zendesk", "zendesk_records"]


def is_zendesk(obj: Any) -> bool:
    """True for a Zendesk export document (or one ticket from a JSONL export).

    >>> is_zendesk({"tickets": []}), is_zendesk({"id": 1, "requester_id": 2, "subject": "x"}), is_zendesk([{"a": 1}])
    (True, True, False)
    """
    if isinstance(obj, list):
        return bool(obj) and all(isinstance(o, dict) for o in obj[:5]) and is_zendesk(obj[0])
    if not isinstance(obj, dict):
        return False
    if "tickets" in obj or "ticket" in obj:
        return True
    return "requester_id" in obj and ("comments" in obj or "description" in obj or "subject" in obj)


def _body(comment: dict[str, Any]) -> Any:
    for key in ("plain_body", "body"):
        value = comment.get(key)
        if value is not None:
            return value
    html = comment.get("html_body")
    return html_to_text(html) if isinstance(html, str) else html


def zendesk_records(
    tickets: Iterable[dict[str, Any]],
    *,
    source_file: str,
    users: dict[Any, dict[str, Any]] | None = None,
    comments_by_ticket: dict[Any, list[dict[str, Any]]] | None = None,
    locator_prefix: str = "/tickets",
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[MessageRecord]:
    """Records of every comment of every ticket (the description when a ticket has no comments)."""
    users = users or {}
    for i, ticket in enumerate(tickets):
        ticket_loc = f"{locator_prefix}/{i}"
        if not isinstance(ticket, dict):
            yield error_record(
                record_id=f"{os.path.basename(source_file)}:{ticket_loc}", source_format="zendesk",
                source_file=source_file, source_locator=ticket_loc,
                reason=f"expected a ticket object, got {type(ticket).__name__}",
            )
            continue
        ticket_id = ticket.get("id")
        comments = ticket.get("comments")
        if comments is None and comments_by_ticket is not None:
            comments = comments_by_ticket.get(ticket_id)
        if not comments:
            comments = [{
                "id": f"{ticket_id}-description", "author_id": ticket.get("requester_id"), "public": True,
                "plain_body": ticket.get("description"), "created_at": ticket.get("created_at"),
            }]
        via = (ticket.get("via") or {}).get("channel") if isinstance(ticket.get("via"), dict) else None
        for j, comment in enumerate(comments):
            yield _comment_record(
                ticket, comment, users, source_file=source_file, locator=f"{ticket_loc}/comments/{j}",
                sequence=j, ticket_channel=via, max_bytes=max_message_bytes,
            )


def _comment_record(
    ticket: dict[str, Any],
    comment: Any,
    users: dict[Any, dict[str, Any]],
    *,
    source_file: str,
    locator: str,
    sequence: int,
    ticket_channel: str | None,
    max_bytes: int,
) -> MessageRecord:
    ticket_id = ticket.get("id")
    common = {
        "source_format": "zendesk", "source_file": source_file, "source_locator": locator,
        "conversation_id": str(ticket_id) if ticket_id is not None else None, "sequence": sequence,
    }
    if not isinstance(comment, dict):
        return error_record(
            record_id=f"{ticket_id}:{sequence}", reason=f"expected a comment object, got {type(comment).__name__}",
            **common,
        )
    comment_id = comment.get("id")
    record_id = str(comment_id) if comment_id is not None else f"{ticket_id}:{sequence}"
    body = _body(comment)
    if body is not None and not isinstance(body, str):
        return error_record(
            record_id=record_id, reason=f"comment body is {type(body).__name__}, expected a string", **common
        )
    author_id = comment.get("author_id")
    user = users.get(author_id) or users.get(str(author_id)) or {}
    if user.get("role"):
        role, basis = normalise_role(user["role"]), "zendesk users.role"
    elif author_id is not None and author_id == ticket.get("requester_id"):
        role, basis = "customer", "zendesk author is the requester"
    elif author_id is not None:
        role, basis = "agent", "zendesk author is not the requester"
    else:
        role, basis = "unknown", "zendesk comment without author"
    via = comment.get("via") if isinstance(comment.get("via"), dict) else {}
    utc, local, assumed = parse_timestamp(comment.get("created_at"))
    record = MessageRecord(
        record_id=record_id,
        body_text=body or "",
        message_id=str(comment_id) if comment_id is not None else None,
        timestamp_utc=utc,
        timestamp_local=local,
        timestamp_assumed_tz=assumed,
        author_role=role,
        role_basis=basis,
        author_name=user.get("name"),
        visibility="public" if comment.get("public", True) is not False else "internal",
        channel=via.get("channel") or ticket_channel or "other",
        subject=ticket.get("subject") or ticket.get("raw_subject"),
        attachments=[
            {"filename": a.get("file_name"), "content_type": a.get("content_type"), "size": a.get("size")}
            for a in comment.get("attachments") or [] if isinstance(a, dict)
        ],
        **common,
    )
    if ticket.get("tags"):
        record.extra["tags"] = list(ticket["tags"])
    return finish_record(record, max_bytes=max_bytes)


def _load(path: str) -> tuple[Any, bool]:
    """A JSON document, or a list of objects for JSONL (the Zendesk full export is NDJSON)."""
    with open(path, "rb") as f:
        raw = f.read()
    encoding, _ = sniff_text_encoding(raw[:262144], complete=len(raw) <= 262144)
    text = raw.decode(encoding, ESCAPE_ERRORS)
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        return text.splitlines(), True


def read_zendesk(
    paths: list[str], *, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> Iterator[MessageRecord]:
    """Read Zendesk JSON/JSONL files: tickets, and optionally users and comments in other files.

    Separate comment files hold ``{"comments": [...]}`` objects whose comments carry ``ticket_id``.
    """
    users: dict[Any, dict[str, Any]] = {}
    comments: dict[Any, list[dict[str, Any]]] = {}
    ticket_docs: list[tuple[str, Any, bool]] = []
    for path in paths:
        data, lines = _load(path)
        if lines:
            ticket_docs.append((path, data, True))
            continue
        if isinstance(data, dict):
            for u in data.get("users") or []:
                if isinstance(u, dict):
                    users[u.get("id")] = u
            for c in data.get("comments") or []:
                if isinstance(c, dict) and "ticket_id" in c:
                    comments.setdefault(c["ticket_id"], []).append(c)
            if "tickets" in data or "ticket" in data or "requester_id" in data:
                ticket_docs.append((path, data, False))
        elif isinstance(data, list):
            ticket_docs.append((path, data, False))
    for path, data, lines in ticket_docs:
        if lines:
            yield from _read_ndjson(path, data, users, comments, max_message_bytes)
            continue
        if isinstance(data, dict) and "requester_id" in data:
            tickets, prefix = [data], ""
        elif isinstance(data, dict):
            tickets = data.get("tickets") or ([data["ticket"]] if data.get("ticket") else [])
            prefix = "/tickets" if "tickets" in data else "/ticket"
        else:
            tickets, prefix = data, ""
        yield from zendesk_records(
            tickets, source_file=path, users=users, comments_by_ticket=comments, locator_prefix=prefix,
            max_message_bytes=max_message_bytes,
        )


def _read_ndjson(path, lines, users, comments, max_bytes) -> Iterator[MessageRecord]:
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ticket = json.loads(line)
        except json.JSONDecodeError as exc:
            yield error_record(
                record_id=f"{os.path.basename(path)}:{lineno}", source_format="zendesk", source_file=path,
                source_locator=f"line {lineno}", reason=f"malformed JSON ({exc.msg} at column {exc.colno})",
            )
            continue
        for rec in zendesk_records(
            [ticket], source_file=path, users=users, comments_by_ticket=comments,
            locator_prefix=f"line {lineno}", max_message_bytes=max_bytes,
        ):
            yield rec
