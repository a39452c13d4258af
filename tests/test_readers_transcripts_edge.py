"""Transcript edge cases from the tabular/transcript QA round, and the per-file guard of read_records.

Real files in real encodings, written here: impossible UTC offsets and dates at the calendar's edge (which
crashed the whole run), diarised and qualified speaker labels, call memos with a colon in the quote, line ends
other than LF/CRLF/CR, a date-only line inside a message, and transcripts joined with a BOM in the middle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import kasuhara_nlp.readers as readers
from kasuhara_nlp.cli import EXIT_DATA_ERRORS, main
from kasuhara_nlp.readers import read_records
from kasuhara_nlp.readers.chat import parse_transcript
from kasuhara_nlp.readers.timestamps import parse_timestamp, to_iso_pair
from kasuhara_nlp.records import MessageRecord
from kasuhara_nlp.turns import speaker_kind

_GOOD_CSV = "id,本文\ng1,返金しろ\ng2,土下座しろ\ng3,配送はいつですか\n"


def _good_csv(folder: Path) -> Path:
    path = folder / "a_inbox.csv"
    path.write_text(_GOOD_CSV, encoding="utf-8")
    return path


# -- findings 1 and 2: impossible offsets and calendar-edge dates are turns without a timestamp ---------------
# (case id, transcript, [(role, body, has timestamp)] expected)
TIME_EDGE_CASES = (
    ("iso_offset_99_hours", "2025-03-04T10:15:02+99:00 山田: まだですか\n2025-03-04T10:16:02+09:00 オペレーター: 確認します\n",
     [("customer", "まだですか", False), ("agent", "確認します", True)]),
    ("bracket_offset_99_minutes", "[2025/03/04 10:15+23:99] お客様: まだですか\n[2025/03/04 10:16] オペレーター: 確認します\n",
     [("customer", "まだですか", False), ("agent", "確認します", True)]),
    ("offset_60_minutes", "2025-03-04T10:15:02+09:60 山田: まだですか\n2025-03-04T10:16:02+09:00 オペレーター: 確認します\n",
     [("customer", "まだですか", False), ("agent", "確認します", True)]),
    ("year_0001_jst", "0001/01/01 00:00 お客様: まだですか\n0001/01/01 00:01 オペレーター: 確認します\n",
     [("customer", "まだですか", False), ("agent", "確認します", False)]),
    ("year_9999_rollover", "9999/12/31 23:59 お客様: まだですか\n23:58 オペレーター: 確認します\n",
     [("customer", "まだですか", True), ("agent", "確認します", False)]),
    ("year_9999_offset", "9999-12-31T23:00:00-05:00 お客様: まだですか\n9999-12-31T23:01:00+09:00 オペレーター: 確認します\n",
     [("customer", "まだですか", False), ("agent", "確認します", True)]),
    ("year_9999_hour_99", "9999/12/31 99:99 お客様: まだですか\n9999/12/31 10:00 オペレーター: 確認します\n",
     [("customer", "まだですか", False), ("agent", "確認します", True)]),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in TIME_EDGE_CASES], ids=[c[0] for c in TIME_EDGE_CASES])
def test_impossible_times_are_turns_without_a_timestamp(tmp_path: Path, text: str, expected: list) -> None:
    path = tmp_path / "log.txt"
    path.write_text(text, encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [(r.author_role, r.body_text, r.timestamp_utc is not None) for r in recs] == expected
    for rec, (_, _, has_time) in zip(recs, expected):
        assert (rec.timestamp_local is not None) is has_time
        # A time the line shows but that cannot be placed on the calendar is said, not silently lost.
        assert ("turn-time-unreadable" in rec.decode_warnings) is (not has_time)
    assert recs[0].status == "ok"


@pytest.mark.parametrize("value", [
    "0001/01/01 0:00", "0001/01/01 8:59", "0001-01-01T00:00:00+09:00", "9999-12-31T23:00:00-05:00",
], ids=["year_0001_naive", "year_0001_naive_morning", "year_0001_jst", "year_9999_minus_5"])
def test_parse_timestamp_at_the_calendar_edge_gives_none(value: str) -> None:
    assert parse_timestamp(value) == (None, None, False)


def test_to_iso_pair_out_of_range_gives_none() -> None:
    assert to_iso_pair(datetime(1, 1, 1)) == (None, None, False)


@pytest.mark.parametrize("cell", ["0001/01/01 0:00", "9999-12-31T23:00:00-05:00"],
                         ids=["year_0001", "year_9999_offset"])
def test_csv_date_at_the_calendar_edge_keeps_every_row(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "dates.csv"
    path.write_text(f"id,本文,日時\n1,返金しろ,{cell}\n2,まだか,2025/3/4 10:15\n", encoding="utf-8")
    recs = list(read_records([str(_good_csv(tmp_path)), str(path)]))
    assert [(r.record_id, r.status) for r in recs] == [
        ("g1", "ok"), ("g2", "ok"), ("g3", "ok"), ("1", "ok"), ("2", "ok")]
    assert recs[3].timestamp_utc is None and recs[3].body_text == "返金しろ"
    assert "timestamp-unreadable:日時" in recs[3].decode_warnings  # said, not silently dropped
    assert recs[4].timestamp_utc == "2025-03-04T01:15:00Z" and not any(
        w.startswith("timestamp-unreadable") for w in recs[4].decode_warnings)


# -- finding 1: the run goes on past a file that crashed a reader -------------------------------------------
CRASH_FILES = (
    ("tz_offset", "2025-03-04T10:15:02+99:00 山田: まだですか\n2025-03-04T10:16:02+09:00 オペレーター: 確認します\n"),
    ("year_0001", "0001/01/01 00:00 お客様: まだですか\n0001/01/01 00:01 オペレーター: 確認します\n"),
    ("year_9999_rollover", "9999/12/31 23:59 お客様: まだですか\n23:58 オペレーター: 確認します\n"),
)


@pytest.mark.parametrize("text", [c[1] for c in CRASH_FILES], ids=[c[0] for c in CRASH_FILES])
@pytest.mark.parametrize("as_folder", [False, True], ids=["files", "folder"])
def test_a_transcript_that_crashed_loses_nothing(tmp_path: Path, text: str, as_folder: bool) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = _good_csv(folder)
    (folder / "b_chat.txt").write_text(text, encoding="utf-8")
    paths = [str(folder)] if as_folder else [str(good), str(folder / "b_chat.txt")]
    recs = list(read_records(paths))
    assert [r.record_id for r in recs[:3]] == ["g1", "g2", "g3"]
    assert [r.body_text for r in recs[3:]] == ["まだですか", "確認します"]


@pytest.mark.parametrize("text", [c[1] for c in CRASH_FILES], ids=[c[0] for c in CRASH_FILES])
def test_a_scan_past_a_transcript_that_crashed_writes_every_result(
    tmp_path: Path, baseline_dir: Path, text: str
) -> None:
    good = _good_csv(tmp_path)
    chat = tmp_path / "b_chat.txt"
    chat.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["scan", str(good), str(chat), "-o", str(out), "--model", str(baseline_dir), "-q"])
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    messages = [r for r in results if r["kind"] == "message"]
    assert code == 0
    assert [r["id"] for r in messages][:3] == ["g1", "g2", "g3"] and len(messages) == 5


_SECRET = "殺すぞ山田090-1234-5678"


def _crash_after_first_record(real: object) -> object:
    """The chat reader, with a fault injected on files whose name says "crash": one record, then an
    exception whose message quotes the text (as a parser's ValueError may)."""
    def reader(path: str, **opts: object) -> Iterator[MessageRecord]:
        records = real(path, **opts)  # type: ignore[operator]
        if "crash" not in Path(path).name:
            yield from records
            return
        yield next(records)
        raise ValueError(f"cannot parse {_SECRET!r}")
    return reader


@pytest.mark.parametrize("as_folder", [False, True], ids=["files", "folder"])
def test_an_internal_reader_error_costs_only_the_rest_of_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_folder: bool
) -> None:
    monkeypatch.setattr(readers, "read_text_file", _crash_after_first_record(readers.read_text_file))
    folder = tmp_path / "in"
    folder.mkdir()
    crash = folder / "a_crash.txt"
    crash.write_text("[10:15] お客様：まだですか\n[10:16] オペレーター：確認します\n", encoding="utf-8")
    good = folder / "b_good.txt"
    good.write_text("[10:15] お客様：返金しろ\n[10:16] オペレーター：確認します\n", encoding="utf-8")
    paths = [str(folder)] if as_folder else [str(crash), str(good)]
    recs = list(read_records(paths))
    assert [(r.source_file, r.status) for r in recs] == [
        (str(crash), "ok"), (str(crash), "error"), (str(good), "ok"), (str(good), "not_scored")]
    reason = recs[1].reason
    assert str(crash) in reason and "ValueError" in reason and "internal" in reason and "report" in reason
    assert "line 1" in reason  # the last place read before the failure
    assert _SECRET not in reason and "殺すぞ" not in reason


