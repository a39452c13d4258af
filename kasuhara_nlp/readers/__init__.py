"""Readers: every supported input format as one lazy stream of MessageRecord.

``read_records`` picks a reader per path from ``format=``, else the extension, else the content (mbox separator,
mail headers, Zendesk, helpdesk-vendor or chat JSON shapes, transcript lines); in a folder, per file.  Every record
has ``text_to_score``/``segments`` filled, PII offsets found, and a status: "ok" (score it), "not_scored" (agent,
bot, internal note, auto-reply: see ``reason``), "skipped" or "error".

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
>>> _ = open(path, "w", encoding="utf-8").write('{"id": "m1", "text": "まだですか"}\\n')
>>> [(r.record_id, r.status) for r in read_records([path])]
[('m1', 'ok')]
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..errors import InputFormatError
from ..records import MessageRecord
from .chat import read_text_file
from .chat_json import read_chat_json
from .common import MAX_MESSAGE_BYTES, error_record, input_error, unopenable_input
from .detect import detect_format
from .mail import _is_maildir, read_mail_path, read_maildir
from .mime import MailOptions
from .presets import PRESETS, preset_names
from .tabular import TABULAR_FORMATS, read_tabular
from .vendors import read_helpdesk_json
from .zendesk import read_zendesk

__all__ = ["FORMATS", "PRESETS", "MailOptions", "detect_format", "preset_names", "read_records"]

log = logging.getLogger(__name__)

#: Values accepted by ``format=`` (``--format``).
FORMATS = (
    *TABULAR_FORMATS, "eml", "mbox", "maildir", "mail", "zendesk", "helpdesk-json", "chat", "chat-json", "text",
)

_MAIL_FORMATS = ("eml", "mbox", "maildir", "mail")
_JSON_EXT = (".json", ".jsonl", ".ndjson")
#: Files in a folder that hold no messages: mail-client indexes and state, OS metadata.  Skipped
#: without a record (a Thunderbird profile has one .msf per folder), and logged.
_HOUSEKEEPING = re.compile(
    r"^\.|\.(?:msf|dat|sqlite|sqlite-wal|sqlite-shm|db|lock|ini)$|^(?:msgFilterRules|popstate)\b|^Thumbs\.db$",
    re.IGNORECASE,
)
#: Files in a folder that may well be someone's data but that no reader here can read: each gets a
#: "skipped" record, so that the output says what was not scanned.
_UNSUPPORTED_EXT = {
    ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".bmp", ".tif", ".tiff", ".xlsx", ".xls", ".xlsm",
    ".docx", ".doc", ".pptx", ".ppt", ".zip", ".gz", ".7z", ".tar", ".rar", ".lzh", ".exe", ".mp3", ".wav", ".m4a",
    ".mp4", ".mov", ".msg", ".pst", ".ost", ".olm",
}
# The root of a Slack workspace export: these files describe members and channels and hold no messages
# (users.json is read for the roles of the channels' messages: readers/chat_exports.py).
_SLACK_EXPORT_METADATA = frozenset({
    "users.json", "channels.json", "groups.json", "dms.json", "mpims.json", "org_users.json",
    "integration_logs.json", "canvases.json", "huddle_transcripts.json",
})


@dataclass(frozen=True)
class _ReadOptions:
    """What :func:`read_records` was asked, handed to the reader of each file."""

    format: str | None
    text_field: str | None
    id_field: str | None
    preset: str | None
    encoding: str | None
    mail: MailOptions
    name_roles: Mapping[str, str] | None
    max_bytes: int


def _read_file(path: str, fmt: str, opts: _ReadOptions) -> Iterator[MessageRecord]:
    """One file (or ``-``) with the reader of ``fmt``."""
    if path == "-" and fmt not in TABULAR_FORMATS:
        raise InputFormatError(f"stdin can only be read as {', '.join(TABULAR_FORMATS)}, not {fmt!r}", path="-")
    if fmt in TABULAR_FORMATS:
        yield from read_tabular(
            path, format=fmt, text_field=opts.text_field, id_field=opts.id_field, preset=opts.preset,
            encoding=opts.encoding, max_message_bytes=opts.max_bytes,
        )
    elif fmt in _MAIL_FORMATS:
        yield from read_mail_path(path, options=opts.mail)
    elif fmt == "zendesk":
        yield from read_zendesk([path], max_message_bytes=opts.max_bytes)
    elif fmt == "helpdesk-json":
        yield from read_helpdesk_json(path, max_message_bytes=opts.max_bytes)
    elif fmt == "chat-json":
        yield from read_chat_json(path, max_message_bytes=opts.max_bytes)
    else:  # chat, text
        yield from read_text_file(path, name_roles=opts.name_roles, max_message_bytes=opts.max_bytes)


def _is_binary(path: str) -> bool:
    """NUL bytes without a UTF-16 BOM: not text in any encoding a reader here knows."""
    with open(path, "rb") as f:
        head = f.read(8192)
    return b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _folder_plan(root: str, forced: str | None) -> Iterator[tuple[str, str, str]]:
    """(kind, path, reason) for every file under ``root``, in walk order.

    kind is a format, "maildir" (a Maildir inside the tree), "skipped" or "error".  Mail-client and
    OS housekeeping files are left out, and logged.
    """
    housekeeping: list[str] = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        if dirpath != root and _is_maildir(dirpath):
            dirs[:] = []
            yield "maildir", dirpath, ""
            continue
        slack_root = not forced and {"users.json", "channels.json"} <= set(files)
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            if _HOUSEKEEPING.search(name):
                housekeeping.append(os.path.relpath(path, root))
                continue
            if slack_root and name in _SLACK_EXPORT_METADATA:
                yield "skipped", path, "Slack export metadata (members and channels, no messages)"
                continue
            ext = os.path.splitext(name)[1].lower()
            if ext in _UNSUPPORTED_EXT:
                yield "skipped", path, f"not a supported input ({ext} file); export it as .eml, .csv, .jsonl or .json"
                continue
            try:
                fmt = forced or detect_format(path)
            except InputFormatError as exc:
                yield "error", path, exc.message
                continue
            except Exception as exc:  # noqa: BLE001 (a bug of the sniffing must cost this file only)
                yield "error", path, _internal_error(path, exc, None)
                continue
            if fmt == "chat" and _is_binary(path):
                yield "skipped", path, "binary file, not a supported input"
                continue
            yield fmt, path, ""
    if housekeeping:
        log.info("%s: skipped %d file(s) that hold no messages: %s", root, len(housekeeping),
                 ", ".join(housekeeping[:20]) + (" …" if len(housekeeping) > 20 else ""))


def _internal_error(path: str, exc: Exception, after: str | None) -> str:
    """The reason of a file whose reader failed on a bug (not on bad input it could report): the exception's
    type and the place in this package's code, never its message (a parser's message may quote the text)."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    log.warning("%s: internal reader error (%s%s)%s", path, type(exc).__name__, where,
                f" after {after}" if after else "")
    kept = f" after {after}; the records before it are kept" if after else "; nothing was read from it"
    return (f"internal reader error ({type(exc).__name__}{where}){kept}. This is a bug of kasuhara-nlp: please "
            "report it with this message (the other files were read)")


