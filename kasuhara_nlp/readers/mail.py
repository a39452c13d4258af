"""Mail containers: .eml files and folders, mbox (Gmail Takeout, Thunderbird) and Maildir.

mbox files are streamed one message at a time (memory bounded by the largest message), and split
only on lines that look like real separators (``From sender Tue Mar  4 10:15:00 2025``): Python's
``mailbox`` splits on any line starting with ``From `` (cpython #93376), which cuts messages whose
body has such a line.

>>> import os, tempfile
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "box.mbox")
>>> _ = open(p, "wb").write(b"From a@example.com Tue Mar  4 10:15:00 2025\\nSubject: x\\n\\nFrom here on, refund.\\n")
>>> [r.body_text for r in read_mbox(p)]
['From here on, refund.\\n']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from ..errors import InputFormatError
from ..records import MessageRecord
from .common import error_record
from .mime import MailOptions, message_to_record

__all__ = ["MBOX_SEPARATOR", "is_mbox", "read_eml", "read_maildir", "read_mail_path", "read_mbox"]

#: A real mbox separator: "From " + sender + asctime date (optionally a zone before the year).
MBOX_SEPARATOR = re.compile(
    rb"^From \S+ +(?:\w{3},? +)?\w{3} +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})?(?: +[+-]?\w+)? +\d{4}\s*$"
)
#: Messages larger than this are not held in memory: they are reported and skipped.
MAX_RAW_MESSAGE_BYTES = 64 * 1024 * 1024
_SKIP_NAMES = re.compile(r"\.(?:msf|dat|json|sqlite|db|lock)$|^\.|^(?:msgFilterRules|popstate)", re.IGNORECASE)


def is_mbox(sample: bytes) -> bool:
    """True when a file starts like an mbox (its first non-blank line is a separator).

    >>> is_mbox(b"From - Tue Mar  4 10:15:00 2025\\r\\nX-Mozilla-Status: 0001\\r\\n")
    True
    """
    for line in sample.lstrip(b"\r\n").splitlines()[:1]:
        return bool(MBOX_SEPARATOR.match(line))
    return False


def _looks_like_message(raw: bytes) -> bool:
    head = raw.lstrip()[:2000]
    return bool(re.match(rb"[!-9;-~]+:", head))


def read_mbox(
    path: str, *, options: MailOptions | None = None, folder: str | None = None
) -> Iterator[MessageRecord]:
    """Stream an mbox file, one record per message, in file order.

    Text before the first separator is read as a message when it has headers, else reported as an
    error record; a message too large to hold is reported and skipped.
    """
    options = options or MailOptions()
    folder = folder if folder is not None else os.path.splitext(os.path.basename(path))[0]
    name = os.path.basename(path)
    seq = 0

    def emit(lines: list[bytes], start_line: int, size: int) -> MessageRecord:
        nonlocal seq
        seq += 1
        locator = f"message {seq} (line {start_line})"
        if size > MAX_RAW_MESSAGE_BYTES:
            return error_record(
                record_id=f"{name}#{seq}", source_format="mbox", source_file=path, source_locator=locator,
                status="skipped", reason=f"message is {size} bytes, over the {MAX_RAW_MESSAGE_BYTES}-byte limit",
                channel="email",
            )
        if lines and not lines[-1].strip():
            lines = lines[:-1]  # the blank line before a separator belongs to the mbox format
        raw = b"".join(lines)
        if not _looks_like_message(raw):
            return error_record(
                record_id=f"{name}#{seq}", source_format="mbox", source_file=path, source_locator=locator,
                reason="no mail headers here; is this an mbox file? (expected 'From sender date' separators)",
                channel="email",
            )
        try:
            return message_to_record(
                raw, source_format="mbox", source_file=path, locator=locator, folder=folder,
                options=options, sequence=seq,
            )
        except Exception as exc:  # noqa: BLE001 - one broken message must not stop a mailbox
            return error_record(
                record_id=f"{name}#{seq}", source_format="mbox", source_file=path, source_locator=locator,
                reason=f"cannot parse this message ({type(exc).__name__})", channel="email",
            )

    with open(path, "rb") as f:
        lines: list[bytes] = []
        size = 0
        start_line = 1
        for lineno, line in enumerate(f, start=1):
            if line.startswith(b"From ") and MBOX_SEPARATOR.match(line):
                if lines and (size > MAX_RAW_MESSAGE_BYTES or any(x.strip() for x in lines)):
                    yield emit(lines, start_line, size)
                lines, size, start_line = [], 0, lineno
                continue
            size += len(line)
            if size <= MAX_RAW_MESSAGE_BYTES:
                if not lines and not line.strip():
                    continue  # blank line after a separator (CRLF/LF mix, cpython #110501)
                lines.append(line)
        if lines and (size > MAX_RAW_MESSAGE_BYTES or any(x.strip() for x in lines)):
            yield emit(lines, start_line, size)


def read_eml(path: str, *, options: MailOptions | None = None, folder: str = "") -> MessageRecord:
    """Read one .eml file (a leading mbox ``From `` line is ignored)."""
    with open(path, "rb") as f:
        raw = f.read()
    first, _, rest = raw.partition(b"\n")
    if MBOX_SEPARATOR.match(first.rstrip(b"\r")):
        raw = rest
    try:
        return message_to_record(raw, source_format="eml", source_file=path, locator="file", folder=folder,
                                 options=options)
    except Exception as exc:  # noqa: BLE001 - a broken file is reported, not fatal
        return error_record(
            record_id=path, source_format="eml", source_file=path, source_locator="file",
            reason=f"cannot parse this message ({type(exc).__name__})", channel="email",
        )


def read_maildir(path: str, *, options: MailOptions | None = None) -> Iterator[MessageRecord]:
    """Read a Maildir (``cur``/``new``; ``tmp`` skipped), Maildir++ subfolders included.

    Messages in a ``.Sent`` folder are agent replies.
    """
    for root, dirs, files in os.walk(path):
        dirs.sort()
        base = os.path.basename(root)
        if base == "tmp":
            dirs[:] = []
            continue
        if base not in ("cur", "new"):
            continue
        folder = os.path.basename(os.path.dirname(root))
        folder = folder if folder.startswith(".") else ""
        for fname in sorted(files):
            yield read_eml(os.path.join(root, fname), options=options, folder=folder)


def _is_maildir(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "cur")) or os.path.isdir(os.path.join(path, "new"))


def read_mail_path(path: str, *, options: MailOptions | None = None) -> Iterator[MessageRecord]:
    """Read a mail file or folder: .eml, mbox (by content), Maildir, or a tree of these.

    Thunderbird profile folders work too: ``.msf`` index files are skipped, ``*.sbd`` subfolders
    are walked, and extensionless folder files (``Inbox``, ``Sent``) are read as mbox.
    """
    if os.path.isdir(path):
        if _is_maildir(path):
            yield from read_maildir(path, options=options)
            return
        for root, dirs, files in os.walk(path):
            dirs.sort()
            if _is_maildir(root) and root != path:
                dirs[:] = []
                yield from read_maildir(root, options=options)
                continue
            for fname in sorted(files):
                if _SKIP_NAMES.search(fname):
                    continue
                yield from _read_mail_file(os.path.join(root, fname), options)
        return
    if not os.path.exists(path):
        raise InputFormatError("no such file or folder; check the path", path=path)
    yield from _read_mail_file(path, options)


def _read_mail_file(path: str, options: MailOptions | None) -> Iterator[MessageRecord]:
    with open(path, "rb") as f:
        sample = f.read(4096)
    if is_mbox(sample):
        yield from read_mbox(path, options=options)
    elif path.lower().endswith((".eml", ".msg.txt")) or _looks_like_message(sample):
        yield read_eml(path, options=options)
    else:
        yield error_record(
            record_id=path, source_format="mail", source_file=path, source_locator="file",
            status="skipped", reason="not a mail file (no headers, no mbox separator)", channel="email",
        )