def test_an_internal_reader_error_in_a_single_file_is_one_error_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, baseline_dir: Path
) -> None:
    monkeypatch.setattr(readers, "read_text_file", _crash_after_first_record(readers.read_text_file))
    crash = tmp_path / "crash.txt"
    crash.write_text("[10:15] お客様：まだですか\n[10:16] オペレーター：確認します\n", encoding="utf-8")
    good = _good_csv(tmp_path)
    out = tmp_path / "out.jsonl"
    code = main(["scan", str(crash), str(good), "-o", str(out), "--model", str(baseline_dir), "-q"])
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    messages = [r for r in results if r["kind"] == "message"]
    assert code == EXIT_DATA_ERRORS
    assert [r["status"] for r in messages] == ["ok", "error", "ok", "ok", "ok"]
    assert [r["id"] for r in messages][2:] == ["g1", "g2", "g3"]
    assert "ValueError" in messages[1]["reason"] and _SECRET not in json.dumps(messages[1], ensure_ascii=False)


# -- finding 3: diarised and qualified speaker labels start a turn --------------------------------------------
# (case id, transcript, [(role, body)] expected)
SPEAKER_LABEL_CASES = (
    ("customer_with_name_fullwidth_parens",
     "オペレーター：お電話ありがとうございます\nお客様（山田）：責任者を出せ。殺すぞ\nオペレーター：少々お待ちください\n",
     [("agent", "お電話ありがとうございます"), ("customer", "責任者を出せ。殺すぞ"), ("agent", "少々お待ちください")]),
    ("customer_with_name_ascii_parens", "担当: お待たせしました\nお客様(山田様): 責任者を出せ\n",
     [("agent", "お待たせしました"), ("customer", "責任者を出せ")]),
    ("customer_lettered", "担当：お待たせしました\n顧客A：責任者を出せ\n顧客Ｂ：そうだそうだ\n",
     [("agent", "お待たせしました"), ("customer", "責任者を出せ"), ("customer", "そうだそうだ")]),
    ("short_customer_word_numbered", "客1：責任者を出せ\n客2：早くしろ\n",
     [("customer", "責任者を出せ"), ("customer", "早くしろ")]),
    ("diarised_japanese", "担当：お待たせしました\n話者2：責任者を出せ。殺すぞ\n担当：少々お待ちください\n",
     [("agent", "お待たせしました"), ("customer", "責任者を出せ。殺すぞ"), ("agent", "少々お待ちください")]),
    ("diarised_english_no_agent", "Speaker 1: お待たせしました\nSpeaker 2: 責任者を出せ\n",
     [("unknown", "お待たせしました"), ("unknown", "責任者を出せ")]),
    ("diarised_pyannote", "SPEAKER_00: お待たせしました\nSPEAKER_01: 責任者を出せ\n",
     [("unknown", "お待たせしました"), ("unknown", "責任者を出せ")]),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in SPEAKER_LABEL_CASES], ids=[c[0] for c in SPEAKER_LABEL_CASES])