def _guarded(path: str, records: Iterator[MessageRecord], *, in_folder: bool = True) -> Iterator[MessageRecord]:
    """The records of one file; a file whose reading fails becomes one error record, and the next file is read.

    Records already yielded stay.  An unexpected exception (a reader's bug) never loses the run.  In a folder, a
    file that cannot be read at all (InputFormatError, OSError) is an error record too; for a path the caller
    named, an InputFormatError still stops the run (an unknown encoding or a format stdin cannot have is a usage
    error, see :func:`read_records`).
    """
    after: str | None = None
    try:
        for record in records:
            after = record.source_locator
            yield record
    except InputFormatError as exc:
        if not in_folder:
            raise
        yield error_record(
            record_id=path, source_format="folder", source_file=path,
            source_locator=f"line {exc.line}" if exc.line is not None else "file", reason=exc.message,
        )
    except OSError as exc:
        yield error_record(record_id=path, source_format="folder" if in_folder else "input", source_file=path,
                           source_locator="file", reason=f"cannot read: {exc.strerror or type(exc).__name__}")
    except Exception as exc:  # noqa: BLE001 (one file's reader bug must not cost the other files)
        yield error_record(record_id=path, source_format="folder" if in_folder else "input", source_file=path,
                           source_locator="file", reason=_internal_error(path, exc, after))


def _read_named(path: str, opts: _ReadOptions) -> Iterator[MessageRecord]:
    """A file (or ``-``) the caller named: its format (forced, else detected) and its reader."""
    yield from _read_file(path, opts.format or detect_format(path), opts)


