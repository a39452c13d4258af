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

import base64
import logging
import os
import re
from collections.abc import Iterator

from ..errors import InputFormatError
from ..records import MessageRecord
from .common import error_record
from .mime import MailOptions, message_to_record

log = logging.getLogger(__name__)

__all__ = [
    "MBOX_SEPARATOR", "decode_imap_utf7", "is_mbox", "maildir_folder", "read_eml", "read_mail_path", "read_maildir",
    "read_mbox",
]

#: A real mbox separator: "From " + sender + asctime date (optionally a zone before the year).
MBOX_SEPARATOR = re.compile(
    rb"^From \S+ +(?:\w{3},? +)?\w{3} +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})?(?: +[+-]?\w+)? +\d{4}\s*$"
)
#: Messages larger than this are not held in memory: they are reported and skipped.
MAX_RAW_MESSAGE_BYTES = 64 * 1024 * 1024
_PARSE_FAILED = (
    "cannot parse this message ({}); it may be damaged: open it in a mail client and save it again as .eml"
)
_SKIP_NAMES = re.compile(r"\.(?:msf|dat|json|sqlite|db|lock)$|^\.|^(?:msgFilterRules|popstate)", re.IGNORECASE)


#: How many lines of junk (stray ``>From - …`` lines, a truncated message) may come before the first separator.
_MAX_LEADING_LINES = 20
_ESCAPED_FROM = re.compile(rb"^>+From ")


def is_mbox(sample: bytes) -> bool:
    """True when a file is an mbox: a separator among its first lines, with no mail headers before it.

    Thunderbird folder files sometimes start with stray ``>From - …`` lines (Mailpile #1786), and a file cut
    or joined by a tool may have other junk before the first separator: it is still an mbox.  A file whose
    first line is a mail header is a single message (.eml), whatever its body holds.

    >>> is_mbox(b"From - Tue Mar  4 10:15:00 2025\\r\\nX-Mozilla-Status: 0001\\r\\n")
    True
    >>> is_mbox(b">From - Sun Nov  1 09:00:00 2026\\nFrom - Sun Nov  1 10:00:00 2026\\nSubject: x\\n")
    True
    >>> is_mbox(b"Subject: x\\n\\nFrom a@b.example Tue Mar  4 10:15:00 2025\\n")
    False
    """
    lines = [line for line in sample.splitlines()[: _MAX_LEADING_LINES + 1] if line.strip()]
    for i, line in enumerate(lines):
        if MBOX_SEPARATOR.match(line):
            return True
        if i == 0 and not _ESCAPED_FROM.match(line) and _looks_like_message(line):
            return False
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
    stray: list[int] = []  # lines of ">From " junk before the first separator

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
            record = message_to_record(
                raw, source_format="mbox", source_file=path, locator=locator, folder=folder,
                options=options, sequence=seq,
            )
            if seq == 1 and stray:
                record.decode_warnings.append(f"mbox-stray-from-lines:{stray[0]}-{stray[-1]}")
            return record
        except Exception as exc:  # noqa: BLE001 - one broken message must not stop a mailbox
            return error_record(
                record_id=f"{name}#{seq}", source_format="mbox", source_file=path, source_locator=locator,
                reason=_PARSE_FAILED.format(type(exc).__name__), channel="email",
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
            if seq == 0 and start_line == 1 and not lines and _ESCAPED_FROM.match(line):
                # A stray escaped separator at the top of a Thunderbird file: not a message, nothing lost.
                stray.append(lineno)
                if len(stray) == 1:
                    log.warning("%s line %d: stray '>From ' line before the first message, ignored", path, lineno)
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
    if not _looks_like_message(raw):  # email's parser takes anything, and would score the bytes as a body
        return error_record(
            record_id=path, source_format="eml", source_file=path, source_locator="file", channel="email",
            reason="no mail headers (From:, Subject: …) at the start: not an e-mail message; "
                   "save a plain-text message as .txt to scan it as text",
        )
    try:
        return message_to_record(raw, source_format="eml", source_file=path, locator="file", folder=folder,
                                 options=options)
    except Exception as exc:  # noqa: BLE001 - a broken file is reported, not fatal
        return error_record(
            record_id=path, source_format="eml", source_file=path, source_locator="file",
            reason=_PARSE_FAILED.format(type(exc).__name__), channel="email",
        )


def maildir_folder(maildir: str, folder_dir: str) -> str:
    """The mailbox name of a folder inside a Maildir, as a mail client shows it ("" for the inbox).

    Maildir++ (Courier, Dovecot's default) names subfolders ``.Sent`` or ``.INBOX.Sent``; Dovecot's
    ``LAYOUT=fs`` nests them as ``Sent/`` or ``INBOX/Sent/``.  Non-ASCII names are stored in IMAP modified
    UTF-7 (``.&kAFP4W4IMH8w4TD8MOs-`` is 送信済みメール).  The last level of the name is returned, decoded.

    >>> maildir_folder("/m", "/m/.INBOX.Sent"), maildir_folder("/m", "/m/Sent"), maildir_folder("/m", "/m")
    ('Sent', 'Sent', '')
    >>> maildir_folder("/m", "/m/.&kAFP4W4IMH8w4TD8MOs-")
    '送信済みメール'
    """
    rel = os.path.relpath(folder_dir, maildir)
    if rel in (".", ""):
        return ""
    last = rel.replace(os.sep, "/").split("/")[-1]
    if last.startswith("."):
        last = last[1:].split(".")[-1] or last
    return decode_imap_utf7(last)


def decode_imap_utf7(name: str) -> str:
    """Decode an IMAP modified UTF-7 mailbox name (RFC 3501 5.1.3); a malformed name is returned as is.

    >>> decode_imap_utf7("&kAFP4W4IMH8w4TD8MOs-"), decode_imap_utf7("Sent &- Archive")
    ('送信済みメール', 'Sent & Archive')
    """
    if "&" not in name:
        return name

    def one(m: re.Match[str]) -> str:
        chunk = m.group(1)
        if not chunk:
            return "&"
        b64 = chunk.replace(",", "/")
        try:
            return base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return m.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def read_maildir(path: str, *, options: MailOptions | None = None) -> Iterator[MessageRecord]:
    """Read a Maildir (``cur``/``new``; ``tmp`` skipped), Maildir++ and ``LAYOUT=fs`` subfolders included.

    Messages in a sent folder (``Sent``, ``Sent Items``, ``送信済み``…, matched on the folder's decoded name,
    case-insensitively; see :class:`MailOptions`) are agent replies.
    """
    for root, dirs, files in os.walk(path):
        dirs.sort()
        base = os.path.basename(root)
        if base == "tmp":
            dirs[:] = []
            continue
        if base not in ("cur", "new"):
            continue
        folder = maildir_folder(path, os.path.dirname(root))
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
