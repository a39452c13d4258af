"""The Japanese charset layer: each pitfall of inputs.md section 1.2, table-driven."""

from __future__ import annotations

import pytest

from kasuhara_nlp.readers.charset import (
    codec_for,
    decode_bytes,
    decode_header_value,
    decode_iso2022jp_ms,
    repair_mojibake,
)
from tests.mailfactory import cp50220, encoded_word

# Text with NEC row 13 (①, ㈱, №), IBM extensions (髙, 﨑), and the wave-dash pair.
HARD_TEXT = "①至急㈱髙﨑№～返金しろ"

# (case id, bytes, declared label, expected text, a warning that must be present or None)
DECODE_CASES = (
    ("iso2022jp_ms_extensions", cp50220(HARD_TEXT), "ISO-2022-JP", HARD_TEXT, "cp50220-fallback"),
    ("iso2022jp_plain_uses_stdlib", cp50220("返金しろ"), "iso-2022-jp", "返金しろ", None),
    ("cp50220_label", cp50220("①髙橋"), "cp50220", "①髙橋", "cp50220-fallback"),
    ("cp50221_label", cp50220("㈱"), "CP50221", "㈱", "cp50220-fallback"),
    ("iso2022jp_ms_label", cp50220("﨑"), "iso-2022-jp-ms", "﨑", "cp50220-fallback"),
    ("half_width_kana_esc_I", b"\x1b(I6@6E\x1b(B", "iso-2022-jp", "ｶﾀｶﾅ", None),
    ("half_width_kana_so_si", b"\x0e6@\x0f!", "cp50222", "ｶﾀ!", None),
    ("shift_jis_is_cp932", HARD_TEXT.encode("cp932"), "Shift_JIS", HARD_TEXT, None),
    ("windows_31j", HARD_TEXT.encode("cp932"), "windows-31j", HARD_TEXT, None),
    ("x_sjis", HARD_TEXT.encode("cp932"), "x-sjis", HARD_TEXT, None),
    ("ms932", HARD_TEXT.encode("cp932"), "MS932", HARD_TEXT, None),
    ("euc_jp", "返金しろ".encode("euc_jp"), "x-euc-jp", "返金しろ", None),
    ("cp51932", "返金しろ".encode("euc_jp"), "cp51932", "返金しろ", None),
    ("unknown_label_sniffed", "返金しろ".encode("cp932"), "x-unknown", "返金しろ", "unknown-charset:x-unknown"),
    ("no_label_utf8", "返金しろ".encode("utf-8"), None, "返金しろ", None),
    ("ascii_label_on_utf8", "返金しろ".encode("utf-8"), "us-ascii", "返金しろ", "charset-mismatch:ascii"),
    ("utf8_label_on_cp932", "返金しろ".encode("cp932"), "utf-8", "返金しろ", "charset-mismatch:utf-8"),
    # Carrier emoji (CP932 user-defined area) stand as 〓, with the warning kept.
    ("carrier_emoji_pua", b"\xf8\x9f", "shift_jis", "〓", "private-use-chars:1"),
    # ISO-2022-JP is 7-bit: 8-bit bytes under that label are another charset (old form CGIs).
    ("iso2022jp_label_on_cp932", HARD_TEXT.encode("cp932"), "ISO-2022-JP", HARD_TEXT, "charset-guessed:cp932"),
    ("iso2022jp_label_on_utf8", HARD_TEXT.encode("utf-8"), "iso-2022-jp", HARD_TEXT, "charset-guessed:utf-8"),
    ("iso2022jp_label_on_euc_jp", "ふざけるな、返金しろ".encode("euc_jp"), "ISO-2022-JP", "ふざけるな、返金しろ",
     "charset-guessed:euc_jp"),
    ("iso2022jp_with_8bit_cp932_line", cp50220("お名前：山田\n") + "①返金しろ\n".encode("cp932"), "ISO-2022-JP",
     "お名前：山田\n①返金しろ\n", "charset-guessed:cp932"),
    # The kanji run's closing escape is missing: the 8-bit line after the break still decides the charset.
    ("iso2022jp_8bit_line_after_unclosed_kanji_run",
     cp50220("お名前：山田")[:-3] + b"\n" + "①返金しろ\n".encode("cp932"), "ISO-2022-JP",
     "お名前：山田\n①返金しろ\n", "charset-guessed:cp932"),
    (
        "mojibake_repaired",
        "ありがとう".encode("utf-8").decode("latin-1").encode("utf-8"),
        "utf-8",
        "ありがとう",
        "mojibake-repaired",
    ),
)


