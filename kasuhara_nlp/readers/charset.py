"""The Japanese charset layer: decode mail bytes without losing ①, ㈱, 髙, 﨑 or raw 8-bit headers.

Python's codecs fail on what Japanese mail really contains: Windows mailers label CP932 text
``Shift_JIS`` and put NEC/IBM extension characters inside ``ISO-2022-JP`` (the CP50220
problem), and some labels (``windows-31j``, ``x-sjis``, ``cp50220``) are unknown to Python.
Every fallback taken is appended to ``warnings``, so a report can say a message was damaged.

>>> warnings = []
>>> decode_bytes(b"\\x1b$B-!|b66\\x1b(B", "iso-2022-jp", warnings), warnings
('①髙橋', ['cp50220-fallback'])
>>> decode_bytes("①～".encode("cp932"), "Shift_JIS", [])
'①～'
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from email.header import decode_header

from charset_normalizer import from_bytes

__all__ = [
    "ISO2022JP_MS",
    "codec_for",
    "decode_bytes",
    "decode_header_value",
    "decode_iso2022jp_ms",
    "repair_mojibake",
]

#: Marker codec name for the CP50220-aware decoder (not a Python codec).
ISO2022JP_MS = "iso-2022-jp-ms"

_ALIASES = {
    # Shift_JIS is CP932 in practice: strict shift_jis rejects NEC row 13 (①) and IBM kanji (髙).
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "s-jis", "windows-31j", "ms932", "ms_kanji",
         "cp932", "csshiftjis", "x-ms-cp932", "ibm-943", "shift_jisx0213"), "cp932"),
    **dict.fromkeys(
        ("iso-2022-jp", "iso2022jp", "iso2022_jp", "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-2",
         "iso-2022-jp-3", "iso-2022-jp-2004", "cp50220", "cp50221", "cp50222", "iso-2022-jp-ms",
         "x-iso-2022-jp", "jis", "iso-2022-jp-ext"), ISO2022JP_MS),
    **dict.fromkeys(
        ("euc-jp", "eucjp", "euc_jp", "x-euc-jp", "cp51932", "eucjp-ms", "euc-jp-ms", "ujis",
         "cseucpkdfmtjapanese", "euc-jis-2004"), "euc_jp"),
    **dict.fromkeys(("us-ascii", "ascii", "ansi_x3.4-1968", "646"), "ascii"),
    **dict.fromkeys(("utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
}

_ESCAPES = re.compile(rb"(\x1b\(B|\x1b\(J|\x1b\(H|\x1b\$B|\x1b\$@|\x1b\$\(B|\x1b\$\(Q|\x1b\$\(O|\x1b\(I|\x0e|\x0f)")
_KANJI_ESCAPES = {b"\x1b$B", b"\x1b$@", b"\x1b$(B", b"\x1b$(Q", b"\x1b$(O"}
_KANA_ESCAPES = {b"\x1b(I", b"\x0e"}
_LINE_BREAK = re.compile(rb"(\r?\n)")
# UTF-8 read as Latin-1/CP1252: a lead byte of a 3-byte sequence then continuation bytes.
_MOJIBAKE = re.compile("[ãâäåæçèéï][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")
# CP1252's characters for bytes 0x80-0x9F (other than the five it leaves undefined), back to the byte.
_CP1252_BYTE = {bytes([b]).decode("cp1252"): b for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
# A run of characters that a Latin-1/CP1252 decoder makes of non-ASCII bytes (what a UTF-8 character becomes).
_MOJIBAKE_RUN = re.compile("[\x80-\xff" + "".join(sorted(_CP1252_BYTE)) + "]{2,}")
_JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
_PUA = re.compile("[\ue000-\uf8ff]")
_CARRIER_EMOJI = re.compile("[\ue000-\ue757]")
_HALF_KANA = re.compile("[\uff61-\uff9f]")


def codec_for(label: str | None) -> str | None:
    """The Python codec (or ISO2022JP_MS) for a MIME charset label; None when unknown.

    >>> codec_for("Windows-31J"), codec_for("CP50220"), codec_for("x-euc-jp"), codec_for("x-foo"), codec_for("rot13")
    ('cp932', 'iso-2022-jp-ms', 'euc_jp', None, None)
    """
    if not label:
        return None
    key = label.strip().strip('"').lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        info = codecs.lookup(key)
    except LookupError:
        return None
    # rot13, base64, zlib… are codecs but not text encodings: as a charset label they are as unknown as x-foo.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _jis_pairs_to_cp932(run: bytes) -> str:
    """Decode a JIS X 0208 run (with NEC/IBM extensions) via Shift_JIS arithmetic and CP932."""
    out = bytearray()
    n = len(run) - len(run) % 2
    for i in range(0, n, 2):
        j1, j2 = run[i], run[i + 1]
        if not (0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E):
            out += b"\x81\x45"  # not a JIS pair: a middle dot stands in, and the caller warns
            continue
        s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
        if j1 & 1:
            s2 = j2 + (0x1F if j2 <= 0x5F else 0x20)
        else:
            s2 = j2 + 0x7E
        out += bytes((s1, s2))
    text = out.decode("cp932", "replace")
    if n < len(run):
        text += "\ufffd"
    return text


def _iso2022jp_runs(data: bytes) -> Iterator[tuple[str, bytes]]:
    """ISO-2022-JP data as ``(mode, run)`` pairs, mode ``"ascii"``, ``"kana"`` or ``"kanji"``; empty runs left out.

    The one place the escape sequences are read, for decoding and for finding stray 8-bit text.
    ``ESC ( B``/``ESC ( J``/``ESC ( H`` and SI select ASCII, ``ESC ( I`` and SO half-width kana, the
    ``ESC $`` sequences kanji.  A kanji run ends at the first line break, which comes back as an
    ASCII run of its own, as some mailers forget the closing escape before it.

    >>> list(_iso2022jp_runs(b'a\\x1b$B$"\\nb\\x1b(I1\\x0f'))
    [('ascii', b'a'), ('kanji', b'$"'), ('ascii', b'\\n'), ('ascii', b'b'), ('kana', b'1')]
    """
    parts = _ESCAPES.split(data)  # text, escape, text, …, text
    mode = "ascii"
    for k, part in enumerate(parts):
        if k % 2 == 1:
            mode = "kanji" if part in _KANJI_ESCAPES else "kana" if part in _KANA_ESCAPES else "ascii"
            continue
        if mode == "kanji":
            line, *after = _LINE_BREAK.split(part, maxsplit=1)
            pieces = [("kanji", line)] + [("ascii", piece) for piece in after]
        else:
            pieces = [(mode, part)]
        yield from ((m, run) for m, run in pieces if run)


def decode_iso2022jp_ms(data: bytes, eight_bit: str = "latin-1") -> str:
    """Decode ISO-2022-JP as Windows writes it (CP50220/50221/50222).

    ``ESC $ B``/``ESC $ @`` runs go through CP932 (so ① ㈱ 髙 﨑 survive), ``ESC ( I`` and SO/SI
    select half-width katakana, ``ESC ( J`` is read as ASCII.  A line break ends a run, as some
    mailers forget the closing escape.  8-bit bytes, which ISO-2022-JP never has, are decoded with
    ``eight_bit`` (bad bytes become U+FFFD); :func:`decode_bytes` picks it from the bytes.

    >>> decode_iso2022jp_ms(b"\\x1b$B-j\\x1b(B \\x1b(I6@6E\\x1b(B \\x0e6@\\x0f")
    '㈱ ｶﾀｶﾅ ｶﾀ'
    """
    out: list[str] = []
    for mode, run in _iso2022jp_runs(data):
        if mode == "ascii":
            out.append(run.decode("ascii") if run.isascii() else run.decode(eight_bit, "replace"))
        elif mode == "kana":
            out.append(bytes(b + 0x80 if 0x21 <= b <= 0x5F else b for b in run).decode("cp932", "replace"))
        else:
            out.append(_jis_pairs_to_cp932(run))
    return "".join(out)


def _to_byte(ch: str) -> int | None:
    """The byte a Windows "ANSI" (CP1252) or Latin-1 decoder turned into ``ch``, or None."""
    code = ord(ch)
    if code < 0x100:
        return code  # Latin-1, and CP1252's five undefined bytes kept as C1 controls (0x81, 0x8D, …)
    return _CP1252_BYTE.get(ch)


def _repair_run(run: str) -> str | None:
    """A run of mojibake characters as the UTF-8 text it was, or None when it is not UTF-8."""
    data = bytes(b for b in map(_to_byte, run) if b is not None)
    if len(data) != len(run):
        return None
    try:
        fixed = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return fixed if _JAPANESE.search(fixed) else None


def repair_mojibake(text: str) -> tuple[str, bool]:
    """Undo UTF-8 text that was read as Latin-1/CP1252 (``ã‚ã‚ŠãŒã¨ã†``).

    Each run of non-ASCII characters that map back to bytes (CP1252 where it defines the byte, else the
    Latin-1 code point, which is how Windows keeps 0x81/0x8D/0x8F/0x90/0x9D) is decoded as UTF-8 on its own,
    so mixed text (mojibake beside ASCII or real Japanese) is repaired too.  Nothing changes unless every run
    round-trips to Japanese.

    >>> repair_mojibake("ありがとう".encode("utf-8").decode("latin-1"))
    ('ありがとう', True)
    >>> repair_mojibake("お前ら最悪だ".encode("utf-8").decode("cp1252", "ignore"))[1]
    False
    >>> repair_mojibake("".join(chr(b) if b in (0x81, 0x8d, 0x8f, 0x90, 0x9d) else bytes([b]).decode("cp1252")
    ...                         for b in "お前ら最悪だ".encode("utf-8")))
    ('お前ら最悪だ', True)
    >>> repair_mojibake("café")
    ('café', False)
    """
    if len(_MOJIBAKE.findall(text)) < 2:
        return text, False
    out: list[str] = []
    pos = 0
    for m in _MOJIBAKE_RUN.finditer(text):
        fixed = _repair_run(m.group(0))
        if fixed is None:
            return text, False
        out.append(text[pos : m.start()])
        out.append(fixed)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), True


def _sniff(data: bytes, warnings: list[str]) -> str:
    if b"\x1b$" in data or b"\x1b(" in data:
        return _decode_iso(data, warnings)
    for enc in ("utf-8", "cp932", "euc_jp"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is not None:
        warnings.append(f"charset-guessed:{best.encoding}")
        return str(best)
    text = data.decode("utf-8", "replace")
    warnings.append(f"replacement-chars:{text.count(chr(0xFFFD))}")
    return text


def _ascii_mode_runs(data: bytes) -> list[bytes]:
    """The pieces of ISO-2022-JP data outside kanji/kana runs that hold 8-bit bytes (stray text in another charset).

    >>> _ascii_mode_runs(b'\\x82\\xa0\\x1b$B$"\\n\\x82\\xa2\\x1b(I\\xb1')
    [b'\\x82\\xa0', b'\\x82\\xa2']
    """
    return [run for mode, run in _iso2022jp_runs(data) if mode == "ascii" and not run.isascii()]


def _japanese_score(text: str) -> int:
    """How Japanese a decoding looks: kana and kanji count, half-width kana (EUC-JP read as CP932) against."""
    return len(_JAPANESE.findall(text)) - 2 * len(_HALF_KANA.findall(text))


def _guess_8bit_codec(data: bytes) -> tuple[str, bool]:
    """(codec, decodes cleanly) for 8-bit Japanese bytes that arrived under a 7-bit label.

    UTF-8 that decodes is UTF-8.  CP932 and EUC-JP often both decode the same bytes (EUC-JP kana
    are valid CP932 half-width kana), so the one that reads as more Japanese wins; CP932 on a tie,
    as Windows form CGIs are the usual source.
    """
    try:
        data.decode("utf-8")
        return "utf-8", True
    except UnicodeDecodeError:
        pass
    clean = []
    for codec in ("cp932", "euc_jp"):
        try:
            clean.append((_japanese_score(data.decode(codec)), -len(clean), codec))
        except UnicodeDecodeError:
            continue
    if clean:
        return max(clean)[2], True
    # Nothing decodes cleanly (a cut-off character): the codec losing the fewest characters.
    damage = [(data.decode(c, "replace").count("\ufffd"), i, c) for i, c in enumerate(("cp932", "euc_jp", "utf-8"))]
    return min(damage)[2], False


def _decode_iso_8bit(data: bytes, warnings: list[str]) -> str:
    """ISO-2022-JP data holding 8-bit bytes: the label is wrong for (part of) the body.

    Old web-form CGIs label mail ISO-2022-JP but pass the visitor's Shift_JIS through unconverted,
    sometimes under a template that really is ISO-2022-JP.  Escape-sequence runs are decoded as
    ISO-2022-JP, the 8-bit text with the charset the 8-bit bytes fit.
    """
    codec, clean = _guess_8bit_codec(b"\n".join(_ascii_mode_runs(data)))
    warnings.append("charset-mismatch:iso-2022-jp")
    warnings.append(f"charset-guessed:{codec}")
    text = decode_iso2022jp_ms(data, eight_bit=codec)
    if not clean or "\ufffd" in text:
        warnings.append(f"replacement-chars:{text.count(chr(0xFFFD))}")
    return text


def _decode_iso(data: bytes, warnings: list[str]) -> str:
    if not data.isascii():
        # ISO-2022-JP is a 7-bit encoding: 8-bit bytes are some other charset, never JIS.
        return _decode_iso_8bit(data, warnings)
    try:
        # The stdlib codec is fast and right for plain JIS X 0208 text: try it first.  It passes
        # SO/SI through as control characters, so CP50222 kana shifts skip it.
        if b"\x0e" in data:
            raise UnicodeDecodeError("iso2022_jp", data, 0, 1, "SO/SI kana shift")
        return data.decode("iso2022_jp")
    except UnicodeDecodeError:
        if "cp50220-fallback" not in warnings:
            warnings.append("cp50220-fallback")
        text = decode_iso2022jp_ms(data)
        if "\ufffd" in text:
            warnings.append(f"replacement-chars:{text.count(chr(0xFFFD))}")
        return text


def decode_bytes(data: bytes, charset: str | None, warnings: list[str]) -> str:
    """Decode a body or header chunk labelled ``charset``, never raising, recording fallbacks.

    Unknown or missing labels are sniffed (UTF-8, CP932, EUC-JP, then charset-normalizer); a label
    that does not fit the bytes is tried, then sniffed around.  Mojibake and carrier emoji (private
    use area) are noted too.

    >>> w = []
    >>> decode_bytes("返金".encode("utf-8"), "x-unknown", w), w
    ('返金', ['unknown-charset:x-unknown'])
    """
    codec = codec_for(charset)
    if charset and codec is None:
        warnings.append(f"unknown-charset:{charset.strip().lower()}")
    if codec == ISO2022JP_MS:
        text = _decode_iso(data, warnings)
    elif codec is None:
        text = _sniff(data, warnings)
    else:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            warnings.append(f"charset-mismatch:{codec}")
            text = _sniff(data, warnings)
    if _MOJIBAKE.search(text):
        text, fixed = repair_mojibake(text)
        if fixed:
            warnings.append("mojibake-repaired")
        elif len(_MOJIBAKE.findall(text)) >= 2:
            # Looks like UTF-8 read as Latin-1/CP1252 but does not round-trip: the scorer sees garbage, say so.
            warnings.append("mojibake-suspected")
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 BOM at the start of a body is an encoding mark, not text
    if _PUA.search(text):
        warnings.append(f"private-use-chars:{len(_PUA.findall(text))}")
        # CP932's user-defined area (0xF040-0xF9FC) decodes to U+E000-U+E757: carrier emoji (docomo, au,
        # SoftBank).  They stand as 〓, the mark Japanese phones show for a character they cannot display.
        text = _CARRIER_EMOJI.sub("〓", text)
    return text


def decode_header_value(value: str | None, warnings: list[str]) -> str:
    """Decode a raw header (compat32 str) with RFC 2047 words and/or raw 8-bit bytes.

    8-bit bytes arrive as surrogate escapes (how ``email`` keeps undecodable header bytes); they are
    turned back into bytes and sniffed, so a CP932 subject from an old web form survives.

    >>> raw = "件名".encode("cp932").decode("ascii", "surrogateescape")
    >>> decode_header_value(raw, [])
    '件名'
    >>> decode_header_value("=?ISO-2022-JP?B?GyRCLSFKVjZiGyhC?=", [])
    '①返金'
    """
    if not value:
        return ""
    value = str(value)
    if not value.isascii():
        try:
            raw = value.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            raw = None  # already real Unicode (policy.default or a str source)
        if raw is not None:
            value = _sniff(raw, warnings)
            warnings.append("raw-8bit-header")
    if "=?" not in value:
        return value
    try:
        pieces = decode_header(value)
    except Exception:  # noqa: BLE001 - a malformed header must not stop a mailbox
        warnings.append("malformed-encoded-word")
        return value
    out = []
    for chunk, label in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, label, warnings))
    # decode_header drops the spaces between an encoded word and plain text; keep them readable.
    joined = ""
    for i, (part, (_c, label)) in enumerate(zip(out, pieces)):
        if i and (label is None) != (pieces[i - 1][1] is None) and not joined.endswith(" ") and not part.startswith(" "):
            joined += " "
        joined += part
    return joined
