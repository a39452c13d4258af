"""Tabular readers: CSV in the encodings Japanese tools write, JSONL, JSON arrays, presets, bad rows."""

from __future__ import annotations

import codecs
import io
import json
import sys
from pathlib import Path

import pytest

from kasuhara_nlp.errors import InputFormatError
from kasuhara_nlp.readers import read_records

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
    path.write_text("id,foo,bar\n1,x,y\n", encoding="utf-8")
    with pytest.raises(InputFormatError) as info:
        list(read_records([str(path)]))
    msg = str(info.value)
    assert "id, foo, bar" in msg and "--text-field" in msg and str(path) in msg


def test_explicit_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("key,comment_text\nk1,金返せ\n", encoding="utf-8")
    (rec,) = read_records([str(path)], text_field="comment_text", id_field="key")
    assert rec.record_id == "k1" and rec.body_text == "金返せ"


def test_explicit_text_field_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,本文\n1,a\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="'nope' is not in the file"):
        list(read_records([str(path)], text_field="nope"))


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
        with pytest.raises(InputFormatError):
            list(read_records([str(path)], text_field="nope"))
        list(read_records([str(path)]))
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
