"""One RFC 5322 message (bytes) to one MessageRecord: headers, body, attachments, role, thread.

Messages are parsed from bytes with ``compat32`` so that raw 8-bit headers survive as surrogate
escapes, and every payload is decoded by our charset layer rather than ``get_content()``, which
loses ①/㈱ and unknown labels (see :mod:`kasuhara_nlp.readers.charset`).

>>> raw = b"From: a@example.com\\nSubject: =?UTF-8?B?6L+U6YeR?=\\n\\n\\xe8\\xbf\\x94\\xe9\\x87\\x91\\xe3\\x81\\x97\\xe3\\x82\\x8d\\n"
>>> r = message_to_record(raw, source_format="eml", source_file="a.eml", locator="file")
>>> r.subject, r.body_text, r.status
('返金', '返金しろ\\n', 'ok')
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from ..records import MessageRecord
from .attachments import attachment_of
from .autoreply import SUBJECT_PREFIX, auto_reason, header_str, raw_header
from .charset import decode_bytes, decode_header_value
from .common import MAX_MESSAGE_BYTES, finish_record
from .html import html_to_text, meta_charset
from .timestamps import parse_timestamp, to_iso_pair

__all__ = ["MailOptions", "message_to_record", "normalise_subject"]

_PARSER = BytesParser(policy=compat32)
# A text/plain alternative that only points to the HTML part ("このメールはHTML形式で送信されています",
# "HTML対応のメーラーでご覧ください", "To view this message, use an HTML-capable reader"): short, about HTML or a
# browser, and not a version of the HTML part's text.  A rule rather than a list of phrases: every mailer words it
# differently.
_HTML_POINTER = re.compile(r"HTML|ＨＴＭＬ|ブラウザ|browser|\bview\b|web\s?版|ウェブ版|メーラー|メールソフト", re.IGNORECASE)
_PLACEHOLDER_MAX_CHARS = 200
_PLACEHOLDER_MAX_LINES = 4
_SPACE = re.compile(r"\s+")
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class MailOptions:
    """How to tell our side from customers, and size limits.

    ``support_domains``: mail from these domains (or subdomains) is an agent reply;
    ``agent_addresses``: individual staff addresses; ``agent_folders``: mailbox folder names whose
    messages we sent (Sent, 送信済み).
    """

    support_domains: tuple[str, ...] = ()
    agent_addresses: tuple[str, ...] = ()
    agent_folders: tuple[str, ...] = (
        "sent", "sent items", "sent mail", "sent messages", "sent-mail", "outbox", "送信済み", "送信済",
        "送信済みアイテム", "送信済アイテム", "送信済みメール", "送信済メール", "送信済みトレイ", "送信箱", "送信トレイ",
    )
    max_message_bytes: int = MAX_MESSAGE_BYTES
    extra_headers: tuple[str, ...] = field(default=())


def normalise_subject(subject: str | None) -> str:
    """Subject without reply/forward prefixes, for threading by subject.

    >>> normalise_subject("RE: Re[2]: 転送： 返品の件")
    '返品の件'
    """
    if not subject:
        return ""
    return SUBJECT_PREFIX.sub("", subject).strip()


def _undo_flowed(text: str, delsp: bool) -> str:
    """Rejoin format=flowed soft line breaks (a line ending in a space continues)."""
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            buf += line[:-1] if delsp else line
        else:
            out.append(buf + line)
            buf = ""
    if buf:
        out.append(buf)
    return "\n".join(out)


def _part_text(part: Message, warnings: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if not isinstance(payload, bytes):
        payload = str(payload).encode("utf-8", "surrogateescape")
    for defect in part.defects:
        warnings.append(f"mime-defect:{type(defect).__name__}")
    charset = part.get_param("charset")
    if isinstance(charset, tuple):  # RFC 2231 form
        charset = charset[2]
    if charset is None and part.get_content_subtype() == "html":
        charset = meta_charset(payload)
    text = decode_bytes(payload, charset, warnings)
    if part.get_content_subtype() == "plain" and str(part.get_param("format", "")).lower() == "flowed":
        text = _undo_flowed(text, str(part.get_param("delsp", "")).lower() == "yes")
    return text


def _leaf_parts(msg: Message) -> Iterator[Message]:
    """The parts to list or read, in order; an attached mail is yielded whole, never entered.

    ``msg.walk()`` would descend into a ``message/rfc822`` part (compat32 makes it multipart) and
    hand over the attached mail's text as if the customer had written it: a threat the customer
    received and forwards as evidence would be scored as theirs.
    """
    stack = [msg]
    while stack:
        part = stack.pop()
        if part is not msg and part.get_content_maintype() == "message":
            yield part
        elif part.is_multipart():
            # Reversed so that the stack pops the sub-parts in their order in the mail.
            stack.extend(reversed([p for p in part.get_payload() if isinstance(p, Message)]))
        else:
            yield part


def _is_placeholder(plain: str, html_text: str) -> bool:
    """True when a plain part has no text of its own but a pointer to the HTML part (or nothing at all).

    >>> _is_placeholder("※このメールはHTMLメールです。", "お前ら最悪だ")
    True
    >>> _is_placeholder("HTMLで失礼します。返金しろ", "HTMLで失礼します。\\n返金しろ")
    False
    """
    stripped = plain.strip()
    if not stripped:
        return True
    if len(stripped) > _PLACEHOLDER_MAX_CHARS or len(stripped.splitlines()) > _PLACEHOLDER_MAX_LINES:
        return False
    if not _HTML_POINTER.search(stripped):
        return False
    # The customer's HTML-capable mailer sends the same words in both parts; a placeholder's words are not
    # in the HTML part.
    squeezed = _SPACE.sub("", stripped)
    return bool(html_text.strip()) and squeezed not in _SPACE.sub("", html_text)


def _body(msg: Message, warnings: list[str], attachments: list[dict[str, object]]) -> tuple[str, bool]:
    """(text, came from HTML) from the best body part; attachments are listed, never read."""
    plain: list[str] = []
    html: list[str] = []
    for part in _leaf_parts(msg):
        ctype = part.get_content_type()
        info = None if part is msg else attachment_of(part, warnings, index=len(attachments) + 1)
        if info is not None:
            attachments.append(info)
            continue
        if ctype == "text/html":
            html.append(_part_text(part, warnings))
        elif part.get_content_maintype() == "text" or part is msg:
            plain.append(_part_text(part, warnings))
    text = "\n".join(t for t in plain if t)
    if html:
        html_text = "\n".join(html_to_text(h) for h in html if h)
        if _is_placeholder(text, html_text):
            if text.strip():
                warnings.append("plain-part-placeholder:html-read")
            return html_text, True
    return text, False


def _header(msg: Message, name: str, warnings: list[str]) -> str:
    return decode_header_value(raw_header(msg, name), warnings).strip()


def _conversation_id(msg: Message, subject: str, addresses: list[str]) -> tuple[str | None, str]:
    refs = _MSGID.findall(header_str(msg, "References"))
    if refs:
        return refs[0].strip("<>"), "references"
    reply_to = _MSGID.findall(header_str(msg, "In-Reply-To"))
    thrid = header_str(msg, "X-GM-THRID").strip()
    if thrid:
        return f"gmail:{thrid}", "x-gm-thrid"
    if reply_to:
        return reply_to[0].strip("<>"), "in-reply-to"
    norm = normalise_subject(subject)
    if not norm:
        return None, ""
    people = ",".join(sorted({a.lower() for a in addresses if a}))
    digest = hashlib.sha256(f"{norm}\n{people}".encode()).hexdigest()[:16]
    return f"subject:{digest}", "subject"


def _timestamps(msg: Message) -> tuple[str | None, str | None, bool]:
    date = header_str(msg, "Date")
    if date:
        found = parse_timestamp(str(date))
        if found[0]:
            return found
    for received in msg.get_all("Received") or []:
        _, _, when = str(received).rpartition(";")
        try:
            return to_iso_pair(parsedate_to_datetime(when.strip()))
        except (TypeError, ValueError, IndexError):
            continue
    return None, None, False


def _folder_key(name: str) -> str:
    """A folder name for comparison: the last level of ``[Gmail]/Sent Mail``, NFKC, casefolded, spaces collapsed."""
    last = re.split(r"[/\\]", name.strip())[-1].strip(".")
    return " ".join(unicodedata.normalize("NFKC", last).casefold().split())


@functools.lru_cache(maxsize=8)
def _folder_keys(folders: tuple[str, ...]) -> frozenset[str]:
    # Once per option set, not per message: an mbox gives every message a folder.
    return frozenset(_folder_key(f) for f in folders)


def _role(from_addr: str, labels: str, folder: str, options: MailOptions) -> tuple[str, str]:
    addr = from_addr.lower()
    domain = addr.rpartition("@")[2]
    if addr and addr in {a.lower() for a in options.agent_addresses}:
        return "agent", "agent address"
    for d in options.support_domains:
        d = d.lower().lstrip("@")
        if domain == d or domain.endswith("." + d):
            return "agent", f"support domain {d}"
    if "sent" in [label.strip().lower() for label in labels.split(",")]:
        return "agent", "X-Gmail-Labels: Sent"
    if folder and _folder_key(folder) in _folder_keys(tuple(options.agent_folders)):
        return "agent", f"folder {folder}"
    if options.support_domains or options.agent_addresses:
        return "customer", "not a support address"
    return "unknown", "no support domains configured"


def message_to_record(
    raw: bytes,
    *,
    source_format: str,
    source_file: str,
    locator: str,
    folder: str = "",
    options: MailOptions | None = None,
    sequence: int = 0,
) -> MessageRecord:
    """Parse one message's bytes into a finished record (status set by role and origin)."""
    options = options or MailOptions()
    warnings: list[str] = []
    msg = _PARSER.parsebytes(raw)
    for defect in msg.defects:
        warnings.append(f"mime-defect:{type(defect).__name__}")
    subject = _header(msg, "Subject", warnings)
    from_name, from_addr = parseaddr(_header(msg, "From", warnings))
    labels = _header(msg, "X-Gmail-Labels", warnings)
    attachments: list[dict[str, object]] = []
    body, from_html = _body(msg, warnings, attachments)
    message_id = (_MSGID.findall(header_str(msg, "Message-ID")) or [None])[0]
    message_id = message_id.strip("<>") if message_id else None
    addresses = [a for _, a in getaddresses([header_str(msg, h) for h in ("From", "To", "Cc")])]
    conversation_id, thread_basis = _conversation_id(msg, subject, addresses)
    utc, local, assumed = _timestamps(msg)
    role, basis = _role(from_addr, labels, folder, options)
    record_id = message_id or f"{source_file}#{locator}"
    record = MessageRecord(
        record_id=record_id,
        body_text=body,
        source_format=source_format,
        source_file=source_file,
        source_locator=locator,
        conversation_id=conversation_id,
        message_id=message_id,
        sequence=sequence,
        timestamp_utc=utc,
        timestamp_local=local,
        timestamp_assumed_tz=assumed,
        author_role=role,
        role_basis=basis,
        author_name=from_name or from_addr or None,
        channel="email",
        subject=subject or None,
        decode_warnings=warnings,
        attachments=attachments,
    )
    reason = auto_reason(msg, subject, from_addr, body)
    if reason is not None:
        record.is_auto_generated = True
        record.reason = reason
        if "bounce" in reason or "report" in reason or "system" in reason:
            record.author_role, record.role_basis = "system", reason
    record.extra.update({"thread_basis": thread_basis, "body_from_html": from_html})
    if labels:
        record.extra["gmail_labels"] = [label.strip() for label in labels.split(",") if label.strip()]
    thrid, in_reply_to = header_str(msg, "X-GM-THRID").strip(), header_str(msg, "In-Reply-To").strip()
    if thrid:
        record.extra["x_gm_thrid"] = thrid
    if in_reply_to:
        record.extra["in_reply_to"] = in_reply_to.strip("<>")
    return finish_record(record, max_bytes=options.max_message_bytes)