def _read_folder(root: str, opts: _ReadOptions) -> Iterator[MessageRecord]:
    """Every file under ``root``, each read by the format detected for it (not only mail).

    A Maildir is read as one.  Zendesk files (tickets, users, comments) are read together, where
    the first of them lies, so that a users file gives the roles of the tickets beside it.
    """
    if _is_maildir(root):
        yield from read_maildir(root, options=opts.mail)
        return
    plan = list(_folder_plan(root, opts.format))
    zendesk = [path for kind, path, _ in plan if kind == "zendesk"]
    for kind, path, reason in plan:
        if kind == "maildir":
            yield from _guarded(path, read_maildir(path, options=opts.mail))
        elif kind in ("skipped", "error"):
            yield error_record(record_id=path, source_format="folder", source_file=path, source_locator="file",
                               status=kind, reason=reason)
        elif kind == "zendesk":
            if path == zendesk[0]:
                yield from _guarded(path, read_zendesk(zendesk, max_message_bytes=opts.max_bytes))
        else:
            yield from _guarded(path, _read_file(path, kind, opts))


def _zendesk_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """For ``preset="zendesk"``: (JSON files, other files), each folder replaced by the files under it."""
    files: list[str] = []
    others: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        for dirpath, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(n for n in names if not _HOUSEKEEPING.search(n)):
                (files if name.lower().endswith(_JSON_EXT) else others).append(os.path.join(dirpath, name))
    return files, others


def read_records(
    paths: str | os.PathLike[str] | list[str],
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
        paths: a file or folder, or a list of them; ``-`` reads CSV/JSONL/JSON from stdin (sniffed from its first bytes).
            Each file in a folder is read by its own format (mail, CSV, JSONL, Zendesk, chat);
            a file no reader can read gets a "skipped" record, mail-client index files are left out.
        format: force a reader (one of FORMATS) instead of detecting it.  A mail format on a
            folder reads it as a mail tree; any other applies to every file in it.
        text_field, id_field: source column (or dotted JSON path) of the message text / id.
        preset: a column preset (``salesforce-emailmessage``, ``jp-helpdesk-cp932``) or ``zendesk``.
        encoding: the encoding of tabular files (default: sniffed).
        support_domains, agent_addresses: mail from these is an agent reply (not scored).
        name_roles: transcript speaker name -> role ("agent", "customer", "bot").
        max_message_bytes: larger messages are skipped with a reason.

    Yields one record per message, lazily, in input order; unreadable rows, and each path that does not
    exist or cannot be opened, come as records with status "error" (never dropped) and the rest is read.

    Raises:
        InputFormatError: an unknown format or preset, or a usage the input cannot have (a Zendesk export
            or a mail format on stdin, an unknown encoding).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # one path, not its characters: "/" of "/in/x.csv" would read the whole disk
    paths = [os.fspath(path) for path in paths]
    if format is not None and format not in FORMATS:
        raise InputFormatError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
    if preset is not None and preset not in preset_names():
        raise InputFormatError(f"unknown preset {preset!r}; choose one of: {', '.join(preset_names())}")
    opts = _ReadOptions(
        format=format, text_field=text_field, id_field=id_field, preset=preset, encoding=encoding,
        mail=MailOptions(support_domains=tuple(support_domains), agent_addresses=tuple(agent_addresses),
                         max_message_bytes=max_message_bytes),
        name_roles=name_roles, max_bytes=max_message_bytes,
    )
    if format == "zendesk" or preset == "zendesk":
        problems = {path: unopenable_input(path) for path in paths}  # tickets, users, comments: read together
        yield from (input_error(path, problems[path]) for path in paths if problems[path])
        files, others = _zendesk_files([path for path in paths if not problems[path]])
        if files:
            yield from _guarded(files[0], read_zendesk(files, max_message_bytes=max_message_bytes), in_folder=False)
        for path in others:
            yield error_record(record_id=path, source_format="zendesk", source_file=path, source_locator="file",
                               status="skipped", reason="not a JSON file, so not part of a Zendesk export")
        return
    for path in paths:
        problem = unopenable_input(path)
        if problem:
            yield input_error(path, problem)
            continue
        if path != "-" and os.path.isdir(path):
            if format in _MAIL_FORMATS:
                yield from _guarded(path, read_mail_path(path, options=opts.mail), in_folder=False)
            else:
                yield from _read_folder(path, opts)
            continue
        yield from _guarded(path, _read_named(path, opts), in_folder=False)
