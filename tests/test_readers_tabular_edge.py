"""Tabular edge cases found by fuzzing: real file bytes in real encodings, read through ``read_records``.

Every case checks the record count, statuses and text, and that no record id holds words of a message body.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kasuhara_nlp.readers import read_records
from kasuhara_nlp.records import MessageRecord


def _read(path: Path) -> list[MessageRecord]:
    return list(read_records([str(path)]))


def _assert_ids_hold_no_text(recs: list[MessageRecord], words: tuple[str, ...]) -> None:
    for rec in recs:
        for word in words:
            assert word not in rec.record_id and word not in (rec.message_id or ""), (rec.record_id, word)


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# -- Finding 5: duplicate header names -----------------------------------------------------------
# (case id, file name, file bytes, expected (record_id, status, body_text), the duplicated header)
DUPLICATE_HEADER_CASES = (
    ("utf8_text_column_twice", "a.csv", "id,本文,本文\n1,土下座しろ,\n2,殺すぞ,追記\n".encode(),
     (("1", "ok", "土下座しろ"), ("2", "ok", "殺すぞ")), "本文"),
    ("cp932_crlf", "a.csv", _crlf("id,本文,本文\n1,土下座しろ,\n2,殺すぞ,追記\n").encode("cp932"),
     (("1", "ok", "土下座しろ"), ("2", "ok", "殺すぞ")), "本文"),
    ("utf16_tsv_id_twice", "a.tsv", "id\tid\t本文\r\n1\tx\t返金しろ\r\n".encode("utf-16"),
     (("1", "ok", "返金しろ"),), "id"),
)


@pytest.mark.parametrize(
    "name,data,expected,duplicate", [c[1:] for c in DUPLICATE_HEADER_CASES],
    ids=[c[0] for c in DUPLICATE_HEADER_CASES],
)
def test_duplicate_header_uses_the_first_column_and_says_so(
    tmp_path: Path, name: str, data: bytes, expected: tuple, duplicate: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    recs = _read(path)
    assert [(r.record_id, r.status, r.body_text) for r in recs] == list(expected)
    for rec in recs:
        assert any("duplicate" in w and duplicate in w for w in rec.decode_warnings), rec.decode_warnings
    # A later cell of the same name that holds text is not read: that row says so on its own.
    if name == "a.csv":
        assert any("追記" not in w and "not-read" in w for w in recs[1].decode_warnings)
        assert not any("not-read" in w for w in recs[0].decode_warnings)
    _assert_ids_hold_no_text(recs, ("土下座", "殺すぞ", "追記", "返金"))


# -- Finding 8: lines of a broken message are not rows of their own ---------------------------------
BROKEN = '1,"先日の件です。担当に"至急"と言われた\n電話は090-1234-5678,山田まで\n以上"\n2,次の件\n'
# (case id, file bytes, expected (source_locator, status, record_id), lines the error must name)
BROKEN_ROW_CASES = (
    ("utf8_lf", ("id,本文\n" + BROKEN).encode(),
     (("line 2", "error", "a.csv:2"), ("line 5", "ok", "2")), "lines 2-4"),
    ("cp932_crlf", _crlf("id,本文\n" + BROKEN).encode("cp932"),
     (("line 2", "error", "a.csv:2"), ("line 5", "ok", "2")), "lines 2-4"),
    ("two_fragments_then_rows", (
        'id,本文\n1,"お客様が"返金"と\n住所は東京都港区1-2-3,090-1111-2222\n電話,まだ\n最後"\n2,二\n3,三\n').encode(),
     (("line 2", "error", "a.csv:2"), ("line 6", "ok", "2"), ("line 7", "ok", "3")), "lines 2-5"),
    ("even_quotes_in_the_broken_row", ('id,本文\n1,"お客様"至急"と"言われた\n電話は090-1234-5678,山田まで\n以上\n'
                                       '2,次の件\n').encode(),
     (("line 2", "error", "a.csv:2"), ("line 5", "ok", "2")), "lines 2-4"),
    ("ascii_ids_then_a_japanese_fragment", ('id,本文\n7,一\n8,"a"b\n山田です,よろしく\n9,九\n').encode(),
     (("line 2", "ok", "7"), ("line 3", "error", "a.csv:3"), ("line 5", "ok", "9")), "lines 3-4"),
    ("runaway_then_fragment", (
        'id,本文\nA-1,"閉じない\n山田です,よろしく\n"x"y\nA-2,二\n').encode(),
     (("line 2", "error", "a.csv:2"), ("line 4", "error", "a.csv:4"), ("line 5", "ok", "A-2")), "lines 2-3"),
)


@pytest.mark.parametrize(
    "data,expected,span", [c[1:] for c in BROKEN_ROW_CASES], ids=[c[0] for c in BROKEN_ROW_CASES]
)
def test_lines_of_a_broken_message_are_reported_not_read_as_rows(
    tmp_path: Path, data: bytes, expected: tuple, span: str
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    recs = _read(path)
    assert [(r.source_locator, r.status, r.record_id) for r in recs] == list(expected)
    (error,) = [r for r in recs if r.status == "error" and span in (r.reason or "")]
    assert str(path) in error.reason
    _assert_ids_hold_no_text(recs, ("電話", "090", "山田", "住所", "以上", "最後", "よろしく"))
    for rec in recs:
        assert "090" not in (rec.reason or "") and "山田" not in (rec.reason or "")  # never cell contents


# -- Finding 15: an empty or header-only table is accounted for -----------------------------------
# (case id, file name, file bytes, what the reason says)
EMPTY_TABLE_CASES = (
    ("empty_csv", "a.csv", b"", "empty"),
    ("empty_tsv", "a.tsv", b"", "empty"),
    ("blank_lines_only", "a.csv", b"\r\n\r\n", "empty"),
    ("utf8_bom_only", "a.csv", codecs.BOM_UTF8, "empty"),
    ("header_only", "a.csv", "id,本文\r\n".encode(), "no rows"),
    ("header_only_cp932", "a.csv", "id,本文\r\n\r\n".encode("cp932"), "no rows"),
    ("header_only_utf16_tsv", "a.tsv", "id\t本文\r\n".encode("utf-16"), "no rows"),
)


@pytest.mark.parametrize(
    "name,data,says", [c[1:] for c in EMPTY_TABLE_CASES], ids=[c[0] for c in EMPTY_TABLE_CASES]
)
def test_an_empty_or_header_only_table_gives_one_skipped_record(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    (rec,) = _read(path)
    assert rec.status == "skipped" and rec.source_locator == "file"
    assert str(path) in rec.reason and says in rec.reason


# -- Findings 6 and 7: EUC-JP and ISO-2022-JP (JIS) tables and transcripts -------------------------
_ROWS = "1,責任者を出せ。返金しろ\n2,誠意を見せろ\n"
_EXPECTED = (("1", "ok", "責任者を出せ。返金しろ"), ("2", "ok", "誠意を見せろ"))
# (case id, file name, file bytes, expected (record_id, status, body_text))
JAPANESE_ENCODING_CASES = (
    ("eucjp_ascii_header", "a.csv", ("id,text\n" + _ROWS).encode("euc_jp"), _EXPECTED),
    ("eucjp_japanese_header", "a.csv", ("id,本文\n" + _ROWS).encode("euc_jp"), _EXPECTED),
    ("eucjp_crlf_tsv", "a.tsv", _crlf("id,本文\n" + _ROWS).replace(",", "\t").encode("euc_jp"), _EXPECTED),
    ("iso2022jp_ascii_header", "a.csv", ("id,text\n" + _ROWS).encode("iso2022_jp"), _EXPECTED),
    ("iso2022jp_japanese_header", "a.csv", _crlf("id,本文\n" + _ROWS).encode("iso2022_jp"), _EXPECTED),
    # CP50220: NEC and IBM extension characters that Python's iso2022_jp codec rejects.
    ("cp50220_extensions", "a.csv",
     b"id,text\n1,\x1b$B-!|b66\x1b(B\x1b$B$KJV6b$7$m\x1b(B\n",
     (("1", "ok", "①髙橋に返金しろ"),)),
    # Regressions: CP932 that EUC-JP also decodes (half-width kana) stays CP932.
    ("cp932_half_width_kana_only", "a.csv", _crlf("id,本文\n1,ｶﾈｶｴｾ\n2,ﾊﾞｶﾔﾛｳ\n").encode("cp932"),
     (("1", "ok", "ｶﾈｶｴｾ"), ("2", "ok", "ﾊﾞｶﾔﾛｳ"))),
    ("cp932_plain", "a.csv", _crlf("id,本文\n" + _ROWS).encode("cp932"), _EXPECTED),
)


@pytest.mark.parametrize(
    "name,data,expected", [c[1:] for c in JAPANESE_ENCODING_CASES], ids=[c[0] for c in JAPANESE_ENCODING_CASES]
)
def test_eucjp_and_iso2022jp_tables_are_decoded(tmp_path: Path, name: str, data: bytes, expected: tuple) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    recs = _read(path)
    assert [(r.record_id, r.status, r.body_text) for r in recs] == list(expected)
    assert not any("guessed" in w for r in recs for w in r.decode_warnings)
    _assert_ids_hold_no_text(recs, ("責任", "誠意", "返金"))


_TRANSCRIPT = "[10:15] お客様：責任者を出せ\n[10:16] オペレーター：確認します\n"
TRANSCRIPT_ENCODING_CASES = (
    ("eucjp", _TRANSCRIPT.encode("euc_jp")),
    ("iso2022jp", _TRANSCRIPT.encode("iso2022_jp")),
    ("iso2022jp_crlf", _crlf(_TRANSCRIPT).encode("iso2022_jp")),
)


@pytest.mark.parametrize(
    "data", [c[1] for c in TRANSCRIPT_ENCODING_CASES], ids=[c[0] for c in TRANSCRIPT_ENCODING_CASES]
)
def test_eucjp_and_iso2022jp_transcripts_are_decoded(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(data)
    recs = _read(path)
    assert [(r.author_role, r.status, r.body_text.strip()) for r in recs] == [
        ("customer", "ok", "責任者を出せ"), ("agent", "not_scored", "確認します")]
    _assert_ids_hold_no_text(recs, ("責任", "確認"))


# -- Finding 10 (CSV): a repeated header row, a stray BOM at a row start ---------------------------
# (case id, file bytes, expected (source_locator, status, record_id, body_text))
REPEATED_HEADER_CASES = (
    ("joined_with_bom", "id,本文\n1,いち\n".encode() + codecs.BOM_UTF8 + "id,本文\n2,に\n".encode(),
     (("line 2", "ok", "1", "いち"), ("line 3", "skipped", "a.csv:3", ""), ("line 4", "ok", "2", "に"))),
    ("joined_without_bom", _crlf("id,本文\n1,いち\nid,本文\n2,に\n").encode("cp932"),
     (("line 2", "ok", "1", "いち"), ("line 3", "skipped", "a.csv:3", ""), ("line 4", "ok", "2", "に"))),
    ("bom_at_a_row_start", "id,本文\n1,いち\n".encode() + codecs.BOM_UTF8 + "2,に\n".encode(),
     (("line 2", "ok", "1", "いち"), ("line 3", "ok", "2", "に"))),
    ("bom_before_the_text_column", "本文,id\nいち,1\n".encode() + codecs.BOM_UTF8 + "に,2\n".encode(),
     (("line 2", "ok", "1", "いち"), ("line 3", "ok", "2", "に"))),
    ("bom_before_a_quoted_cell", "本文,id\nいち,1\n".encode() + codecs.BOM_UTF8 + '"に\nさん",2\n'.encode(),
     (("line 2", "ok", "1", "いち"), ("line 3", "ok", "2", "に\nさん"))),
)


@pytest.mark.parametrize(
    "data,expected", [c[1:] for c in REPEATED_HEADER_CASES], ids=[c[0] for c in REPEATED_HEADER_CASES]
)
def test_a_repeated_header_row_and_a_stray_bom_are_not_messages(tmp_path: Path, data: bytes, expected: tuple) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    recs = _read(path)
    assert [(r.source_locator, r.status, r.record_id, r.body_text) for r in recs] == list(expected)
    for rec in recs:
        assert "\ufeff" not in rec.record_id + rec.body_text
        if rec.status == "skipped":
            assert "header" in rec.reason and str(path) in rec.reason
    if expected[1][1] == "ok":  # a stray BOM that was removed is noted on its row
        assert any("bom" in w for w in recs[1].decode_warnings)
        assert not any("bom" in w for w in recs[0].decode_warnings)
    _assert_ids_hold_no_text(recs, ("いち", "に", "さん", "本文"))


# -- Finding 9: a cell whose inner line starts like the next row -----------------------------------
# (case id, file bytes, expected (record_id, body_text), whether record 1 warns)
MERGED_ROW_CASES = (
    ("next_id_inside_cell", '本文,id\n"返金しろ\n2,ふざけるな",1\nまだか,3\n'.encode(), None, False),
    ("two_quotes_merge", 'id,本文\n1,"返金しろ\n2,ふざけるな"\n3,まだか\n'.encode(),
     (("1", "返金しろ\n2,ふざけるな"), ("3", "まだか")), True),
    ("two_quotes_merge_cp932_crlf", _crlf('id,本文\n1,"返金しろ\n2,ふざけるな"\n3,まだか\n').encode("cp932"),
     (("1", "返金しろ\r\n2,ふざけるな"), ("3", "まだか")), True),
    ("ticket_ids", 'id,本文\nT-01,"返金しろ\nT-02,ふざけるな"\nT-03,まだか\n'.encode(),
     (("T-01", "返金しろ\nT-02,ふざけるな"), ("T-03", "まだか")), True),
    ("ordinary_multiline_cell", 'id,本文\n1,"返金しろ\n2回目の連絡です"\n3,まだか\n'.encode(),
     (("1", "返金しろ\n2回目の連絡です"), ("3", "まだか")), False),
)


@pytest.mark.parametrize(
    "data,expected,warns", [c[1:] for c in MERGED_ROW_CASES], ids=[c[0] for c in MERGED_ROW_CASES]
)
def test_a_cell_line_that_starts_like_the_next_row_is_warned(
    tmp_path: Path, data: bytes, expected: tuple | None, warns: bool
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    recs = _read(path)
    if expected is not None:
        assert [(r.record_id, r.body_text) for r in recs] == list(expected)
    assert all(r.status == "ok" for r in recs)
    assert any("looks-like-a-row" in w for w in recs[0].decode_warnings) == warns, recs[0].decode_warnings
    assert not any("looks-like-a-row" in w for w in recs[-1].decode_warnings)
    _assert_ids_hold_no_text(recs, ("返金", "ふざけるな", "まだか"))


# -- Finding 11: Excel's "Unicode テキスト" with one column ------------------------------------------
# (case id, file bytes)
ONE_COLUMN_CASES = (
    ("utf16le_bom", codecs.BOM_UTF16_LE + "本文\r\n返金しろ\r\n土下座しろ\r\n殺すぞ\r\n".encode("utf-16-le")),
    ("utf16be_bom", codecs.BOM_UTF16_BE + "本文\r\n返金しろ\r\n土下座しろ\r\n殺すぞ\r\n".encode("utf-16-be")),
    ("utf16_quoted_multiline", "text\r\n返金しろ\r\n\"土下座しろ\r\n今すぐ\"\r\n殺すぞ\r\n".encode("utf-16")),
)


@pytest.mark.parametrize("data", [c[1] for c in ONE_COLUMN_CASES], ids=[c[0] for c in ONE_COLUMN_CASES])
def test_a_one_column_utf16_table_is_read_as_a_table(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "unicode_text.txt"
    path.write_bytes(data)
    recs = _read(path)
    assert [r.status for r in recs] == ["ok", "ok", "ok"]
    assert [r.body_text for r in recs][0::2] == ["返金しろ", "殺すぞ"]
    assert recs[1].body_text.startswith("土下座しろ")
    assert {r.source_format for r in recs} == {"tsv"}
    _assert_ids_hold_no_text(recs, ("返金", "土下座", "殺すぞ", "本文"))


def test_a_one_line_utf8_text_is_still_one_message(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_bytes("本文\n返金しろ\n".encode())
    (rec,) = _read(path)
    assert (rec.source_format, rec.body_text) == ("text", "本文\n返金しろ\n")


# -- Finding 12: delimiters other than the one expected -------------------------------------------
# (case id, file name, file bytes, expected (record_id, status, body_text) or None, what an error says)
DELIMITER_CASES = (
    ("utf16_commas", "a.csv", codecs.BOM_UTF16_LE + "id,本文\r\n1,返金しろ\r\n2,土下座しろ\r\n".encode("utf-16-le"),
     (("1", "ok", "返金しろ"), ("2", "ok", "土下座しろ")), ""),
    ("semicolons", "a.csv", "id;本文\n1;返金しろ\n2;土下座しろ\n".encode(),
     (("1", "ok", "返金しろ"), ("2", "ok", "土下座しろ")), ""),
    ("utf16_semicolons", "a.csv", "id;本文\r\n1;返金しろ\r\n2;土下座しろ\r\n".encode("utf-16"),
     (("1", "ok", "返金しろ"), ("2", "ok", "土下座しろ")), ""),
    ("pipes", "a.csv", "id|本文\n1|返金しろ\n".encode(), None, "'|'"),
    ("utf16_tsv_unchanged", "a.csv", "id\t本文\r\n1\t返金しろ,です\r\n".encode("utf-16"),
     (("1", "ok", "返金しろ,です"),), ""),
)


@pytest.mark.parametrize(
    "name,data,expected,says", [c[1:] for c in DELIMITER_CASES], ids=[c[0] for c in DELIMITER_CASES]
)
def test_delimiters_are_sniffed_or_named(
    tmp_path: Path, name: str, data: bytes, expected: tuple | None, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    recs = _read(path)
    if expected is not None:
        assert [(r.record_id, r.status, r.body_text) for r in recs] == list(expected)
    else:
        (rec,) = recs
        assert rec.status == "error" and "delimit" in rec.reason and says in rec.reason
    _assert_ids_hold_no_text(recs, ("返金", "土下座"))


# -- Finding 16: CP932 after the first SNIFF_BYTES of ASCII ----------------------------------------
@pytest.mark.parametrize("late", ["cp932", "utf-8"])
def test_japanese_rows_after_a_long_ascii_start_are_decoded(tmp_path: Path, late: str) -> None:
    from kasuhara_nlp.readers.streams import SNIFF_BYTES

    rows = [f"{i},order {i} has not arrived yet; please check the tracking number" for i in range(1, 6001)]
    head = ("id,text\r\n" + "".join(r + "\r\n" for r in rows)).encode()
    assert len(head) > SNIFF_BYTES
    path = tmp_path / "a.csv"
    path.write_bytes(head + "6001,返金しろ。①髙\r\n".encode(late))
    recs = _read(path)
    assert len(recs) == 6001 and all(r.status == "ok" for r in recs)
    assert recs[-1].body_text == "返金しろ。①髙" and recs[-1].record_id == "6001"
    assert recs[0].body_text == rows[0].split(",", 1)[1]