@pytest.mark.parametrize(
    "data,label,expected,warning", [c[1:] for c in DECODE_CASES], ids=[c[0] for c in DECODE_CASES]
)
def test_decode_bytes(data: bytes, label: str | None, expected: str, warning: str | None) -> None:
    warnings: list[str] = []
    assert decode_bytes(data, label, warnings) == expected
    if warning:
        assert warning in warnings


def test_stdlib_really_fails_on_ms_extensions() -> None:
    # The reason the custom decoder exists; if this ever passes, the fallback is still harmless.
    with pytest.raises(UnicodeDecodeError):
        cp50220("①").decode("iso2022_jp")
    assert decode_iso2022jp_ms(cp50220(HARD_TEXT)) == HARD_TEXT


def test_missing_closing_escape_before_newline() -> None:
    data = cp50220("返金")[:-3] + b"\nok"
    assert decode_iso2022jp_ms(data) == "返金\nok"


# (case id, ISO-2022-JP bytes, decoded text): each escape sequence the decoder knows, and the ones it must leave
# alone.  The bytes after an escape read differently as ASCII, kana and kanji ('$"' is あ, ､｢ or '$"'; '6@' is
# ｶﾀ, 6@ or a kanji), so a case fails if its escape selects the wrong mode.
ESCAPE_CASES = (
    ("esc_dollar_at_jis_c_6226_kanji", b'\x1b$@$"\x1b(B', "あ"),
    ("esc_dollar_paren_b_kanji", b'\x1b$(B$"\x1b(B', "あ"),
    ("esc_dollar_paren_q_jis_x_0213_kanji", b'\x1b$(Q$"\x1b(B', "あ"),
    ("esc_dollar_paren_o_jis_x_0213_kanji", b'\x1b$(O$"\x1b(B', "あ"),
    ("esc_paren_b_back_to_ascii", b'\x1b$B$"\x1b(B6@', "あ6@"),
    ("esc_paren_j_roman_read_as_ascii", b'\x1b$B$"\x1b(J6@', "あ6@"),
    ("esc_paren_h_read_as_ascii", b'\x1b$B$"\x1b(H6@', "あ6@"),
    ("si_ends_so_kana", b"\x0e6@\x0f6@", "ｶﾀ6@"),
    ("esc_paren_i_kana_after_kanji", b'\x1b$B$"\x1b(I6@\x1b(B', "あｶﾀ"),
    ("crlf_ends_unclosed_kanji_run", b'\x1b$B$"\r\n6@', "あ\r\n6@"),
    ("unknown_escape_left_as_text", b"6@\x1b$A6@", "6@\x1b$A6@"),
    ("truncated_escape_left_as_text", b"\x1b$6@", "\x1b$6@"),
    ("esc_at_end_of_input", b"6@\x1b", "6@\x1b"),
    ("empty_input", b"", ""),
)


@pytest.mark.parametrize("data,expected", [c[1:] for c in ESCAPE_CASES], ids=[c[0] for c in ESCAPE_CASES])
def test_decode_iso2022jp_ms_escapes(data: bytes, expected: str) -> None:
    assert decode_iso2022jp_ms(data) == expected


# (label, codec)
ALIAS_CASES = (
    ("shift_jis", "cp932"), ("SJIS", "cp932"), ("x-sjis", "cp932"), ("Windows-31J", "cp932"),
    ("ms_kanji", "cp932"), ("iso-2022-jp", "iso-2022-jp-ms"), ("csISO2022JP", "iso-2022-jp-ms"),
    ("cp50220", "iso-2022-jp-ms"), ("cp50222", "iso-2022-jp-ms"), ("euc-jp", "euc_jp"),
    ("eucjp-ms", "euc_jp"), ("utf-8", "utf-8"), ("latin1", "iso8859-1"), ("x-nonsense", None),
)


@pytest.mark.parametrize("label,codec", ALIAS_CASES)
def test_codec_for(label: str, codec: str | None) -> None:
    assert codec_for(label) == codec


