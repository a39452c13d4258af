"""Opening inputs as byte streams (files or stdin) and sniffing the encoding of tabular text.

Undecodable bytes must not crash a run or vanish: text is decoded with the ``kasuhara-escape``
error handler, which turns every undecodable byte into a lone surrogate (U+DC00 + byte) that the
record builder later reports as an error for that one row.

>>> sniff_text_encoding("本文".encode("cp932"), complete=True)
('cp932', [])
>>> b"\\xff".decode("utf-8", ESCAPE_ERRORS)
'\\udcff'
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from typing import Any, BinaryIO

from charset_normalizer import from_bytes

from ..errors import InputFormatError
from .charset import _japanese_score
from .linecodec import ISO2022JP_LINES, MIXED, mixed_lines

__all__ = [
    "ESCAPE_ERRORS", "SNIFF_BYTES", "has_escaped_bytes", "honour_bom", "open_input", "repair_surrogates",
    "sniff_text_encoding",
]

ESCAPE_ERRORS = "kasuhara-escape"
#: How much of a file is read to choose its encoding.
SNIFF_BYTES = 256 * 1024
# The escape sequences that switch ISO-2022-JP (JIS) to kanji or half-width kana; no other text has them.
_JIS_SHIFT = re.compile(rb"\x1b\$[@B]|\x1b\$\([BOQ]|\x1b\(I")
_KANA = re.compile("[\u3041-\u30fa]")
# Bytes that EUC-JP never has (0x8E and 0x8F shift to half-width kana and JIS X 0212; the rest is 0xA1-0xFE).
_NEVER_EUC_JP = bytes(range(0x80, 0x8E)) + bytes(range(0x90, 0xA1))


def _escape(exc: UnicodeError) -> tuple[str, int]:
    # Unlike "surrogateescape", this also works for bytes < 0x80 (UTF-16 halves).
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error(ESCAPE_ERRORS, _escape)


def has_escaped_bytes(text: str) -> bool:
    """True when ``text`` holds bytes that could not be decoded (see ESCAPE_ERRORS).

    >>> has_escaped_bytes("ok"), has_escaped_bytes("\\udc81")
    (False, True)
    """
    if text.isascii():
        return False
    return any("\udc00" <= ch <= "\udcff" for ch in text)


# Any UTF-16 half on its own.  A str holding one cannot be written as UTF-8 or tokenised; JSON exports make them
# with a \ud83d escape when a chat widget cuts an emoji in half.
_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_surrogates(value: Any) -> tuple[Any, int]:
    """``value`` (a str, or a JSON list/dict of them) with every lone surrogate made U+FFFD, and how many there were.

    For text parsed from JSON whose bytes all decoded: its surrogates came from ``\\uD8xx`` escapes, not from
    undecodable bytes, so they are repaired rather than reported as bad bytes.

    >>> repair_surrogates({"text": "返金\\ud83d", "n": [1, "\\udc81"]})
    ({'text': '返金�', 'n': [1, '�']}, 2)
    """
    if isinstance(value, str):
        if value.isascii():
            return value, 0
        return _SURROGATE.subn("\ufffd", value)
    if isinstance(value, list):
        items = [repair_surrogates(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    if isinstance(value, dict):
        pairs = {k: repair_surrogates(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, sum(n for _, n in pairs.values())
    return value, 0


class _Prefixed(io.RawIOBase):
    """A read-only stream that replays already-read bytes before the rest of ``inner``."""

    def __init__(self, prefix: bytes, inner: BinaryIO, owns: bool):
        self._prefix = memoryview(prefix)
        self._inner = inner
        self._owns = owns  # close ``inner`` with this stream: a file we opened, never stdin

    def close(self) -> None:
        # IOBase also calls close() when the stream is garbage collected, hence the owns flag.
        if self._owns and not self.closed:
            self._inner.close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_input(path: str) -> tuple[BinaryIO, bytes, str]:
    """Open ``path`` (``-`` for stdin) and return (stream from the start, sniff sample, name).

    The sample (first SNIFF_BYTES) is part of the returned stream; nothing is read twice from
    stdin.
    """
    if path == "-":
        inner: BinaryIO = sys.stdin.buffer
        name = "<stdin>"
    else:
        inner = open(path, "rb")  # noqa: SIM115 - closed by the caller's reader
        name = os.fspath(path)
    sample = inner.read(SNIFF_BYTES)
    stream = io.BufferedReader(_Prefixed(sample, inner, owns=path != "-"), buffer_size=64 * 1024)
    return stream, sample, name  # type: ignore[return-value]


def honour_bom(encoding: str, sample: bytes) -> str:
    """The codec for a file the user says is in ``encoding``, reading past the BOM the file starts with.

    ``--encoding utf-8`` on Excel's "CSV UTF-8" would otherwise keep U+FEFF on the first header,
    and that column (the text or the id) would not be found.

    >>> honour_bom("UTF8", codecs.BOM_UTF8 + b"id"), honour_bom("utf-8", b"id")
    ('utf-8-sig', 'utf-8')
    >>> honour_bom("utf-16-le", codecs.BOM_UTF16_LE + b"i\\x00")
    'utf-16'

    Raises:
        InputFormatError: an encoding Python does not know.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputFormatError(
            f"unknown encoding {encoding!r}; use a Python codec name such as utf-8, cp932 or utf-16"
        ) from None
    if name == "utf-8" and sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if name in ("utf-16-le", "utf-16-be") and sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # reads the BOM and the byte order it gives
    return encoding


