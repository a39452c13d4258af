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

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from ..forms import has_form_text_field
from ..records import MessageRecord
from .charset import decode_bytes, decode_header_value
from .common import MAX_MESSAGE_BYTES, finish_record
from .html import html_to_text, meta_charset
from .timestamps import parse_timestamp, to_iso_pair

__all__ = ["MailOptions", "message_to_record", "normalise_subject"]

_PARSER = BytesParser(policy=compat32)
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|antw|返信|転送|答复)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.IGNORECASE
)
_AUTO_SUBJECT = re.compile(
    r"自動返信|自動応答|【自動送信】|自動送信メール|不在通知|^不在|Automatic reply|Auto(?:matic)?[- ]?Reply|"
    r"Out of (?:the )?Office|配信不能|Undeliver(?:able|ed)|Mail Delivery (?:Failure|Failed|Subsystem)|"
    r"Delivery Status Notification|Returned mail",
    re.IGNORECASE,
)
_SYSTEM_BODY = re.compile(r"お問い合わせを受け付けました|お問い合わせを受付いたしました|受付番号[:：]|本メールは送信専用")
_TRIVIAL_PLAIN = re.compile(
    r"^\s*(?:HTMLメールです。?|このメールはHTML形式です。?|This is an? HTML (?:message|email)\.?)?\s*$", re.IGNORECASE
)
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
    agent_folders: tuple[str, ...] = ("sent", "sent items", "sent mail", "送信済み", "送信済みアイテム", "送信済みメール")
    max_message_bytes: int = MAX_MESSAGE_BYTES
    extra_headers: tuple[str, ...] = field(default=())


def normalise_subject(subject: str | None) -> str:
    """Subject without reply/forward prefixes, for threading by subject.

    >>> normalise_subject("RE: Re[2]: 転送： 返品の件")
    '返品の件'
    """
    if not subject:
        return ""
    return _SUBJECT_PREFIX.sub("", subject).strip()


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


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").lower()
    return "attachment" in disposition or part.get_filename() is not None or part.get_content_maintype() not in (
        "text", "multipart"
    )


def _payload_size(part: Message) -> int:
    """Size of a part's encoded payload, without decoding it; an attached mail is measured as bytes."""
    raw = part.get_payload()
    if isinstance(raw, str):
        return len(raw)
    size = 0
    for inner in raw if isinstance(raw, list) else ():
        try:
            size += len(inner.as_bytes())
        except Exception:  # noqa: BLE001 - a damaged attached mail still gets listed
            continue
    return size


def _attachment_info(part: Message, warnings: list[str]) -> dict[str, object]:
    size = _payload_size(part)
    if (part.get("Content-Transfer-Encoding") or "").lower().strip() == "base64":
        size = size * 3 // 4  # size without decoding the (possibly large, binary) payload
    name = part.get_filename()
    return {
        "filename": decode_header_value(name, warnings) if name else None,
        "content_type": part.get_content_type(),
        "size": size,
    }


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


def _body(msg: Message, warnings: list[str], attachments: list[dict[str, object]]) -> tuple[str, bool]:
    """(text, came from HTML) from the best body part; attachments are listed, never read."""
    plain: list[str] = []
    html: list[str] = []
    for part in _leaf_parts(msg):
        ctype = part.get_content_type()
        if part is not msg and _is_attachment(part):
            attachments.append(_attachment_info(part, warnings))
            continue
        if ctype == "text/html":
            html.append(_part_text(part, warnings))
        elif part.get_content_maintype() == "text" or part is msg:
            plain.append(_part_text(part, warnings))
    text = "\n".join(t for t in plain if t)
    if (not text.strip() or _TRIVIAL_PLAIN.match(text)) and html:
        return "\n".join(html_to_text(h) for h in html if h), True
    return text, False


def _header(msg: Message, name: str, warnings: list[str]) -> str:
    # raw_items() keeps 8-bit bytes as surrogate escapes; get() would turn them into U+FFFD.
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return decode_header_value(str(value), warnings).strip()
    return ""


def _auto_reason(msg: Message, subject: str, from_addr: str, body: str) -> str | None:
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"auto-generated (Auto-Submitted: {auto})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if msg.get(name):
            return f"auto-generated ({name})"
    suppress = (msg.get("X-Auto-Response-Suppress") or "").lower()
    if "oof" in suppress or "all" in suppress:
        return "auto-generated (X-Auto-Response-Suppress)"
    precedence = (msg.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk or list mail (Precedence: {precedence})"
    if msg.get("List-Id") or msg.get("List-Unsubscribe"):
        return "mailing-list mail (List-Id/List-Unsubscribe)"
    if msg.get_content_type() == "multipart/report":
        return "delivery report (multipart/report)"
    if (msg.get("Return-Path") or "").strip() == "<>":
        return "bounce (empty Return-Path)"
    local = from_addr.split("@")[0].lower()
    if local in ("mailer-daemon", "postmaster"):
        return f"bounce (From {local})"
    if _AUTO_SUBJECT.search(subject):
        return "auto-reply or bounce (subject)"
    if _SYSTEM_BODY.search(body[:2000]) and not has_form_text_field(body):
        # A form's notification says お問い合わせを受け付けました too, but carries the customer's words.
        return "helpdesk acknowledgement (system mail)"
    return None


def _conversation_id(msg: Message, subject: str, addresses: list[str]) -> tuple[str | None, str]:
    refs = _MSGID.findall(msg.get("References") or "")
    if refs:
        return refs[0].strip("<>"), "references"
    reply_to = _MSGID.findall(msg.get("In-Reply-To") or "")
    thrid = (msg.get("X-GM-THRID") or "").strip()
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
    date = msg.get("Date")
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
    if folder and folder.strip(".").lower() in options.agent_folders:
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
    message_id = (_MSGID.findall(msg.get("Message-ID") or "") or [None])[0]
    message_id = message_id.strip("<>") if message_id else None
    addresses = [a for _, a in getaddresses([str(msg.get(h) or "") for h in ("From", "To", "Cc")])]
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
    reason = _auto_reason(msg, subject, from_addr, body)
    if reason is not None:
        record.is_auto_generated = True
        record.reason = reason
        if "bounce" in reason or "report" in reason or "system" in reason:
            record.author_role, record.role_basis = "system", reason
    record.extra.update({"thread_basis": thread_basis, "body_from_html": from_html})
    if labels:
        record.extra["gmail_labels"] = [label.strip() for label in labels.split(",") if label.strip()]
    if msg.get("X-GM-THRID"):
        record.extra["x_gm_thrid"] = str(msg.get("X-GM-THRID")).strip()
    if msg.get("In-Reply-To"):
        record.extra["in_reply_to"] = str(msg.get("In-Reply-To")).strip().strip("<>")
    return finish_record(record, max_bytes=options.max_message_bytes)
