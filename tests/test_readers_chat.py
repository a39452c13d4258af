"""Chat readers: LINE .txt, `[HH:MM] 名前: 本文` styles, call transcripts, JSON turn lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kasuhara_nlp.readers import read_records
from kasuhara_nlp.readers.chat import parse_transcript

LINE_EXPORT = (
    "[LINE] 山田とのトーク履歴\n保存日時：2025/03/05 09:00\n\n2025/03/04(火)\n"
    "10:15\t山田\tまだ届かないんですけど\n10:16\tサポート\t確認いたします\n"
    '23:50\t山田\t"もういい。\n返金しろ"\n00:10\t山田\t起きてるか\n\n2025/03/06(木)\n'
    "09:00\t山田\t[スタンプ]\n"
)


def test_line_export(tmp_path: Path) -> None:
    path = tmp_path / "[LINE] 山田.txt"
    path.write_text(LINE_EXPORT, encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [r.body_text for r in recs] == ["まだ届かないんですけど", "確認いたします", "もういい。\n返金しろ", "起きてるか", "[スタンプ]"]
    assert [r.status for r in recs] == ["ok", "not_scored", "ok", "ok", "ok"]
    assert [r.sequence for r in recs] == [1, 2, 3, 4, 5]
    assert len({r.conversation_id for r in recs}) == 1
    assert recs[0].timestamp_local == "2025-03-04T10:15:00+09:00" and recs[0].timestamp_assumed_tz
    assert recs[3].timestamp_local == "2025-03-05T00:10:00+09:00" and recs[3].extra["day_rollover"]
    assert recs[4].timestamp_local == "2025-03-06T09:00:00+09:00" and "day_rollover" not in recs[4].extra
    assert recs[0].channel == "messaging_line" and recs[0].source_locator == "line 5"


# (case id, transcript, [(role, body)] expected)
TRANSCRIPT_CASES = (
    (
        "brackets_fullwidth_colon",
        "[14:02] お客様：擦り傷がある\n[14:03] オペレーター：申し訳ございません。\n続きの行\n",
        [("customer", "擦り傷がある"), ("agent", "申し訳ございません。\n続きの行")],
    ),
    (
        "halfwidth_colon_roles",
        "顧客: 新車に交換して\n担当: 範囲外です\n",
        [("customer", "新車に交換して"), ("agent", "範囲外です")],
    ),
    (
        "service_role_words",
        "保護者：担任を替えて\n担任：検討します\n保護者：今すぐ替えろ\n",
        [("customer", "担任を替えて"), ("agent", "検討します"), ("customer", "今すぐ替えろ")],
    ),
    (
        "fullwidth_bracket_times",
        "［10:00］来庁者：ふざけるな\n［10:01］職員：申し訳ありません\n",
        [("customer", "ふざけるな"), ("agent", "申し訳ありません")],
    ),
    (
        "call_memo_quote_style",
        "13:40 お客様「運転手の名前は？」\n13:41 係「お調べします」\n13:42 お客様「家の住所教えて」\n",
        [("customer", "「運転手の名前は？」"), ("agent", "「お調べします」"), ("customer", "「家の住所教えて」")],
    ),
    (
        "our_side_named",
        "[14:02] 当社（佐藤）: ご説明します\n[14:03] 山田: ふざけるな\n",
        [("agent", "ご説明します"), ("customer", "ふざけるな")],
    ),
    (
        "bracket_role_labels",
        "【お客様】金返せ\n【担当】できかねます\n",
        [("customer", "金返せ"), ("agent", "できかねます")],
    ),
    (
        "bot_turn",
        "[10:00] チャットボット: ご用件をどうぞ\n[10:01] 山田: 人間を出せ\n",
        [("bot", "ご用件をどうぞ"), ("customer", "人間を出せ")],
    ),
    (
        "indistinguishable_speakers",
        "[10:15] 山田: まだ？\n[10:16] 佐藤: 確認します\n",
        [("unknown", "まだ？"), ("unknown", "確認します")],
    ),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in TRANSCRIPT_CASES], ids=[c[0] for c in TRANSCRIPT_CASES])
def test_transcript_styles(text: str, expected: list[tuple[str, str]]) -> None:
    recs = list(parse_transcript(text, source_file="t.txt"))
    assert [(r.author_role, r.body_text) for r in recs] == expected
    for r in recs:
        assert r.status == ("ok" if r.author_role in ("customer", "unknown") else "not_scored")


def test_call_transcript_offsets(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_bytes("00:00:05 オペレーター: お電話ありがとうございます\n00:03:12 顧客: 責任者出せ\n01:10:00 顧客: まだだ\n".encode("cp932"))
    recs = list(read_records([str(path)]))
    assert [r.extra.get("offset_seconds") for r in recs] == [5, 192, 4200]
    assert recs[0].channel == "phone_transcript" and recs[1].status == "ok"


def test_name_roles_option(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("[10:15] 山田: まだ？\n[10:16] 佐藤: 確認します\n", encoding="utf-8")
    recs = list(read_records([str(path)], name_roles={"佐藤": "agent"}))
    assert [r.author_role for r in recs] == ["customer", "agent"]


def test_plain_text_file_is_one_message(tmp_path: Path) -> None:
    path = tmp_path / "m.txt"
    path.write_text("いい加減にしろ。\n何回言わせるんだ。\n", encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.source_format == "text" and rec.status == "ok"


@pytest.mark.parametrize("text", [
    "【お名前】山田 太郎\n【メールアドレス】taro@example.com\n【お問い合わせ種別】商品について\n【お問い合わせ内容】\n"
    "届いた商品が壊れていました。交換をお願いします。\n",
    "【氏名】佐藤花子\n【電話番号】03-1234-5678\n【ご注文番号】A-1029\n【ご相談内容】返品の方法を教えてください。\n",
], ids=["contact_form", "order_form"])
def test_form_field_labels_are_not_speakers(tmp_path: Path, text: str) -> None:
    """A saved web form is one message: a field's value (a bare name) scored alone reads as an attack."""
    path = tmp_path / "form.txt"
    path.write_text(text, encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.source_format == "text" and rec.status == "ok"
    assert "山田 太郎" in rec.body_text or "佐藤花子" in rec.body_text


def test_json_turns_llm_style(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps([
        {"role": "system", "content": "You are support."},
        {"role": "user", "content": "返金しろ", "timestamp": "2025-03-04T10:00:00+09:00"},
        {"role": "assistant", "content": "できかねます"},
        {"role": "user", "content": ["not", "a", "string"]},
    ], ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [(r.author_role, r.status) for r in recs] == [
        ("system", "not_scored"), ("customer", "ok"), ("agent", "not_scored"), ("unknown", "error")]
    assert recs[1].timestamp_utc == "2025-03-04T01:00:00Z" and recs[1].sequence == 2


def test_json_conversations(tmp_path: Path) -> None:
    path = tmp_path / "conv.json"
    path.write_text(json.dumps({"conversations": [
        {"id": "c1", "messages": [{"sender": "お客様", "text": "まだか", "role": None}]},
        {"id": "c2"},
    ]}, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(path)], format="chat-json"))
    assert recs[0].conversation_id == "c1" and recs[0].author_role == "customer"
    assert recs[1].status == "error"


# Time formats chat tools print before the speaker: every one must give per-turn records with times.
# (case id, the three line prefixes, expected local time of the first turn, expected UTC time of the first turn)
TIME_FORMAT_CASES = (
    ("iso_offset", ("2025-03-04T10:15:02+09:00 ", "2025-03-04T10:15:40+09:00 ", "2025-03-04T10:16:05+09:00 "),
     "2025-03-04T10:15:02+09:00", "2025-03-04T01:15:02Z"),
    ("iso_utc_z_fraction", ("2025-03-04T01:15:02.123Z ", "2025-03-04T01:15:40.5Z ", "2025-03-04T01:16:05Z "),
     "2025-03-04T01:15:02+00:00", "2025-03-04T01:15:02Z"),  # local keeps the offset the log shows
    ("iso_no_offset", ("2025-03-04T10:15:02 ", "2025-03-04T10:15:40 ", "2025-03-04T10:16:05 "),
     "2025-03-04T10:15:02+09:00", "2025-03-04T01:15:02Z"),
    ("iso_bracketed", ("[2025-03-04T10:15:02+09:00] ", "[2025-03-04T10:15:40+09:00] ", "[2025-03-04T10:16:05+09:00] "),
     "2025-03-04T10:15:02+09:00", "2025-03-04T01:15:02Z"),
    ("japanese_date", ("2025年3月4日 10:15 ", "2025年3月4日 10:15 ", "2025年3月4日 10:16 "),
     "2025-03-04T10:15:00+09:00", "2025-03-04T01:15:00Z"),
    ("japanese_date_weekday", ("2025年3月4日(火) 10:15 ", "2025年3月4日(火) 10:15 ", "2025年3月4日(火) 10:16 "),
     "2025-03-04T10:15:00+09:00", "2025-03-04T01:15:00Z"),
    ("japanese_date_bracketed", ("[2025年3月4日 10:15] ", "[2025年3月4日 10:15] ", "[2025年3月4日 10:16] "),
     "2025-03-04T10:15:00+09:00", "2025-03-04T01:15:00Z"),
    ("fullwidth_time", ("［１０：１５］ ", "［１０：１５］ ", "［１０：１６］ "), None, None),
    ("fullwidth_date_time", ("２０２５／０３／０４ １０：１５ ", "２０２５／０３／０４ １０：１５ ", "２０２５／０３／０４ １０：１６ "),
     "2025-03-04T10:15:00+09:00", "2025-03-04T01:15:00Z"),
)


@pytest.mark.parametrize(
    "prefixes,local,utc", [c[1:] for c in TIME_FORMAT_CASES], ids=[c[0] for c in TIME_FORMAT_CASES]
)
def test_time_formats(tmp_path: Path, prefixes: tuple[str, str, str], local: str | None, utc: str | None) -> None:
    a, b, c = prefixes
    path = tmp_path / "log.txt"
    path.write_text(f"{a}オペレーター：お待たせいたしました。\n{b}お客様：遅い。今から店に行って火をつけてやる。\n"
                    f"{c}オペレーター：落ち着いてください。\n", encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [(r.author_role, r.status) for r in recs] == [
        ("agent", "not_scored"), ("customer", "ok"), ("agent", "not_scored")]
    assert recs[1].body_text == "遅い。今から店に行って火をつけてやる。"
    assert len({r.conversation_id for r in recs}) == 1
    assert (recs[0].timestamp_local, recs[0].timestamp_utc) == (local, utc)
    if local is None:  # a time without a date is kept as seconds since midnight
        assert recs[0].extra["clock_seconds"] == 10 * 3600 + 15 * 60


def test_iso_offset_is_not_assumed_jst() -> None:
    (rec,) = [r for r in parse_transcript("2025-03-04T10:15:02Z 顧客: 金返せ\n2025-03-04T10:16:02Z 担当: はい\n",
                                          source_file="t.txt") if r.author_role == "customer"]
    assert rec.timestamp_utc == "2025-03-04T10:15:02Z" and rec.timestamp_assumed_tz is False


def test_unrecognised_turns_are_warned_about(tmp_path: Path) -> None:
    """A log whose lines all carry times but no turn could be read is one message, and says so."""
    path = tmp_path / "log.txt"
    path.write_text("10時15分 オペレーター お待たせしました\n10時16分 お客様 ふざけるな\n10時17分 オペレーター 失礼しました\n",
                    encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.source_format == "text" and "transcript-turns-not-found" in rec.decode_warnings


# Text before the first speaker line.  (case id, transcript, [(role, body, locator)] expected)
PREAMBLE_CASES = (
    (
        "unprefixed_first_line",
        "お前の顔は覚えたからな、帰り道に気をつけろ\n[10:15] オペレーター: 大変申し訳ございません。\n"
        "[10:16] オペレーター: 確認いたします。\n",
        [("unknown", "お前の顔は覚えたからな、帰り道に気をつけろ", "line 1"),
         ("agent", "大変申し訳ございません。", "line 2"), ("agent", "確認いたします。", "line 3")],
    ),
    (
        "call_memo_preamble",
        "入電直後から怒鳴り声。「帰り道に気をつけろ」と言われた。\n\n13:40 お客様「責任者を出せ」\n13:41 係「少々お待ちください」\n",
        [("unknown", "入電直後から怒鳴り声。「帰り道に気をつけろ」と言われた。", "line 1"),
         ("customer", "「責任者を出せ」", "line 3"), ("agent", "「少々お待ちください」", "line 4")],
    ),
    (
        "two_line_preamble",
        "記録：佐藤\n殺すぞと言われた\n[10:15] お客様：まだ？\n[10:16] オペレーター：確認します\n",
        [("unknown", "記録：佐藤\n殺すぞと言われた", "lines 1-2"),
         ("customer", "まだ？", "line 3"), ("agent", "確認します", "line 4")],
    ),
    (
        "blank_lines_only_before",
        "\n\n[10:15] お客様：まだ？\n[10:16] オペレーター：確認します\n",
        [("customer", "まだ？", "line 3"), ("agent", "確認します", "line 4")],
    ),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in PREAMBLE_CASES], ids=[c[0] for c in PREAMBLE_CASES])
def test_text_before_the_first_turn_is_kept(tmp_path: Path, text: str, expected: list) -> None:
    path = tmp_path / "memo.txt"
    path.write_text(text, encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [(r.author_role, r.body_text, r.source_locator) for r in recs] == expected
    first = 0 if expected[0][0] == "unknown" else 1  # a preamble comes before turn 1
    assert [r.sequence for r in recs] == list(range(first, first + len(recs)))
    if expected[0][0] == "unknown":
        assert recs[0].status == "ok" and recs[0].extra.get("preamble") is True
        assert recs[0].role_basis == "text before the first speaker line"


# Files with the same name in different folders (one folder per day) are different conversations.
# (case id, file name, content)
SAME_NAME_CASES = (
    ("timed_transcript", "chat.txt", "[10:00] お客様：配送日を変更できますか。\n[10:02] オペレーター：はい、変更できます。\n"),
    ("line_export", "talk.txt", "[LINE] 山田とのトーク履歴\n2026/11/04(水)\n10:15\t山田\tまだですか\n10:16\tサポート\t確認します\n"),
    ("role_words_only", "memo.txt", "お客様：配送日を変更できますか。\n担当：はい、変更できます。\n"),
    ("plain_text", "memo.txt", "配送日を変更したいです。\n"),
    ("json_turns", "chat.json", json.dumps([{"role": "user", "content": "配送日を変更できますか。"},
                                            {"role": "assistant", "content": "はい、変更できます。"}], ensure_ascii=False)),
    ("json_messages", "chat.json", json.dumps({"messages": [{"role": "user", "content": "まだですか"}]}, ensure_ascii=False)),
)


@pytest.mark.parametrize("name,content", [c[1:] for c in SAME_NAME_CASES], ids=[c[0] for c in SAME_NAME_CASES])
def test_same_file_name_in_two_folders_is_two_conversations(tmp_path: Path, name: str, content: str) -> None:
    for day in ("2026-11-04", "2026-11-05"):
        (tmp_path / "logs" / day).mkdir(parents=True)
        (tmp_path / "logs" / day / name).write_text(content, encoding="utf-8")
    recs = list(read_records([str(tmp_path / "logs")]))
    by_file: dict[str, list] = {}
    for r in recs:
        by_file.setdefault(r.source_file, []).append(r)
    assert len(by_file) == 2 and all(r.status in ("ok", "not_scored") for r in recs)
    assert len({r.record_id for r in recs}) == len(recs)  # record ids are unique across the two files
    conversations = [{r.conversation_id for r in file_recs} for file_recs in by_file.values()]
    if conversations[0] != {None}:
        assert not conversations[0] & conversations[1]  # never one merged conversation
    for path, file_recs in by_file.items():
        day = Path(path).parent.name
        assert all(day in r.record_id for r in file_recs)  # readable: the id says which file
        assert all(day in (r.conversation_id or day) for r in file_recs)
    again = [(r.record_id, r.conversation_id) for r in read_records([str(tmp_path / "logs")])]
    assert again == [(r.record_id, r.conversation_id) for r in recs]  # stable from one run to the next


def test_file_in_the_working_folder_keeps_its_name_as_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("chat.txt").write_text("[10:00] お客様：まだですか\n[10:01] オペレーター：確認します\n", encoding="utf-8")
    recs = list(read_records(["chat.txt"]))
    assert [(r.record_id, r.conversation_id) for r in recs] == [("chat.txt:1", "chat.txt"), ("chat.txt:2", "chat.txt")]


# Clock times without a date give elapsed seconds from the first shown time (a day added when the clock
# goes back), never an absolute timestamp.  (case id, shown times, expected elapsed seconds, rollover flags)
ELAPSED_CASES = (
    ("same_day", ("10:00", "10:02", "13:30"), (0, 120, 12600), (False, False, False)),
    ("across_midnight", ("23:50", "23:59", "00:10"), (0, 540, 1200), (False, False, True)),
    ("seconds_shown", ("09:59:30", "10:00:15", "10:01:00"), (0, 45, 90), (False, False, False)),
    ("twelve_hour", ("午後11:50", "午前0:05", "午前0:20"), (0, 900, 1800), (False, True, False)),
)


@pytest.mark.parametrize("times,elapsed,rollover", [c[1:] for c in ELAPSED_CASES], ids=[c[0] for c in ELAPSED_CASES])
def test_undated_clock_times_give_elapsed_seconds(times: tuple[str, ...], elapsed: tuple[int, ...],
                                                  rollover: tuple[bool, ...]) -> None:
    speakers = ("お客様", "オペレーター", "お客様")
    text = "".join(f"[{t}] {who}：本文{i}\n" for i, (t, who) in enumerate(zip(times, speakers)))
    recs = list(parse_transcript(text, source_file="t.txt"))
    assert [r.extra.get("elapsed_seconds") for r in recs] == list(elapsed)
    assert [bool(r.extra.get("day_rollover")) for r in recs] == list(rollover)
    assert all(r.timestamp_utc is None and r.timestamp_local is None for r in recs)
    assert all(r.channel == "chat" and "offset_seconds" not in r.extra for r in recs)
