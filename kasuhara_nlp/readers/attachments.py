"""Attachments of a mail: told apart from the body, and listed by name, type and size, never read.

Japanese mailers write attachment names every way there is: RFC 2231 (``filename*=UTF-8''…``, also
``Shift_JIS`` or ``ISO-2022-JP`` with continuations), RFC 2047 encoded-words inside quotes, and raw CP932 or
UTF-8 bytes.  ``email``'s own ``get_filename()`` decodes RFC 2231 with Python's codecs (``shift_jis`` and
``iso-2022-jp`` lose ①, 髙) and turns raw bytes into U+FFFD, and under ``compat32`` a header with raw bytes is
a ``Header`` object that breaks ``str`` methods.  Names are therefore parsed from the raw header text here and
decoded by our charset layer.  A name that cannot be read at all gets a safe placeholder and a warning: a bad
attachment header must never cost the body.

>>> from email.parser import BytesParser
>>> from email.policy import compat32
>>> raw = 'Content-Disposition: attachment; filename="見積書①.xlsx"\\n\\nx'.encode("cp932")
>>> part = BytesParser(policy=compat32).parsebytes(raw)
>>> w = []
>>> attachment_name(part, w, index=1), w
('見積書①.xlsx', ['attachment-name:raw-8bit'])
"""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import unquote_to_bytes

from .autoreply import header_str, raw_header
from .charset import decode_bytes, decode_header_value

__all__ = ["attachment_name", "attachment_of"]

# One parameter: name = "quoted value" | token.  Quotes may hold ';' (a file name can).
_PARAM = re.compile(r';\s*([^=\s;]+)\s*=\s*+("(?:[^"\\]|\\.)*"|[^;]*)')
_SECTION = re.compile(r"^(?P<base>[^*]+)(?:\*(?P<num>\d+))?(?P<ext>\*)?$")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _param(header: str, wanted: str, warnings: list[str]) -> str | None:
    """The decoded value of parameter ``wanted`` (plain, RFC 2231 extended or continued), or None."""
    plain: str | None = None
    sections: dict[int, tuple[bool, str]] = {}
    for m in _PARAM.finditer(header.replace("\r", "").replace("\n", " ")):
        sec = _SECTION.match(m.group(1).strip().lower())
        if sec is None or sec.group("base") != wanted:
            continue
        value = _unquote(m.group(2))
        if sec.group("num") is None and not sec.group("ext"):
            plain = value
        else:
            sections[int(sec.group("num") or 0)] = (bool(sec.group("ext")), value)
    if sections:
        return _rfc2231(sections, warnings)
    if plain is None:
        return None
    if not plain.isascii():
        warnings.append("attachment-name:raw-8bit")
        return decode_header_value(plain, [])
    if "=?" not in plain:
        return plain
    own: list[str] = []
    text = decode_header_value(plain, own)
    warnings.extend(f"attachment-name:{w}" for w in own)
    return text


def _rfc2231(sections: dict[int, tuple[bool, str]], warnings: list[str]) -> str:
    """Join RFC 2231 sections (``name*0*=charset'lang'%xx…; name*1*=%xx…``) and decode with the charset layer."""
    charset: str | None = None
    data = b""
    for i, num in enumerate(sorted(sections)):
        extended, value = sections[num]
        if i == 0 and extended and value.count("'") >= 2:
            charset, _lang, value = value.split("'", 2)
        if extended:
            data += unquote_to_bytes(value)
        else:
            data += value.encode("utf-8", "surrogateescape")
    own: list[str] = []
    text = decode_bytes(data, charset or None, own)
    warnings.extend(f"attachment-name:{w}" for w in own if not w.startswith("private-use"))
    return text


def attachment_name(part: Message, warnings: list[str], *, index: int) -> str | None:
    """The part's file name (Content-Disposition ``filename``, else Content-Type ``name``), decoded.

    None when the part names no file; ``attachment-<index>`` (and a warning) when a name is there but
    cannot be read.
    """
    try:
        for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
            raw = raw_header(part, header)
            if raw:
                name = _param(raw, param, warnings)
                if name is not None:
                    if "\ufffd" in name:
                        warnings.append("attachment-name:replacement-chars")
                    return name
        return None
    except Exception:  # noqa: BLE001 - a damaged name must not lose the mail; the warning says so
        warnings.append("attachment-name:unreadable")
        return f"attachment-{index}"


def _is_file(part: Message, name: str | None) -> bool:
    """A part is a file, not the body, with a disposition of attachment, a name, or a non-text type."""
    try:
        disposition = part.get_content_disposition() or ""
    except Exception:  # noqa: BLE001 - an unreadable disposition: judge by the rest
        disposition = ""
    return disposition == "attachment" or name is not None or part.get_content_maintype() not in ("text", "multipart")


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


def attachment_of(part: Message, warnings: list[str], *, index: int) -> dict[str, object] | None:
    """``{filename, content_type, size}`` of a part that is an attachment (metadata only; the payload is never
    decoded), or None for a body part.  The name is parsed once, for both questions."""
    name = attachment_name(part, warnings, index=index)
    if not _is_file(part, name):
        return None
    size = _payload_size(part)
    if header_str(part, "Content-Transfer-Encoding").lower().strip() == "base64":
        size = size * 3 // 4  # size without decoding the (possibly large, binary) payload
    return {"filename": name, "content_type": part.get_content_type(), "size": size}