# (case id, raw header as the email package hands it over (compat32 str), expected)
HEADER_CASES = (
    ("iso2022jp_ms_word", encoded_word("①返金", "ISO-2022-JP"), "①返金"),
    ("shift_jis_word", encoded_word("髙橋", "Shift_JIS"), "髙橋"),
    ("windows_31j_word", encoded_word("髙橋", "windows-31j"), "髙橋"),
    ("utf8_split_word", "=?UTF-8?B?6L+U?= =?UTF-8?B?6YeR?=", "返金"),
    ("raw_8bit_cp932", "件名テスト".encode("cp932").decode("ascii", "surrogateescape"), "件名テスト"),
    ("raw_8bit_utf8", "件名テスト".encode("utf-8").decode("ascii", "surrogateescape"), "件名テスト"),
    ("mixed_plain_and_word", "Re: " + encoded_word("返品", "UTF-8"), "Re: 返品"),
    ("plain_ascii", "Hello", "Hello"),
)


@pytest.mark.parametrize("raw,expected", [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES])
def test_decode_header_value(raw: str, expected: str) -> None:
    assert decode_header_value(raw, []) == expected


def test_raw_header_warning() -> None:
    warnings: list[str] = []
    decode_header_value("件名".encode("cp932").decode("ascii", "surrogateescape"), warnings)
    assert "raw-8bit-header" in warnings


def test_mojibake_left_alone_when_not_japanese() -> None:
    assert repair_mojibake("déjà vu") == ("déjà vu", False)


# (case id, bytes labelled ISO-2022-JP): warnings must name the wrong label, never the CP50220 fallback,
# which means something else (① inside a real ISO-2022-JP run).
EIGHT_BIT_ISO_CASES = (
    ("cp932", "ふざけるな。殺すぞ".encode("cp932")),
    ("utf8", "ふざけるな。殺すぞ".encode("utf-8")),
    ("mixed_escapes_and_cp932", cp50220("件名：返品\n") + "殺すぞ".encode("cp932")),
)


@pytest.mark.parametrize("data", [c[1] for c in EIGHT_BIT_ISO_CASES], ids=[c[0] for c in EIGHT_BIT_ISO_CASES])
def test_8bit_bytes_under_iso2022jp_label_are_reported(data: bytes) -> None:
    warnings: list[str] = []
    text = decode_bytes(data, "ISO-2022-JP", warnings)
    assert "殺すぞ" in text
    assert "charset-mismatch:iso-2022-jp" in warnings and "cp50220-fallback" not in warnings


def test_8bit_garbage_under_iso2022jp_label_counts_replacements() -> None:
    warnings: list[str] = []
    text = decode_bytes("返金しろ".encode("cp932") + b"\x82", "ISO-2022-JP", warnings)
    assert text.startswith("返金しろ")
    assert "charset-mismatch:iso-2022-jp" in warnings
    assert any(w.startswith("replacement-chars:") for w in warnings)


def _windows_ansi(text: str) -> str:
    """UTF-8 text read the way Windows reads "ANSI": CP1252, its five undefined bytes kept as C1 controls."""
    return "".join(chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252")
                   for b in text.encode("utf-8"))


THREAT = "お前らの対応は最悪だ。今すぐ店長が家まで来て土下座しろ。来なければ店に火をつけてやる。"

# (case id, mojibake text in a UTF-8 body, expected decoded text, warning)
MOJIBAKE_CASES = (
    ("cp1252_with_c1_controls", _windows_ansi(THREAT), THREAT, "mojibake-repaired"),
    ("latin1", THREAT.encode("utf-8").decode("latin-1"), THREAT, "mojibake-repaired"),
    ("mixed_with_ascii", "Order 12: " + _windows_ansi("返金しろ") + " (at once)", "Order 12: 返金しろ (at once)",
     "mojibake-repaired"),
)


@pytest.mark.parametrize("text,expected,warning", [c[1:] for c in MOJIBAKE_CASES], ids=[c[0] for c in MOJIBAKE_CASES])
def test_mojibake_in_the_source_is_repaired(text: str, expected: str, warning: str) -> None:
    warnings: list[str] = []
    assert decode_bytes(text.encode("utf-8"), "utf-8", warnings) == expected
    assert warning in warnings


def test_mojibake_that_does_not_round_trip_is_reported() -> None:
    # A byte lost on the way (0x81 dropped): the repair cannot round-trip, the scorer sees garbage: say so.
    broken = _windows_ansi(THREAT).replace("\x81", "")
    warnings: list[str] = []
    assert decode_bytes(broken.encode("utf-8"), "utf-8", warnings) == broken
    assert "mojibake-suspected" in warnings


def test_utf8_bom_dropped_from_decoded_text() -> None:
    assert decode_bytes(b"\xef\xbb\xbf" + "返金しろ".encode(), "utf-8", []) == "返金しろ"