def _strict_ok(sample: bytes, encoding: str, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        # final=False: the sample may end in the middle of a multibyte character.
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _bad_bytes(sample: bytes, encoding: str) -> int:
    text = codecs.getincrementaldecoder(encoding)(ESCAPE_ERRORS).decode(sample, final=False)
    return sum(1 for ch in text if "\udc00" <= ch <= "\udcff")


def _reads_as_euc_jp(sample: bytes, complete: bool, tolerance: int) -> bool:
    """True when ``sample`` is EUC-JP (old Unix and CGI systems) rather than CP932 or another charset.

    EUC-JP's byte pairs are often valid CP932 too (as half-width kana), so when both decode, EUC-JP
    must read as more Japanese, with kana among its characters: CP932 half-width kana read as EUC-JP
    give kanji, seldom kana, and stay CP932.

    >>> _reads_as_euc_jp("1,責任者を出せ".encode("euc_jp"), True, 0), _reads_as_euc_jp("ｶﾈｶｴｾ".encode("cp932"), True, 0)
    (True, False)
    """
    if len(sample) - len(sample.translate(None, _NEVER_EUC_JP)) > tolerance:
        return False  # (fast: CP932 and UTF-8 Japanese are full of these bytes)
    bad = _bad_bytes(sample, "euc_jp")
    if bad > tolerance:
        return False
    euc = codecs.getincrementaldecoder("euc_jp")(ESCAPE_ERRORS).decode(sample, final=False)
    if not _strict_ok(sample, "cp932", complete):
        return _japanese_score(euc) > 0 and bad <= _bad_bytes(sample, "cp932")
    cp932 = codecs.getincrementaldecoder("cp932")(ESCAPE_ERRORS).decode(sample, final=False)
    kana = len(_KANA.findall(euc))
    return kana * 5 >= sum(1 for ch in euc if ord(ch) > 0x7F) > 0 and _japanese_score(euc) > _japanese_score(cp932)


def sniff_text_encoding(sample: bytes, *, complete: bool) -> tuple[str, list[str]]:
    """Choose an encoding: BOM, JIS escapes, then UTF-8, EUC-JP, CP932 (each strict or nearly), then
    charset-normalizer.

    Returns the Python codec name and the warnings to record (a guess is always a warning).
    Excel writes CP932 without a BOM, or UTF-8 with one; some exports are UTF-16 with a BOM; old
    Unix systems write EUC-JP or ISO-2022-JP, read as the mail path reads them (CP50220 included).

    >>> sniff_text_encoding(codecs.BOM_UTF16_LE + "a".encode("utf-16-le"), complete=True)
    ('utf-16', [])
    >>> sniff_text_encoding("本文".encode("iso2022_jp"), complete=True)
    ('kasuhara_iso2022jp_lines', [])
    >>> sniff_text_encoding("本文です".encode("euc_jp"), complete=True)
    ('euc_jp', [])
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", []
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", []
    if sample.isascii() and _JIS_SHIFT.search(sample):
        # 7-bit, so it passes as UTF-8 below, escape sequences and all.
        return ISO2022JP_LINES, []
    if _strict_ok(sample, "utf-8", complete):
        # An ASCII start says nothing about the rest of a long file: its lines are decoded one by one, so that a
        # later CP932 row is read as the file's other CP932 rows would be (UTF-8 lines decode as UTF-8).
        return (MIXED if not complete and sample.isascii() else "utf-8"), []
    # A few bad bytes in an otherwise valid file keep the encoding: the rows holding them are
    # reported as errors instead of the whole file being guessed into another charset.
    tolerance = (len(sample) - len(sample.decode("latin-1").encode("ascii", "ignore"))) // 100
    # Before the mixed-line test: an EUC-JP line can be valid UTF-8 by chance, and the others read as CP932.
    # UTF-8 Japanese is never EUC-JP (its continuation bytes 0x80-0xA0 are not EUC-JP).
    if _reads_as_euc_jp(sample, complete, tolerance):
        return "euc_jp", [] if _strict_ok(sample, "euc_jp", complete) else ["undecodable-bytes-in-file:euc_jp"]
    mixed = mixed_lines(sample, complete)
    if mixed == "cp932":
        # UTF-8 rows beside a row pasted from a Shift_JIS system: no single encoding reads both (CP932 would
        # garble every UTF-8 row without an error), so each line is decoded on its own (linecodec).
        return MIXED, ["mixed-encoding:utf-8+cp932"]
    if mixed == "damaged":
        # However few the UTF-8 rows, they are UTF-8: the damaged rows are reported, the file is not re-guessed.
        return "utf-8", ["undecodable-bytes-in-file:utf-8"]
    # UTF-8 goes first because CP932 accepts most byte pairs (even UTF-8 kana) while CP932 text read
    # as UTF-8 fails on nearly every character.
    for enc in ("utf-8", "cp932"):
        if enc != "utf-8" and _strict_ok(sample, enc, complete):  # UTF-8 was tried strictly above
            return enc, []
        if _bad_bytes(sample, enc) <= tolerance:
            return enc, [f"undecodable-bytes-in-file:{enc}"]
    best = from_bytes(sample).best()
    if best is not None:
        return best.encoding, [f"encoding-guessed:{best.encoding}"]
    return "utf-8", ["encoding-unknown:utf-8-with-escapes"]


def decode_whole(raw: bytes) -> tuple[str, list[str]]:
    """A whole file's bytes as text, in the encoding its first :data:`SNIFF_BYTES` say, with the sniff's warnings.

    >>> decode_whole("本文".encode("cp932"))
    ('本文', [])
    """
    encoding, warnings = sniff_text_encoding(raw[:SNIFF_BYTES], complete=len(raw) <= SNIFF_BYTES)
    return raw.decode(encoding, ESCAPE_ERRORS), warnings
