"""Which reader a path needs: by extension, else by content (mbox separator, mail headers, JSON shape, delimiters).

:func:`detect_format` is what :func:`kasuhara_nlp.readers.read_records` asks for every path it is not told the
format of, and for every file of a folder.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "export.json")
>>> _ = open(path, "w", encoding="utf-8").write('{"tickets": [{"id": 1, "description": "返金しろ"}]}')
>>> detect_format(path), detect_format("inbox.tsv"), detect_format("mail.eml")
('zendesk', 'tsv', 'eml')
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from typing import Any

from ..errors import InputFormatError
from .chat_json import is_chat_json
from .common import first_or_mostly
from .mail import is_mbox
from .streams import ESCAPE_ERRORS, SNIFF_BYTES
from .tabular import sniff_delimited
from .vendors import vendor_of
from .zendesk import is_zendesk

__all__ = ["detect_format"]

_MAIL_EXT = {".eml": "eml", ".mbox": "mbox", ".mbx": "mbox"}
_TABULAR_EXT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
#: A JSON line longer than this is not parsed just to guess the format (Zendesk tickets are far smaller).
_PROBE_LINE_BYTES = 64 * 1024 * 1024
_PROBE_LINES = 5


def detect_format(path: str) -> str:
    """The reader for a path: stdin and files by content where the extension is not enough.

    ``-`` (stdin) is sniffed from its first bytes without consuming them: ``{`` starts JSONL,
    ``[`` a JSON array, anything else is CSV.  A folder is "folder": each file in it is detected
    on its own (see :func:`read_records`).

    >>> detect_format("inbox.csv")
    'csv'
    """
    if path == "-":
        return _stdin_format()
    if os.path.isdir(path):
        return "folder"
    ext = os.path.splitext(path)[1].lower()
    if ext in _MAIL_EXT:
        return _MAIL_EXT[ext]
    if ext in _TABULAR_EXT:
        fmt = _TABULAR_EXT[ext]
        if fmt == "jsonl" and _json_lines_are_zendesk(path):
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
    # Excel's "Unicode テキスト" save is a UTF-16 TSV named .txt: a header naming a text column says so.
    return sniff_delimited(sample) or "chat"  # else plain text: a transcript, or one message


def _stdin_format() -> str:
    """Sniff stdin's first bytes, leaving them to be read again by the tabular reader.

    A pipe's buffer is peeked (at most one read, no bytes consumed); a seekable stdin (a file
    redirected with ``<``, a BytesIO in tests) is read and rewound.  Anything else stays CSV.
    """
    buf = getattr(sys.stdin, "buffer", None)
    head = b""
    if buf is not None and hasattr(buf, "peek"):
        head = buf.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    elif buf is not None and buf.seekable():
        pos = buf.tell()
        head = buf.read(SNIFF_BYTES)
        buf.seek(pos)
    return _tabular_kind(head)


def _tabular_kind(head: bytes) -> str:
    """csv, jsonl or json from the first bytes of a stream.

    >>> _tabular_kind(b'\\xef\\xbb\\xbf\\n{"id": 1}\\n'), _tabular_kind(b'{\\n "records": []}'), _tabular_kind(b"id,text\\n")
    ('jsonl', 'json', 'csv')
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", "ignore")
    else:
        text = head.decode("utf-8-sig", "ignore")
    text = text.lstrip()
    if text.startswith("["):
        return "json"
    if not text.startswith("{"):
        return "csv"
    first = text.split("\n", 1)[0].strip()
    if first == "{":
        return "json"  # a pretty-printed document, not one object per line
    try:
        obj = json.loads(first)
    except ValueError:
        return "jsonl"  # a first line longer than the peeked bytes
    if is_zendesk(obj):
        # read_zendesk needs a file (tickets, users and comments may come in several): say so.
        raise InputFormatError("a Zendesk export cannot be read from stdin; pass the file path instead", path="-")
    return "jsonl"


def _json_lines_are_zendesk(path: str) -> bool:
    """True when the first readable line of a one-object-per-line file is a Zendesk ticket, or most of
    the first few are.

    A malformed or damaged first line must not hide the shape of the rest of the export (the
    reader makes it an error record and reads the other tickets), so a few lines are tried.
    """
    objs: list[Any] = []
    try:
        with open(path, "rb") as f:
            for _ in range(_PROBE_LINES):
                line = f.readline(_PROBE_LINE_BYTES)
                while line and not line.strip():
                    line = f.readline(_PROBE_LINE_BYTES)
                try:
                    objs.append(json.loads(line.decode("utf-8-sig", ESCAPE_ERRORS)))
                except ValueError:
                    if not line:
                        break  # end of file
    except OSError:
        return False
    return first_or_mostly(objs, is_zendesk)


def _json_kind(path: str) -> str:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = json.loads(raw.decode("utf-8-sig", ESCAPE_ERRORS))
    except json.JSONDecodeError:
        # Not one document: one object per line (the Zendesk full export is NDJSON named .json).
        if _json_lines_are_zendesk(path):
            return "zendesk"
        return "jsonl" if raw.lstrip().startswith(b"{") else "json"
    if vendor_of(data) is not None:
        return "helpdesk-json"  # Freshdesk, Intercom, Help Scout, HubSpot, Slack, Teams
    return "zendesk" if is_zendesk(data) else "chat-json" if is_chat_json(data) else "json"
