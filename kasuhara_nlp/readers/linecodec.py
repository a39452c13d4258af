"""Files whose lines are in different encodings: a UTF-8 export with a row pasted from a Shift_JIS system.

Sniffing one encoding for such a file garbles part of it whatever it picks: CP932 accepts most UTF-8 kana
byte pairs, so a small UTF-8 file with one CP932 row used to be read whole as CP932, every UTF-8 row turned
to mojibake (``縺ｵ縺悶￠``) with no warning.  :data:`MIXED` is a codec that decodes each line on its own:
UTF-8 when the line is UTF-8; CP932 when the line is mostly not UTF-8 and reads as Japanese in CP932;
otherwise UTF-8 with the undecodable bytes escaped (see ``streams.ESCAPE_ERRORS``), so that the row is
reported as an error rather than guessed.  Line ends (``\\n``, ``\\r\\n``, ``\\r``) never occur inside a UTF-8
or CP932 character, so splitting on them first is safe.

>>> line = "返金しろ\\n".encode("cp932")
>>> (line + "ふざけるな\\n".encode()).decode(MIXED)
'返金しろ\\nふざけるな\\n'
>>> decode_line(line), decode_line("ok\\n".encode())
(('返金しろ\\n', True), ('ok\\n', False))

:data:`ISO2022JP_LINES` reads ISO-2022-JP (JIS) text files the way the mail path reads JIS mail: with the
CP50220 decoder of :mod:`~kasuhara_nlp.readers.charset`, so ① ㈱ 髙 﨑 survive.  Each line is decoded on its
own (an escape sequence does not outlive its line, as in ``charset``); a line with 8-bit bytes, which JIS never
has, is decoded as :func:`decode_line` does.

>>> b"1,\\x1b$B-!JV6b\\x1b(B\\n".decode(ISO2022JP_LINES)
'1,①返金\\n'
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from .charset import _decode_iso, _japanese_score

__all__ = ["ISO2022JP_LINES", "MIXED", "MixedLines", "decode_line", "mixed_lines"]

#: The codec names (pass them where a codec name goes: ``bytes.decode``, ``io.TextIOWrapper``).
MIXED = "kasuhara_utf8_cp932_lines"
ISO2022JP_LINES = "kasuhara_iso2022jp_lines"
_ESCAPE = "kasuhara-escape"  # streams.ESCAPE_ERRORS (streams imports this module, so it is not imported back)
_LINE_BREAK = re.compile(rb"(?<=\r)(?!\n)|(?<=\n)")  # after \n, and after a \r not followed by \n


def decode_line(raw: bytes) -> tuple[str, bool]:
    """One line as text, and True when it was read as CP932 (a row in another encoding than the file's)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    escaped = raw.decode("utf-8", _ESCAPE)
    bad = sum(1 for ch in escaped if "\udc80" <= ch <= "\udcff")
    high = sum(1 for b in raw if b >= 0x80)
    if 2 * bad > high:  # most of its non-ASCII bytes are not UTF-8: not a UTF-8 line with one damaged character
        try:
            text = raw.decode("cp932")
        except UnicodeDecodeError:
            return escaped, False
        if _japanese_score(text) > 0:
            return text, True
    return escaped, False


def _split(data: bytes) -> list[bytes]:
    return [part for part in _LINE_BREAK.split(data) if part]


def mixed_lines(sample: bytes, complete: bool) -> str | None:
    """How a file's first bytes mix encodings: None when they do not (no UTF-8 line with non-ASCII text, or no
    line that is not UTF-8); "cp932" when a line that is not UTF-8 reads as CP932; else "damaged" (UTF-8 with
    damaged lines, which decode to escapes and are reported).

    The last line of an incomplete sample may be cut inside a character, so it is not looked at.

    >>> mixed_lines("u1,ふざけるな\\n".encode() + "u2,返金しろ\\n".encode("cp932"), True)
    'cp932'
    >>> mixed_lines("u1,ふざけるな\\n".encode() + b"u2,\\xff\\xfe\\n", True), mixed_lines(b"a\\n", True)
    ('damaged', None)
    """
    lines = _split(sample)
    if not complete and lines:
        lines = lines[:-1]
    utf8, others = False, []
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            others.append(line)
    if not utf8 or not others:
        return None
    return "cp932" if any(decode_line(line)[1] for line in others) else "damaged"


class MixedLines:
    """The lines of a binary stream decoded with :func:`decode_line`, as ``io.TextIOWrapper(newline="")`` splits
    them; ``cp932_lines`` holds the (1-based) numbers of those read as CP932, so their rows can say so."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.cp932_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        number = 0
        for raw in self._stream:  # binary lines end at \n; a lone \r inside is split below
            for part in _split(raw):
                number += 1
                text, cp932 = decode_line(part)
                if cp932:
                    self.cp932_lines.add(number)
                yield text


def _decode_jis_line(raw: bytes) -> str:
    if not raw.isascii():
        return decode_line(raw)[0]
    return _decode_iso(raw, [])  # Python's iso2022_jp first, the CP50220 decoder for what it rejects


#: How each line-wise codec decodes one line.
_LINE_DECODERS: dict[str, Callable[[bytes], str]] = {
    MIXED: lambda raw: decode_line(raw)[0],
    ISO2022JP_LINES: _decode_jis_line,
}


def _line_codec(name: str) -> codecs.CodecInfo:
    """A decode-only codec (encoding is UTF-8) that splits its input into lines and decodes each on its own."""
    decode_one = _LINE_DECODERS[name]

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return "".join(decode_one(part) for part in _split(bytes(data))), len(data)

    class _IncrementalDecoder(codecs.BufferedIncrementalDecoder):
        """Decodes up to the last line break seen; the rest waits for its line to end (or for the end of input)."""

        def _buffer_decode(self, data, errors, final):  # type: ignore[override]
            data = bytes(data)
            cut = len(data) if final else max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            if not final and cut == len(data) and data.endswith(b"\r"):
                cut -= 1  # a \r at the end of a chunk may be the first half of \r\n
            return decode(data[:cut])[0], cut

    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=name, encode=utf8.encode, decode=decode, incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=_IncrementalDecoder, streamreader=utf8.streamreader, streamwriter=utf8.streamwriter,
    )


def _search(name: str) -> codecs.CodecInfo | None:
    return _line_codec(name) if name in _LINE_DECODERS else None


codecs.register(_search)
