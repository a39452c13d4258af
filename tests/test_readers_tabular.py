"""Tabular readers: CSV in the encodings Japanese tools write, JSONL, JSON arrays, presets, bad rows."""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from pathlib import Path

import pytest

from kasuhara_nlp.errors import InputFormatError
from kasuhara_nlp.readers import read_records
from kasuhara_nlp.records import MessageRecord

ROWS = (("1", "返金しろ。①㈱髙﨑～"), ("2", "まだですか"))

# (case id, file name, encoder of the whole CSV text)
ENCODING_CASES = (
    ("utf8", "a.csv", lambda s: s.encode("utf-8")),
    ("utf8_bom", "a.csv", lambda s: codecs.BOM_UTF8 + s.encode("utf-8")),
    ("cp932_excel", "a.csv", lambda s: s.replace("\n", "\r\n").encode("cp932")),
    ("utf16_tsv", "a.tsv", lambda s: s.replace(",", "\t").encode("utf-16")),
    ("utf16_tsv_as_txt_csv", "a.csv", lambda s: s.replace(",", "\t").encode("utf-16")),
)


def _csv_text(header: str = "id,本文", rows=ROWS) -> str:
    return header + "\n" + "".join(f"{i},{t}\n" for i, t in rows)


@pytest.mark.parametrize(
    "name,encode", [c[1:] for c in ENCODING_CASES], ids=[c[0] for c in ENCODING_CASES]
)
def test_csv_encodings(tmp_path: Path, name: str, encode) -> None:
    path = tmp_path / name
    path.write_bytes(encode(_csv_text()))
    recs = list(read_records([str(path)]))
    assert [(r.record_id, r.body_text) for r in recs] == list(ROWS)
    assert all(r.status == "ok" for r in recs)
    assert recs[0].source_locator == "line 2"


# (case id, header): text/id columns found without options
HEADER_CASES = (
    ("text", "id,text"),
    ("body", "ID,Body"),
    ("message", "id,message"),
    ("honbun", "問い合わせID,本文"),
    ("naiyou", "チケットID,内容"),
    ("toiawase", "問い合わせID,問い合わせ内容"),
    ("message_ja", "id,メッセージ"),
)


