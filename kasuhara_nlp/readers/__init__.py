"""Readers: every supported input format as one lazy stream of MessageRecord.

``read_records`` picks a reader per path from ``format=``, else the extension, else the content
(mbox separator, mail headers, Zendesk or chat JSON shapes, transcript lines).  Every record has
``text_to_score``/``segments`` filled, PII offsets found, and a status: "ok" (score it),
"not_scored" (agent, bot, internal note, auto-reply: see ``reason``), "skipped" or "error".

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
>>> _ = open(path, "w", encoding="utf-8").write('{"id": "m1", "text": "まだですか"}\\n')
>>> [(r.record_id, r.status) for r in read_records([path])]
[('m1', 'ok')]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping

from ..errors import InputFormatError
from ..records import MessageRecord
from .chat import is_chat_json, read_chat_json, read_chat_text
from .common import MAX_MESSAGE_BYTES, finish_record
from .mail import is_mbox, read_mail_path
from .mime import MailOptions
from .presets import PRESETS, preset_names
from .streams import ESCAPE_ERRORS, sniff_text_encoding
from .tabular import TABULAR_FORMATS, read_tabular
from .zendesk import is_zendesk, read_zendesk

__all__ = ["FORMATS", "PRESETS", "MailOptions", "detect_format", "preset_names", "read_records"]

#: Values accepted by ``format=`` (``--format``).
FORMATS = (*TABULAR_FORMATS, "eml", "mbox", "maildir", "mail", "zendesk", "chat", "chat-json", "text")

_MAIL_EXT = {".eml": "eml", ".mbox": "mbox", ".mbx": "mbox"}
_TABULAR_EXT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def detect_format(path: str) -> str:
    """The reader for a path: by extension, then by content.

    >>> detect_format("inbox.csv"), detect_format("-")
    ('csv', 'csv')
    """
    if path == "-":
        return "csv"
    if os.path.isdir(path):
        return "mail"
    ext = os.path.splitext(path)[1].lower()
    if ext in _MAIL_EXT:
        return _MAIL_EXT[ext]
    if ext in _TABULAR_EXT:
        fmt = _TABULAR_EXT[ext]
        if fmt == "jsonl" and _first_json_line_is_zendesk(path):
            return "zendesk"
        return fmt
    try:
        with open(path, "rb") as f:
            sample = f.read(65536)
    except OSError as exc:
        raise InputFormatError(f"cannot open: {exc.strerror}; check the path", path=path) from None
    if ext == ".json":
        return _json_kind(path)
    if is_mbox(sample):
        return "mbox"
    if sample[:2000].lstrip().startswith((b"Received:", b"Return-Path:", b"Message-ID:", b"From:", b"Date:",
                                          b"MIME-Version:", b"Delivered-To:", b"X-")):
        return "eml"
    return "chat"  # plain text: a transcript, or one message when no turns are found


def _first_json_line_is_zendesk(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            first = f.readline(1_000_000)
        return is_zendesk(json.loads(first))
    except (OSError, ValueError):
        return False


def _json_kind(path: str) -> str:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = json.loads(raw.decode("utf-8-sig", ESCAPE_ERRORS))
    except json.JSONDecodeError:
        return "jsonl" if raw.lstrip().startswith(b"{") else "json"
    if is_zendesk(data):
        return "zendesk"
    if is_chat_json(data):
        return "chat-json"
    return "json"


def _read_text(path: str, max_bytes: int, name_roles: Mapping[str, str] | None) -> Iterator[MessageRecord]:
    """A .txt file: transcript turns when it has them, else the whole file as one message."""
    records = list(read_chat_text(path, name_roles=name_roles, max_message_bytes=max_bytes))
    if len(records) >= 2:
        yield from records
        return
    with open(path, "rb") as f:
        raw = f.read()
    encoding, warnings = sniff_text_encoding(raw[:262144], complete=len(raw) <= 262144)
    record = MessageRecord(
        record_id=os.path.basename(path), body_text=raw.decode(encoding, ESCAPE_ERRORS), source_format="text",
        source_file=path, source_locator="file", decode_warnings=warnings,
    )
    yield finish_record(record, max_bytes=max_bytes)


def read_records(
    paths: list[str],
    *,
    format: str | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    preset: str | None = None,
    encoding: str | None = None,
    support_domains: tuple[str, ...] | list[str] = (),
    agent_addresses: tuple[str, ...] | list[str] = (),
    name_roles: Mapping[str, str] | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[MessageRecord]:
    """Read every path (``-`` = stdin, tabular only) with the reader its format calls for.

    Args:
        paths: files or folders (mail trees, Maildir); ``-`` reads CSV/JSONL from stdin.
        format: force a reader (one of FORMATS) instead of detecting it.
        text_field, id_field: source column (or dotted JSON path) of the message text / id.
        preset: a column preset (``salesforce-emailmessage``, ``jp-helpdesk-cp932``) or ``zendesk``.
        encoding: the encoding of tabular files (default: sniffed).
        support_domains, agent_addresses: mail from these is an agent reply (not scored).
        name_roles: transcript speaker name -> role ("agent", "customer", "bot").
        max_message_bytes: larger messages are skipped with a reason.

    Yields one record per message, lazily, in input order; unreadable rows come as records with
    status "error" (never dropped).

    Raises:
        InputFormatError: an unknown format or preset, a missing path, or a file without a text column.
    """
    if format is not None and format not in FORMATS:
        raise InputFormatError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
    if preset is not None and preset not in preset_names():
        raise InputFormatError(f"unknown preset {preset!r}; choose one of: {', '.join(preset_names())}")
    options = MailOptions(
        support_domains=tuple(support_domains), agent_addresses=tuple(agent_addresses),
        max_message_bytes=max_message_bytes,
    )
    if format == "zendesk" or preset == "zendesk":
        # Tickets, users and comments may come in separate files: read them together.
        yield from read_zendesk(list(paths), max_message_bytes=max_message_bytes)
        return
    for path in paths:
        if path != "-" and not os.path.exists(path):
            raise InputFormatError("no such file or folder; check the path", path=path)
        fmt = format or ("zendesk" if preset == "zendesk" else detect_format(path))
        if fmt in TABULAR_FORMATS:
            yield from read_tabular(
                path, format=fmt, text_field=text_field, id_field=id_field, preset=preset,
                encoding=encoding, max_message_bytes=max_message_bytes,
            )
        elif fmt in ("eml", "mbox", "maildir", "mail"):
            yield from read_mail_path(path, options=options)
        elif fmt == "zendesk":
            yield from read_zendesk([path], max_message_bytes=max_message_bytes)
        elif fmt == "chat-json":
            yield from read_chat_json(path, max_message_bytes=max_message_bytes)
        else:  # chat, text
            yield from _read_text(path, max_message_bytes, name_roles)