def test_labelled_speakers_start_a_turn(tmp_path: Path, text: str, expected: list) -> None:
    path = tmp_path / "call.txt"
    path.write_text(text, encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [(r.author_role, r.body_text) for r in recs] == expected
    assert all(r.status == "ok" for r in recs if r.author_role in ("customer", "unknown"))


# Lines a customer writes with a colon in them, which are not speaker lines: they stay in the message.
@pytest.mark.parametrize("line", [
    "注文番号：12345", "理由：届かない", "件名：返品", "顧客ID：A123", "顧客番号：123", "客室：汚い", "会員番号：123",
    "お客様センター：電話がつながらない", "顧客(法人)の件：至急", "話者：不明", "Speakers: 2", "お客様は神様：だろ",
    "OPS: 本番で障害", "UserX: 返事がない",
])
def test_colon_lines_in_a_message_are_not_speaker_lines(line: str) -> None:
    text = f"お客様：商品が届かない\n{line}\nオペレーター：確認します\n"
    recs = list(parse_transcript(text, source_file="t.txt"))
    assert [(r.author_role, r.body_text) for r in recs] == [
        ("customer", f"商品が届かない\n{line}"), ("agent", "確認します")]


@pytest.mark.parametrize("name,kind", [
    ("お客様（山田）", "customer"), ("顧客A", "customer"), ("客A", "customer"), ("客（山田）", "customer"),
    ("客2", "customer"), ("係（佐藤）", "agent"), ("話者2", "unknown"), ("Speaker 1", "unknown"),
    ("SPEAKER_00", "unknown"), ("Cooper", "unknown"), ("山田", "unknown"),
])
def test_speaker_kind_of_qualified_labels(name: str, kind: str) -> None:
    assert speaker_kind(name) == kind


# -- finding 4: a call memo keeps its whole quote, colon and all ---------------------------------------------
@pytest.mark.parametrize("prefix", ["13:40 ", "[13:40] ", "2025/03/04 13:40 "], ids=["time", "bracketed", "dated"])
def test_call_memo_with_a_colon_in_the_quote(prefix: str) -> None:
    text = f"{prefix}お客様「ふざけるな：土下座しろ」\n13:41 係「申し訳ございません」\n"
    recs = list(parse_transcript(text, source_file="memo.txt"))
    assert [(r.author_name, r.author_role, r.body_text) for r in recs] == [
        ("お客様", "customer", "「ふざけるな：土下座しろ」"), ("係", "agent", "「申し訳ございません」")]


# -- finding 13: only LF, CRLF and CR end a line -------------------------------------------------------------
@pytest.mark.parametrize("sep", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u2029"],
                         ids=["FF", "VT", "FS", "NEL", "LS", "PS"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_line_numbers_count_only_real_line_ends(tmp_path: Path, sep: str, newline: str) -> None:
    lines = [f"[10:15] お客様：まだ{sep}ですか", "[10:16] オペレーター：確認します", "[10:17] お客様：はい"]
    path = tmp_path / "chat.txt"
    path.write_bytes(newline.join(lines).encode("utf-8") + newline.encode())
    recs = list(read_records([str(path)]))
    assert [r.source_locator for r in recs] == ["line 1", "line 2", "line 3"]
    assert recs[0].body_text == f"まだ{sep}ですか"


# -- finding 14: a date-only line inside a message stays in it --------------------------------------------------
# (case id, transcript, [(body, local time)] expected)
DATE_LINE_CASES = (
    ("inside_a_message", "[10:15] お客様：次の日に来い\n2025/03/04\n絶対だ\n[10:16] オペレーター：確認します\n",
     [("次の日に来い\n2025/03/04\n絶対だ", None), ("確認します", None)]),
    ("last_line_of_a_message", "[10:15] お客様：この日に来い\n2025年3月4日\n[10:16] オペレーター：確認します\n"
     "[10:17] お客様：来い\n2025/03/05\n", [("この日に来い", None), ("確認します", "2025-03-04T10:16:00+09:00"),
                                       ("来い\n2025/03/05", "2025-03-04T10:17:00+09:00")]),
    ("between_turns", "[23:59] お客様：まだか\n2025/03/05\n[09:00] お客様：起きろ\n",
     [("まだか", None), ("起きろ", "2025-03-05T09:00:00+09:00")]),
    ("between_turns_after_blank", "[23:59] お客様：まだか\n\n2025/03/05(水)\n\n[09:00] お客様：起きろ\n",
     [("まだか", None), ("起きろ", "2025-03-05T09:00:00+09:00")]),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in DATE_LINE_CASES], ids=[c[0] for c in DATE_LINE_CASES])
def test_a_date_line_counts_only_between_turns(text: str, expected: list) -> None:
    recs = list(parse_transcript(text, source_file="t.txt"))
    assert [(r.body_text, r.timestamp_local) for r in recs] == expected


# -- finding 10: transcripts joined into one file, the second one's BOM in the middle ----------------------------
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"], ids=["utf8_bom", "utf16_bom"])
def test_joined_transcripts_with_a_bom_in_the_middle(tmp_path: Path, encoding: str) -> None:
    first = "[10:15] オペレーター：お待たせしました\n"
    second = "[10:16] お客様：殺すぞ\n[10:17] オペレーター：確認します\n"
    path = tmp_path / "joined.txt"
    path.write_bytes(first.encode(encoding) + second.encode(encoding))
    recs = list(read_records([str(path)]))
    assert [(r.author_role, r.body_text, r.status, r.source_locator) for r in recs] == [
        ("agent", "お待たせしました", "not_scored", "line 1"), ("customer", "殺すぞ", "ok", "line 2"),
        ("agent", "確認します", "not_scored", "line 3")]


# -- JSON exports say an unreadable time as the CSV reader does, and stay silent on a missing one ------------
_BAD_TIME = "2025/13/45 25:61"
JSON_TIME_CASES = (
    ("chat_json", "chat.json", "timestamp", lambda t: {"messages": [
        {"id": "c1", "role": "user", "content": "返金しろ", **({"timestamp": t} if t is not None else {})}]}),
    ("zendesk", "export.json", "created_at", lambda t: {"tickets": [{"id": 5, "requester_id": 9, "comments": [
        {"id": 7, "author_id": 9, "plain_body": "返金しろ", **({"created_at": t} if t is not None else {})}]}]}),
    ("slack", "2026-11-01.json", "ts", lambda t: [
        {"type": "message", "user": "UC", "text": "返金しろ", **({"ts": t} if t is not None else {})}]),
)


@pytest.mark.parametrize("name,field,doc", [c[1:] for c in JSON_TIME_CASES], ids=[c[0] for c in JSON_TIME_CASES])
@pytest.mark.parametrize("value,warned", [(_BAD_TIME, True), (None, False), ("", False),
                                          ("2025-03-04T01:15:00Z", False)], ids=["unreadable", "absent", "blank", "good"])
def test_json_exports_say_an_unreadable_time(tmp_path: Path, name: str, field: str, doc, value, warned: bool) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(doc(value), ensure_ascii=False), encoding="utf-8")
    (rec,) = [r for r in read_records(str(path)) if "返金しろ" in r.body_text]
    assert rec.status == "ok" and (rec.timestamp_utc is None) == (value != "2025-03-04T01:15:00Z")
    assert (f"timestamp-unreadable:{field}" in rec.decode_warnings) == warned