@pytest.mark.parametrize("header", [c[1] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES])
def test_text_and_id_columns_found(tmp_path: Path, header: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(_csv_text(header), encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [(r.record_id, r.body_text) for r in recs] == list(ROWS)


def test_missing_text_column_lists_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,foo,bar\n1,x,y\n2,x,y\n", encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.status == "error" and rec.source_locator == "line 1"
    msg = rec.reason
    assert "id, foo, bar" in msg and "--text-field" in msg and str(path) in msg
    assert "2 rows" in msg and "lines 2-3" in msg  # the rows that were not read are counted


def test_explicit_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("key,comment_text\nk1,金返せ\n", encoding="utf-8")
    (rec,) = read_records([str(path)], text_field="comment_text", id_field="key")
    assert rec.record_id == "k1" and rec.body_text == "金返せ"


def test_explicit_text_field_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,本文\n1,a\n", encoding="utf-8")
    (rec,) = read_records([str(path)], text_field="nope")
    assert rec.status == "error" and "'nope' is not in the file" in rec.reason


def test_salesforce_preset(tmp_path: Path) -> None:
    path = tmp_path / "EmailMessage.csv"
    path.write_text(
        "Id,ParentId,TextBody,Incoming,MessageDate,FromName,Subject\n"
        "02s1,500A,いつ届くんだ,true,2025-03-04T01:15:00.000+0000,山田,返品\n"
        "02s2,500A,確認いたします,false,2025-03-04T02:00:00.000+0000,サポート,Re: 返品\n",
        encoding="utf-8",
    )
    a, b = read_records([str(path)], preset="salesforce-emailmessage")
    assert (a.record_id, a.conversation_id, a.author_role, a.status) == ("02s1", "500A", "customer", "ok")
    assert a.timestamp_utc == "2025-03-04T01:15:00Z" and a.channel == "email"
    assert (b.author_role, b.status) == ("agent", "not_scored")
    assert "Incoming" in b.reason


def test_jp_helpdesk_cp932_preset(tmp_path: Path) -> None:
    text = (
        "問い合わせ番号,送信者,送信日時,本文,件名,担当者\r\n"
        '1001,山田,2025/3/4 10:15,"誠意を見せろ\r\n①すぐ来い",返品,佐藤\r\n'
        "1001,佐藤,2025/3/4 11:00,承知いたしました,Re: 返品,佐藤\r\n"
    )
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp932"))
    a, b = read_records([str(path)], preset="jp-helpdesk-cp932")
    assert a.body_text == "誠意を見せろ\r\n①すぐ来い" and a.status == "ok"
    assert a.timestamp_assumed_tz and a.timestamp_utc == "2025-03-04T01:15:00Z"
    assert a.subject == "返品" and a.staff_name == "佐藤"
    assert b.author_role == "agent" and b.status == "not_scored"
    assert b.source_locator == "line 4"  # the quoted newline makes row 1 span two lines


def test_unknown_preset() -> None:
    with pytest.raises(InputFormatError, match="unknown preset"):
        list(read_records(["x.csv"], preset="nope"))


def test_bad_rows_become_records(tmp_path: Path) -> None:
    big = "あ" * 400_000  # 1.2 MB in UTF-8
    path = tmp_path / "a.csv"
    path.write_bytes(
        "id,text\n".encode()
        + "1,ok\n".encode()
        + b'2,"bad"quote\n'
        + "3,too,many\n".encode()
        + b"4,\n"
        + b"5,\xff\xfe\x80bytes\n"
        + f"6,{big}\n".encode()
        + "7,最後\n".encode()
    )
    recs = list(read_records([str(path)]))
    by_id = {r.source_locator: r for r in recs}
    assert len(recs) == 7
    assert by_id["line 2"].status == "ok"
    assert by_id["line 3"].status == "error" and "malformed CSV row" in by_id["line 3"].reason
    assert by_id["line 4"].status == "error" and "3 fields" in by_id["line 4"].reason
    assert by_id["line 5"].status == "skipped" and "empty text" in by_id["line 5"].reason
    assert by_id["line 6"].status == "error" and "undecodable" in by_id["line 6"].reason
    assert by_id["line 7"].status == "skipped" and "limit" in by_id["line 7"].reason
    assert by_id["line 7"].body_text == ""
    assert by_id["line 8"].status == "ok"
    for r in recs:
        if r.status != "ok":
            assert str(path) in r.reason and r.source_locator in r.reason


def test_jsonl_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": "a", "text": "返金しろ"}\n'
        "{not json}\n"
        '{"id": "c", "text": ["list"]}\n'
        '[1, 2]\n'
        '{"id": "e", "text": ""}\n'
        '{"id": "f", "text": null}\n',
        encoding="utf-8",
    )
    recs = list(read_records([str(path)]))
    assert [r.status for r in recs] == ["ok", "error", "error", "error", "skipped", "skipped"]
    assert "malformed JSON" in recs[1].reason and "line 2" in recs[1].reason
    assert "list" in recs[2].reason and "expected a string" in recs[2].reason


def test_json_array_and_dotted_field(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps([{"id": 1, "msg": {"body": "まだか"}, "role": "user"},
                    {"id": 2, "msg": {"body": "確認します"}, "role": "assistant"}], ensure_ascii=False),
        encoding="utf-8",
    )
    a, b = read_records([str(path)], text_field="msg.body")
    assert (a.record_id, a.body_text, a.status, a.source_locator) == ("1", "まだか", "ok", "/0")
    assert (b.author_role, b.status) == ("agent", "not_scored")


def test_malformed_json_document(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[{"id": 1, "text": "a"},', encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.status == "error" and "malformed JSON" in rec.reason


def test_quotes_inside_csv_cells_are_segmented(tmp_path: Path) -> None:
    body = "いつまで待たせるんだ\n\n2025/03/04 10:15 に サポート さんは書きました:\n> 確認中です\n"
    path = tmp_path / "a.csv"
    path.write_text("id,text\n" + '1,"' + body + '"\n', encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.text_to_score == "いつまで待たせるんだ\n\n"
    assert [s.kind for s in rec.segments] == ["new", "quoted"]


def test_transcript_cell_is_segmented(tmp_path: Path) -> None:
    body = "[14:02] お客様：土下座しろ\n[14:03] オペレーター：できかねます\n"
    path = tmp_path / "a.csv"
    path.write_text("id,text\n" + '1,"' + body + '"\n', encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.text_to_score == "土下座しろ\n"


def test_pii_findings_filled(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "a", "text": "090-1234-5678に電話しろ"}\n', encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.pii_findings == [{"type": "phone", "start": 0, "end": 13}]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = "id,本文\n1,返金しろ\n".encode("cp932")
    fake = io.TextIOWrapper(io.BytesIO(data))
    monkeypatch.setattr(sys, "stdin", fake)
    (rec,) = read_records(["-"], format="csv")
    assert rec.body_text == "返金しろ" and rec.source_file == "<stdin>"


def test_lazy(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,text\n" + "".join(f"{i},x{i}\n" for i in range(1000)), encoding="utf-8")
    it = read_records([str(path)])
    assert next(it).record_id == "0"


def test_the_file_is_closed_when_reading_stops_on_an_error(tmp_path: Path) -> None:
    # A batch scan opens thousands of files: each must be closed by the reader, not left to the garbage collector.
    import gc
    import warnings

    path = tmp_path / "a.csv"
    path.write_text("id,本文\n1,a\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(read_records([str(path)], text_field="nope"))  # an error record, the file closed
        with pytest.raises(InputFormatError):
            list(read_records([str(path)], encoding="no-such-codec"))
        list(read_records([str(path)]))
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def _records(path: Path, **kwargs) -> list[MessageRecord]:
    return list(read_records([str(path)], **kwargs))


# -- A runaway quote ---------------------------------------------------------------------------
# (case id, the rows of an "id,text" CSV, (source_locator, status, record_id) of every record).
# A quoted field that never closes properly is reported on the line where it opened, and reading goes
# on from the next line; a multi-line cell that closes and leaves a full row is one message.
RUNAWAY_CASES = (
    ("unclosed_until_eof",
     ("1,一", '2,"閉じない引用', "3,三", "4,四"),
     (("line 2", "ok", "1"), ("line 3", "error", "a.csv:3"), ("line 4", "ok", "3"), ("line 5", "ok", "4"))),
    ("runs_into_a_later_bad_quote",
     ("1,一", '2,"閉じない引用', "3,三", '4,"引用"です', "5,五"),
     (("line 2", "ok", "1"), ("line 3", "error", "a.csv:3"), ("line 4", "ok", "3"),
      ("line 5", "error", "a.csv:5"), ("line 6", "ok", "5"))),
    ("closes_cleanly_with_too_many_fields",
     ('1,"閉じない引用', "2,二", '3,x",y', "4,四"),
     (("line 2", "error", "a.csv:2"), ("line 3", "ok", "2"), ("line 4", "error", "a.csv:4"),
      ("line 5", "ok", "4"))),
    ("last_row_unclosed",
     ("1,一", '2,"閉じない引用'),
     (("line 2", "ok", "1"), ("line 3", "error", "a.csv:3"))),
    ("multiline_cells_are_kept",
     ('1,"一行目', '二行目"', '2,"彼は""来い""と', '言った"', "3,三"),
     (("line 2", "ok", "1"), ("line 4", "ok", "2"), ("line 6", "ok", "3"))),
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(
    "rows,expected", [c[1:] for c in RUNAWAY_CASES], ids=[c[0] for c in RUNAWAY_CASES]
)
def test_runaway_quote_is_reported_and_reading_goes_on(tmp_path: Path, newline: str, rows, expected) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(newline.join(("id,text", *rows, "")).encode("utf-8"))
    recs = _records(path)
    assert [(r.source_locator, r.status, r.record_id) for r in recs] == list(expected)
    for r in recs:
        if r.status == "error":
            assert str(path) in r.reason and r.source_locator in r.reason
            assert "閉じない" not in r.reason and "引用" not in r.reason  # never cell contents
    if rows[0] == '1,"一行目':
        assert recs[0].body_text == f"一行目{newline}二行目" and recs[1].body_text == f'彼は"来い"と{newline}言った'


def test_unbalanced_quote_loses_no_later_row(tmp_path: Path) -> None:
    # A 1,000-row export whose row 10 starts with an unescaped quote; row 500 is a threat.
    texts = [f"問い合わせ{i}です。" for i in range(1, 1001)]
    texts[9] = '"引用符が閉じていない'
    texts[499] = "来なければ殺す。"
    path = tmp_path / "unbalanced_quote.csv"
    path.write_bytes(("id,text\r\n" + "".join(f"{i},{t}\r\n" for i, t in enumerate(texts, 1))).encode("utf-8"))
    recs = _records(path)
    assert len(recs) == 1000
    assert [r.status for r in recs].count("error") == 1
    assert recs[9].status == "error" and recs[9].source_locator == "line 11" and "quote" in recs[9].reason
    assert (recs[499].record_id, recs[499].body_text, recs[499].status) == ("500", "来なければ殺す。", "ok")


# -- Salesforce EmailMessage, HTML bodies --------------------------------------------------------
# (case id, TextBody, HtmlBody, body_text read, status)
SALESFORCE_BODY_CASES = (
    ("html_only_mail", "", "<html><body><p>ふざけるな。</p><p>土下座しろ。</p></body></html>",
     "ふざけるな。\n土下座しろ。", "ok"),
    ("html_in_text_body", "<p>テキスト欄にHTMLが入っている行</p>", "", "テキスト欄にHTMLが入っている行", "ok"),
    ("text_body_preferred", "返金しろ", "<p>別の本文</p>", "返金しろ", "ok"),
    ("html_quote_dropped", "", '<div>まだですか</div><div class="gmail_quote">以前の返信</div>', "まだですか", "ok"),
    ("plain_text_with_a_bracket", "a<b の件です", "", "a<b の件です", "ok"),
    ("both_empty", "", "", "", "skipped"),
)


@pytest.mark.parametrize(
    "text_body,html_body,body,status", [c[1:] for c in SALESFORCE_BODY_CASES],
    ids=[c[0] for c in SALESFORCE_BODY_CASES],
)
def test_salesforce_html_body(tmp_path: Path, text_body: str, html_body: str, body: str, status: str) -> None:
    path = tmp_path / "EmailMessage.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([
            ["Id", "ParentId", "Incoming", "MessageDate", "TextBody", "HtmlBody", "IsExternallyVisible"],
            ["02s1", "500A", "true", "2025-03-04T01:15:00.000+0000", text_body, html_body, "true"],
        ])
    (rec,) = _records(path, preset="salesforce-emailmessage")
    assert (rec.body_text, rec.status) == (body, status)
    assert "<" not in (rec.text_to_score or "") or body == "a<b の件です"


@pytest.mark.parametrize("column", ["HtmlBody", "TextBody"])
def test_salesforce_export_with_one_body_column(tmp_path: Path, column: str) -> None:
    path = tmp_path / "EmailMessage.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["Id", "Incoming", column], ["02s1", "true", "<p>今すぐ来い</p>"]])
    (rec,) = _records(path, preset="salesforce-emailmessage")
    assert (rec.body_text, rec.status) == ("今すぐ来い", "ok")
    assert rec.decode_warnings == [f"html-to-text:{column}"]


# -- One bad file does not stop the others; --encoding and the BOM --------------------------------
def test_a_file_without_a_text_column_does_not_stop_the_others(tmp_path: Path) -> None:
    first, bad, last = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.jsonl"
    first.write_text("id,本文\n1,返金しろ\n2,まだか\n", encoding="utf-8")
    bad.write_text("id,foo,bar\n1,x,y\n2,x,y\n3,x,y\n", encoding="utf-8")
    last.write_text('{"id": "j1", "text": "届かない"}\n', encoding="utf-8")
    recs = list(read_records([str(first), str(bad), str(last)]))
    assert [(r.record_id, r.status) for r in recs] == [("1", "ok"), ("2", "ok"), ("b.csv:1", "error"), ("j1", "ok")]
    assert str(bad) in recs[2].reason and "line 1" in recs[2].reason and "3 rows" in recs[2].reason


# (case id, file name, content, locator of the error record)
NO_TEXT_COLUMN_CASES = (
    ("csv", "a.csv", "id,foo\n1,x\n", "line 1"),
    ("jsonl", "a.jsonl", '{"id": 1, "foo": "x"}\n{"id": 2, "foo": "y"}\n', "line 1"),
    ("json", "a.json", '[{"id": 1, "foo": "x"}, {"id": 2, "foo": "y"}]', "/0"),
    ("json_scalar", "b.json", "42", "file"),
)


@pytest.mark.parametrize(
    "name,content,locator", [c[1:] for c in NO_TEXT_COLUMN_CASES], ids=[c[0] for c in NO_TEXT_COLUMN_CASES]
)
def test_unreadable_file_is_one_error_record(tmp_path: Path, name: str, content: str, locator: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    (rec,) = _records(path)
    assert rec.status == "error" and rec.source_locator == locator and str(path) in rec.reason


# (case id, file bytes, --encoding): the BOM of the file must not stay on the first header
ENCODING_OVERRIDE_CASES = (
    ("utf8_bom_text_first", codecs.BOM_UTF8 + "本文,id\r\n返金しろ,1\r\n".encode(), "utf-8"),
    ("utf8_bom_id_first", codecs.BOM_UTF8 + "id,本文\r\n1,返金しろ\r\n".encode(), "utf-8"),
    ("utf8_alias", codecs.BOM_UTF8 + "id,本文\r\n1,返金しろ\r\n".encode(), "UTF8"),
    ("utf16le_bom", codecs.BOM_UTF16_LE + "id\t本文\r\n1\t返金しろ\r\n".encode("utf-16-le"), "utf-16-le"),
    ("cp932", "id,本文\r\n1,返金しろ\r\n".encode("cp932"), "cp932"),
)


@pytest.mark.parametrize(
    "data,encoding", [c[1:] for c in ENCODING_OVERRIDE_CASES], ids=[c[0] for c in ENCODING_OVERRIDE_CASES]
)
def test_encoding_override_drops_the_bom(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    recs = _records(path, encoding=encoding)
    assert [(r.record_id, r.body_text, r.status) for r in recs] == [("1", "返金しろ", "ok")]


# -- The "no text column" error names columns, never cell contents --------------------------------
HEADERLESS = (
    "1001,山田太郎,090-1234-5678,yamada@example.com,お前の会社を燃やしてやる。住所は東京都港区1-2-3だ\r\n"
    "1002,鈴木花子,080-0000-1111,suzuki@example.com,配送が遅れています\r\n"
)
# (case id, file content, options, values that must not appear, what the reason must say)
NO_HEADER_CASES = (
    ("headerless_csv", HEADERLESS, {},
     ("1001", "山田太郎", "090-1234-5678", "yamada@example.com", "燃やして"), ("5 columns", "header row")),
    ("headerless_with_text_field", HEADERLESS, {"text_field": "本文"},
     ("1001", "山田太郎", "090-1234-5678", "yamada@example.com", "燃やして"), ("'本文' is not in the file",)),
    ("short_cells", "1,山田,返金しろ\n2,鈴木,まだか\n", {}, ("山田", "返金しろ"),
     ("3 columns", "header row", "2 rows (lines 1-2)")),
    ("jsonl_read_as_csv", '{"id": "j1", "text": "返金しろ"}\n', {"format": "csv"}, ("j1", "返金しろ"), ("header row",)),
)


@pytest.mark.parametrize(
    "content,options,secrets,says", [c[1:] for c in NO_HEADER_CASES], ids=[c[0] for c in NO_HEADER_CASES]
)
def test_no_text_column_error_shows_no_cell_contents(
    tmp_path: Path, content: str, options: dict, secrets: tuple, says: tuple
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(content, encoding="utf-8")
    (rec,) = _records(path, **options)
    assert rec.status == "error" and str(path) in rec.reason and "line 1" in rec.reason
    for secret in secrets:
        assert secret not in rec.reason and secret not in rec.body_text
    for phrase in says:
        assert phrase in rec.reason


# -- Excel's "Unicode テキスト" (UTF-16 TSV named .txt) ------------------------------------------
_TABLE = "問い合わせ番号\t送信者\t本文\t担当者\r\n1001\t山田\t返金しろ\t佐藤\r\n1001\t佐藤\t確認します\t佐藤\r\n"
# (case id, file bytes, format sniffed)
TABLE_SNIFF_CASES = (
    ("excel_unicode_text", codecs.BOM_UTF16_LE + _TABLE.encode("utf-16-le"), "tsv"),
    ("utf16_be", codecs.BOM_UTF16_BE + _TABLE.encode("utf-16-be"), "tsv"),
    ("cp932_tab_text", _TABLE.encode("cp932"), "tsv"),
    ("utf8_csv", "id,text\n1,返金しろ\n".encode(), "csv"),
    ("line_talk_history",
     "[LINE] 山田とのトーク履歴\r\n保存日時：2025/03/04 10:00\r\n\r\n2025/03/04(火)\r\n10:15\t山田\t返金しろ\r\n".encode(),
     None),
    ("transcript", "[10:15] お客様: 返金しろ\n[10:16] 担当: 確認します\n".encode(), None),
    ("tabs_without_a_text_column", "a\tb\r\n1\t2\r\n".encode(), None),
    ("utf16_without_a_header_row", "1001\t返金しろ\r\n1002\t確認します\r\n".encode("utf-16"), "tsv"),
    ("utf16_letter_with_one_tab", "お問い合わせ\t件名\r\n先日の件です。\r\n".encode("utf-16"), None),
    ("utf8_without_a_header_row", "1001\t返金しろ\r\n1002\t確認します\r\n".encode(), None),
    ("prose_with_a_comma", "本文,件名について質問です。\n".encode(), None),
    ("empty", b"", None),
)


@pytest.mark.parametrize("data,expected", [c[1:] for c in TABLE_SNIFF_CASES], ids=[c[0] for c in TABLE_SNIFF_CASES])
def test_sniff_delimited(data: bytes, expected: str | None) -> None:
    from kasuhara_nlp.readers.tabular import sniff_delimited

    assert sniff_delimited(data) == expected


def test_excel_unicode_text_is_read_as_a_table(tmp_path: Path) -> None:
    path = tmp_path / "unicode_text.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + _TABLE.encode("utf-16-le"))
    recs = _records(path, format="tsv")
    assert [(r.record_id, r.body_text, r.status) for r in recs] == [
        ("1001", "返金しろ", "ok"), ("1001", "確認します", "not_scored")]


def test_excel_unicode_text_without_its_header_row_is_an_error_not_one_message(tmp_path: Path) -> None:
    path = tmp_path / "unicode_text.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + _TABLE.split("\r\n", 1)[1].encode("utf-16-le"))
    (rec,) = _records(path)
    assert (rec.status, rec.source_format, rec.source_locator) == ("error", "tsv", "line 1")
    assert "Add a header row" in rec.reason and "返金しろ" not in rec.reason


def test_excel_unicode_text_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "unicode_text.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + _TABLE.encode("utf-16-le"))
    recs = _records(path)
    assert [r.source_format for r in recs] == ["tsv", "tsv"]
