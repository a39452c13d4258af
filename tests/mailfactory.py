"""Build real Japanese mail bytes for tests: ISO-2022-JP with Microsoft extensions, CP932, mbox files."""

from __future__ import annotations

import base64
import quopri


def sjis_to_jis(data: bytes) -> bytes:
    """Shift_JIS/CP932 double bytes to JIS X 0208 pairs (what Windows writes inside ESC $ B)."""
    out = bytearray()
    i = 0
    while i < len(data):
        s1 = data[i]
        if s1 < 0x80:
            out.append(s1)
            i += 1
            continue
        s2 = data[i + 1]
        i += 2
        if s1 >= 0xE0:
            s1 -= 0x40
        j1 = (s1 - 0x70) * 2 - (1 if s2 < 0x9F else 0)
        j2 = s2 - 0x1F if s2 < 0x7F else (s2 - 0x20 if s2 < 0x9F else s2 - 0x7E)
        out += bytes((j1, j2))
    return bytes(out)


def cp50220(text: str) -> bytes:
    """Encode like Windows' CP50220: ISO-2022-JP escapes around CP932 characters (①, ㈱, 髙, 﨑)."""
    out = bytearray()
    kanji = False
    for ch in text:
        if ord(ch) < 0x80:
            if kanji:
                out += b"\x1b(B"
                kanji = False
            out += ch.encode("ascii")
        else:
            if not kanji:
                out += b"\x1b$B"
                kanji = True
            out += sjis_to_jis(ch.encode("cp932"))
    if kanji:
        out += b"\x1b(B"
    return bytes(out)


def encoded_word(text: str, charset: str) -> str:
    raw = cp50220(text) if charset.lower() in ("iso-2022-jp", "cp50220") else text.encode(
        "cp932" if charset.lower() in ("shift_jis", "windows-31j", "x-sjis") else charset
    )
    return f"=?{charset}?B?{base64.b64encode(raw).decode()}?="


def message(
    body: bytes | str,
    *,
    charset: str = "utf-8",
    cte: str = "8bit",
    subject: str = "問い合わせ",
    subject_charset: str | None = "utf-8",
    sender: str = "山田 <yamada@example.com>",
    headers: str = "",
    msgid: str = "<m1@example.com>",
    content_type: str = "text/plain",
) -> bytes:
    """One RFC 5322 message with the body encoded as asked (body str is encoded with ``charset``)."""
    if isinstance(body, str):
        if charset.lower() in ("iso-2022-jp", "cp50220"):
            body = cp50220(body)
        elif charset.lower() in ("shift_jis", "windows-31j", "x-sjis", "ms932"):
            body = body.encode("cp932")
        else:
            body = body.encode(charset)
    if cte == "base64":
        payload = base64.encodebytes(body)
    elif cte == "quoted-printable":
        payload = quopri.encodestring(body)
    else:
        payload = body
    subj = encoded_word(subject, subject_charset) if subject_charset else subject
    head = (
        f"From: {sender}\nTo: support@example.jp\nSubject: {subj}\nMessage-ID: {msgid}\n"
        f"Date: Tue, 04 Mar 2025 10:15:00 +0900\nMIME-Version: 1.0\n{headers}"
        f"Content-Type: {content_type}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
    )
    return head.encode("utf-8", "surrogateescape") + payload


def mbox(messages: list[bytes], *, crlf: bool = False) -> bytes:
    """An mbox file of these messages (body `From ` lines escaped the mboxo way only if asked)."""
    out = bytearray()
    for i, msg in enumerate(messages):
        out += f"From sender{i}@example.com Tue Mar  4 10:{i % 60:02d}:00 2025\n".encode()
        out += msg.rstrip(b"\n") + b"\n\n"
    data = bytes(out)
    return data.replace(b"\n", b"\r\n") if crlf else data


def mime_part(
    body: bytes | str, *, content_type: str = "text/plain", charset: str | None = "utf-8", cte: str = "8bit",
    headers: str = "",
) -> bytes:
    """One MIME body part (headers + payload), the body encoded like :func:`message` does it."""
    if isinstance(body, str):
        label = (charset or "utf-8").lower()
        if label in ("iso-2022-jp", "cp50220"):
            body = cp50220(body)
        elif label in ("shift_jis", "windows-31j", "x-sjis", "ms932"):
            body = body.encode("cp932")
        else:
            body = body.encode(label)
    payload = base64.encodebytes(body) if cte == "base64" else body
    ctype = f"{content_type}; charset={charset}" if charset else content_type
    head = f"Content-Type: {ctype}\n{headers}"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\n"
    return head.encode("ascii") + b"\n" + payload


def attached_message(inner: bytes, *, filename: str | None = "received.eml", disposition: str = "attachment") -> bytes:
    """A ``message/rfc822`` part holding ``inner`` (a whole mail), as "forward as attachment" writes it."""
    head = "Content-Type: message/rfc822\n"
    if disposition:
        head += f"Content-Disposition: {disposition}" + (f'; filename="{filename}"' if filename else "") + "\n"
    return head.encode("ascii") + b"\n" + inner


def multipart(
    parts: list[bytes], *, subtype: str = "mixed", boundary: str = "b0", headers: str = "", nested: bool = False
) -> bytes:
    """A multipart message around ready-made parts; ``nested`` gives a body part (no mail headers)."""
    head = f'{headers}Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'
    if not nested:
        head = (
            f"From: 山田 <yamada@example.com>\nTo: support@example.jp\nSubject: {encoded_word('被害の相談', 'ISO-2022-JP')}\n"
            f"Message-ID: <mp-{boundary}@example.com>\nDate: Tue, 04 Mar 2025 10:15:00 +0900\nMIME-Version: 1.0\n"
        ) + head
    out = bytearray(head.encode("utf-8"))
    for part in parts:
        out += f"--{boundary}\n".encode() + part.rstrip(b"\n") + b"\n"
    out += f"--{boundary}--\n".encode()
    return bytes(out)
