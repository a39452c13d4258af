"""Zendesk exports: tickets with comments (embedded or in separate files) and users.

One record per comment.  Roles come from ``users[author_id].role`` (end-user -> customer,
agent/admin -> agent).  Without users, the ticket says what it can: the requester is the customer,
the assignee and followers are agents (Zendesk allows only agents there), a comment made by a
business rule is system; any other author (a CC'd family member, a second address) is "unknown",
which is scored, and ``role_basis`` says why.  Comments with ``public: false`` are internal notes
(not scored).  ``metadata`` (IP address, location) is never copied.

>>> t = {"id": 1, "requester_id": 9, "comments": [
...     {"id": 10, "author_id": 9, "public": True, "plain_body": "返金しろ"},
...     {"id": 11, "author_id": 42, "public": False, "plain_body": "SV相談済み"}]}
>>> [(r.record_id, r.author_role, r.status) for r in zendesk_records([t], source_file="z.json")]
[('10', 'customer', 'ok'), ('11', 'unknown', 'not_scored')]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..records import MessageRecord
from .common import MAX_MESSAGE_BYTES, as_object, error_record, finish_record, first_or_mostly, mostly, normalise_role, text_field
from .html import html_to_text
from .streams import decode_whole
from .timestamps import read_timestamp
from .vendors import vendor_of

__all__ = ["is_zendesk", "read_zendesk", "zendesk_records"]


_BODY_KEYS = ("plain_body", "body", "html_body")


def _is_comment(obj: Any) -> bool:
    return isinstance(obj, dict) and "author_id" in obj and any(k in obj for k in _BODY_KEYS)


def _is_key(value: Any) -> bool:
    """An id that can join users, tickets and comments (a list or object id cannot be looked up)."""
    return value is None or isinstance(value, (str, int, float))


def _lookup(table: dict[Any, Any], key: Any) -> Any:
    """``table[key]``, or under the key written as a string (ids come as numbers or strings); None if absent."""
    return (table.get(key) or table.get(str(key))) if _is_key(key) else None


def _is_part(obj: dict[str, Any]) -> bool:
    """A users or comments file of a split export (``{"users": [...]}``, ``{"comments": [...]}``)."""
    if set(obj) - {"users", "comments", "next_page", "previous_page", "count", "meta", "links", "end_of_stream",
                   "after_cursor", "before_cursor"}:
        return False
    users, comments = obj.get("users"), obj.get("comments")
    if isinstance(users, list) and users and isinstance(users[0], dict):
        return "id" in users[0] and "role" in users[0]
    if isinstance(comments, list) and comments:
        return mostly(comments[:5], lambda c: _is_comment(c) and "ticket_id" in c)  # one damaged: still comments
    return False


def is_zendesk(obj: Any) -> bool:
    """True for a Zendesk export document, one ticket of an NDJSON export, or a users/comments file.

    Tickets are told by their shape: a requester and a subject, description or comments, or
    comments written by ``author_id`` with a body.

    >>> is_zendesk({"tickets": []}), is_zendesk({"id": 1, "requester_id": 2, "subject": "x"}), is_zendesk([{"a": 1}])
    (True, True, False)
    >>> is_zendesk({"id": 1, "comments": [{"author_id": 2, "plain_body": "x"}]})
    True
    >>> is_zendesk({"id": 1, "requester_id": 2, "description_text": "x", "conversations": []})  # Freshdesk
    False
    """
    if isinstance(obj, list):
        return first_or_mostly(obj, is_zendesk)
    if not isinstance(obj, dict):
        return False
    if vendor_of(obj) is not None:
        return False  # a Freshdesk ticket has a requester_id and a description too, but conversations
    if "tickets" in obj or "ticket" in obj:
        return True
    if "requester_id" in obj and ("comments" in obj or "description" in obj or "subject" in obj):
        return True
    comments = obj.get("comments")
    if "id" in obj and isinstance(comments, list) and comments and _is_comment(comments[0]):
        return True
    return _is_part(obj)


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
    seen_ticket_ids: set[str] | None = None,
) -> Iterator[MessageRecord]:
    """Records of every comment of every ticket (the description when a ticket has no comments).

    ``seen_ticket_ids`` collects the id of every ticket read, so that comments whose ticket never
    came can still be given records (see :func:`read_zendesk`).
    """
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
        if seen_ticket_ids is not None:
            seen_ticket_ids.add(str(ticket_id))
        comments = ticket.get("comments")
        if comments is None and comments_by_ticket is not None:
            comments = _lookup(comments_by_ticket, ticket_id)
        if comments is not None and not isinstance(comments, list):
            yield error_record(
                record_id=f"{ticket_id}:comments", source_format="zendesk", source_file=source_file,
                source_locator=f"{ticket_loc}/comments", conversation_id=None if ticket_id is None else str(ticket_id),
                reason=f"expected a list of comments, got {type(comments).__name__}",
            )
            continue
        if not comments:
            comments = [{
                "id": f"{ticket_id}-description", "author_id": ticket.get("requester_id"), "public": True,
                "plain_body": ticket.get("description"), "created_at": ticket.get("created_at"),
            }]
        via = text_field(as_object(ticket.get("via")).get("channel"))
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
    user = _lookup(users, author_id) or {}
    via = as_object(comment.get("via"))
    if user.get("role"):
        role, basis = normalise_role(user["role"]), "zendesk users.role"
    else:
        role, basis = _role_from_ticket(ticket, author_id, via)
    warnings: list[str] = []
    utc, local, assumed = read_timestamp(comment.get("created_at"), "created_at", warnings)
    record = MessageRecord(
        record_id=record_id,
        body_text=body or "",
        message_id=str(comment_id) if comment_id is not None else None,
        timestamp_utc=utc,
        timestamp_local=local,
        timestamp_assumed_tz=assumed,
        decode_warnings=warnings,
        author_role=role,
        role_basis=basis,
        author_name=text_field(user.get("name")),
        visibility="public" if comment.get("public", True) is not False else "internal",
        channel=text_field(via.get("channel")) or ticket_channel or "other",
        subject=text_field(ticket.get("subject") or ticket.get("raw_subject")),
        attachments=[
            {"filename": a.get("file_name"), "content_type": a.get("content_type"), "size": a.get("size")}
            for a in comment.get("attachments") or [] if isinstance(a, dict)
        ] if isinstance(comment.get("attachments"), list) else [],
        **common,
    )
    if ticket.get("tags") and isinstance(ticket["tags"], list):
        record.extra["tags"] = list(ticket["tags"])
    return finish_record(record, max_bytes=max_bytes)


def _ids(ticket: dict[str, Any], *keys: str) -> set[str]:
    """The user ids a ticket lists under ``keys`` (single ids or lists), as strings."""
    out: set[str] = set()
    for key in keys:
        value = ticket.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v is not None and not isinstance(v, (dict, list)):
                out.add(str(v))
    return out


_UNKNOWN = "role unknown (no users list), scored"


def _role_from_ticket(ticket: dict[str, Any], author_id: Any, via: dict[str, Any]) -> tuple[str, str]:
    """A comment author's role when there is no users list: what the ticket itself can tell.

    Only fields that Zendesk reserves for agents make an author an agent; anyone else who is
    not the requester (a CC'd family member, a second address) is "unknown" and so is scored: a
    wrong "agent" would hide a threat, a wrong "unknown" only scores a polite reply.
    """
    source = as_object(via.get("source"))
    if via.get("channel") == "rule" or source.get("rel") in ("trigger", "automation"):
        return "system", "zendesk comment made by a business rule (trigger or automation)"
    if author_id is None:
        return "unknown", "zendesk comment without author: role unknown, scored"
    author = str(author_id)
    if author in _ids(ticket, "requester_id"):
        return "customer", "zendesk author is the requester"
    if author in _ids(ticket, "assignee_id"):
        return "agent", "zendesk author is the assignee (assignees are agents)"
    if author in _ids(ticket, "follower_ids"):
        return "agent", "zendesk author is a follower (followers are agents)"
    if author in _ids(ticket, "email_cc_ids", "collaborator_ids", "cc_ids"):
        return "unknown", f"zendesk author is CC'd on the ticket, not the requester: {_UNKNOWN}"
    if author in _ids(ticket, "submitter_id"):
        return "unknown", f"zendesk author is the submitter, not the requester: {_UNKNOWN}"
    return "unknown", f"zendesk author is not the requester: {_UNKNOWN}"


def _load(path: str) -> tuple[Any, bool]:
    """A JSON document, or a list of objects for JSONL (the Zendesk full export is NDJSON)."""
    with open(path, "rb") as f:
        text, _ = decode_whole(f.read())
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        return text.splitlines(), True


def read_zendesk(
    paths: list[str], *, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> Iterator[MessageRecord]:
    """Read Zendesk JSON/JSONL files: tickets, and optionally users and comments in other files.

    Separate comment files hold ``{"comments": [...]}`` objects whose comments carry ``ticket_id``.
    Comments whose ticket is in none of the files still get records (conversation = their
    ``ticket_id``), after the tickets: nothing read is dropped.
    """
    users: dict[Any, dict[str, Any]] = {}
    comments: dict[Any, list[dict[str, Any]]] = {}
    comment_files: dict[tuple[Any, str], list[tuple[int, dict[str, Any]]]] = {}  # (ticket id, file) -> comments
    ticket_docs: list[tuple[str, Any, bool]] = []
    for path in paths:
        data, lines = _load(path)
        if lines:
            ticket_docs.append((path, data, True))
            continue
        if isinstance(data, dict):
            # Users only give roles: one that cannot be used leaves its comments' roles to the ticket's fields.
            for u in data.get("users") if isinstance(data.get("users"), list) else []:
                if isinstance(u, dict) and _is_key(u.get("id")):
                    users[u.get("id")] = u
            yield from _collect_comments(path, data, comments, comment_files)
            if "tickets" in data or "ticket" in data or "requester_id" in data:
                ticket_docs.append((path, data, False))
            elif not (data.get("users") or data.get("comments")):
                yield error_record(
                    record_id=os.path.basename(path), source_format="zendesk", source_file=path, source_locator="/",
                    reason="no Zendesk tickets, users or comments in this file",
                )
        elif isinstance(data, list):
            ticket_docs.append((path, data, False))
    seen: set[str] = set()
    for path, data, lines in ticket_docs:
        if lines:
            yield from _read_ndjson(path, data, users, comments, max_message_bytes, seen)
            continue
        if isinstance(data, dict) and "requester_id" in data:
            tickets, prefix = [data], ""
        elif isinstance(data, dict):
            tickets = data.get("tickets") if "tickets" in data else [data["ticket"]] if data.get("ticket") else []
            prefix = "/tickets" if "tickets" in data else "/ticket"
        else:
            tickets, prefix = data, ""
        if not isinstance(tickets, list):
            if tickets is not None:
                yield error_record(record_id=f"{os.path.basename(path)}:{prefix}", source_format="zendesk",
                                   source_file=path, source_locator=prefix,
                                   reason=f"expected a list of tickets, got {type(tickets).__name__}")
            continue
        yield from zendesk_records(
            tickets, source_file=path, users=users, comments_by_ticket=comments, locator_prefix=prefix,
            max_message_bytes=max_message_bytes, seen_ticket_ids=seen,
        )
    # Comments whose ticket never came: each still gets a record, located in its comments file.
    for (tid, path), located in comment_files.items():
        if str(tid) in seen:
            continue
        for seq, (index, comment) in enumerate(located):
            yield _comment_record(
                {"id": tid}, comment, users, source_file=path, locator=f"/comments/{index}", sequence=seq,
                ticket_channel=None, max_bytes=max_message_bytes,
            )


def _collect_comments(
    path: str,
    data: dict[str, Any],
    comments: dict[Any, list[dict[str, Any]]],
    comment_files: dict[tuple[Any, str], list[tuple[int, dict[str, Any]]]],
) -> Iterator[MessageRecord]:
    """File the comments of a comments file by ``ticket_id``; each that cannot be filed is an error record.

    A ticket's own embedded comments (a document that is one ticket) need no ``ticket_id``: they are read
    with their ticket.
    """
    found = data.get("comments")
    if "requester_id" in data or found is None:
        found = found if isinstance(found, list) else []
    elif not isinstance(found, list):
        yield error_record(record_id=f"{os.path.basename(path)}:/comments", source_format="zendesk",
                           source_file=path, source_locator="/comments",
                           reason=f"expected a list of comments, got {type(found).__name__}")
        return
    for index, c in enumerate(found):
        tid = c.get("ticket_id") if isinstance(c, dict) else None
        if isinstance(c, dict) and tid is not None and _is_key(tid):
            comments.setdefault(tid, []).append(c)
            comment_files.setdefault((tid, path), []).append((index, c))
        elif "requester_id" not in data:
            why = (f"expected a comment object, got {type(c).__name__}" if not isinstance(c, dict) else
                   "comment without a ticket_id: its ticket cannot be told" if tid is None else
                   f"ticket_id is {type(tid).__name__}, expected a ticket id")
            yield error_record(record_id=f"{os.path.basename(path)}:/comments/{index}", source_format="zendesk",
                               source_file=path, source_locator=f"/comments/{index}", reason=why)


def _read_ndjson(
    path: str,
    lines: list[str],
    users: dict[Any, dict[str, Any]],
    comments: dict[Any, list[dict[str, Any]]],
    max_bytes: int,
    seen: set[str],
) -> Iterator[MessageRecord]:
    """One ticket per line (the Admin Center full export); a malformed line is an error record."""
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
        yield from zendesk_records(
            [ticket], source_file=path, users=users, comments_by_ticket=comments,
            locator_prefix=f"line {lineno}", max_message_bytes=max_bytes, seen_ticket_ids=seen,
        )
