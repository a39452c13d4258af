"""Hostile and odd inputs reach the scorer repaired or reported, never crashing a run or garbling it silently.

Real bytes in real encodings: lone UTF-16 surrogates from JSON escapes (an emoji cut in half by a chat
widget), small UTF-8 exports with one row pasted from a Shift_JIS system, and input lists with a path
that is missing or cannot be opened.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.cli import EXIT_DATA_ERRORS, main
from kasuhara_nlp.errors import InputFormatError
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.readers import read_records
from kasuhara_nlp.scan import predict_conversation, run_scan

_HARASS = "ふざけるな、土下座しろ"


@pytest.fixture(scope="module")
def clf(baseline_dir):
    return KasuharaClassifier.from_pretrained(baseline_dir, thresholds={c: 0.5 for c in CATEGORIES})


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


# --- lone surrogates ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "escape",
    [
        "\\ud83d",  # the high half of 😀 (U+1F600), its low half cut off
        "\\ude00",  # the low half alone
        "\\udc4d",  # the low half of 👍 (U+1F44D): the range the reader's own byte escapes use
        "\\udbff\\udbff",  # two high halves
    ],
)
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_json_escaped_lone_surrogate_is_repaired_and_the_message_scored(tmp_path, escape, fmt):
    line = '{"id": "cut", "text": "ふざけるな%s 早く返金しろ", "name": "山田%s"}' % (escape, escape)
    if fmt == "jsonl":
        path = _jsonl(tmp_path / "in.jsonl", ['{"id": "a", "text": "配送状況を教えてください"}', line])
    else:
        path = tmp_path / "in.json"
        path.write_bytes(f'[{{"id": "a", "text": "配送状況を教えてください"}}, {line}]'.encode())
    recs = list(read_records([str(path)]))
    cut = recs[-1]
    n = escape.count("\\u")
    assert [r.status for r in recs] == ["ok", "ok"]
    assert cut.body_text == f"ふざけるな{chr(0xFFFD) * n} 早く返金しろ"
    assert f"lone-surrogates:{2 * n}" in cut.decode_warnings  # in the text and in the name
    assert cut.author_name is None or "\ufffd" in cut.author_name
    cut.body_text.encode("utf-8")  # no surrogate left anywhere the scorer or the writer looks
    cut.text_to_score.encode("utf-8")
    assert recs[0].decode_warnings == []


def test_undecodable_bytes_in_a_json_line_are_still_an_error(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes('{"id": "a", "text": "配送状況"}\n'.encode() + b'{"id": "b", "text": "\xff\xfe bad"}\n')
    recs = list(read_records([str(path)]))
    assert [r.status for r in recs] == ["ok", "error"]
    assert "in.jsonl line 2" in recs[1].reason and "undecodable bytes" in recs[1].reason


@pytest.mark.parametrize("text", ["返金しろ\ud800", "\udfff殺すぞ", "土下座\udc81しろ"])
def test_a_library_caller_text_with_a_lone_surrogate_is_scored(clf, text):
    result = predict_conversation(clf, [{"text": text, "role": "customer"}, {"text": "確認します", "role": "agent"}])
    first = result["messages"][0]
    assert first["status"] == "ok"
    assert "\ufffd" in first["text"]
    json.dumps(result, ensure_ascii=False).encode("utf-8")


def test_a_scan_with_a_cut_emoji_writes_every_record(tmp_path, clf):
    rows = [json.dumps({"id": f"m{i}", "text": f"注文番号{i}の配送状況を教えてください。"}, ensure_ascii=False)
            for i in range(5)]
    rows.insert(2, '{"id": "cut\\ud83d", "text": "ふざけるな\\ud83d 早く返金しろ"}')
    out = tmp_path / "out.jsonl"
    summary = run_scan([str(_jsonl(tmp_path / "in.jsonl", rows))], str(out), clf)
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.records == 6 and [r["status"] for r in results] == ["ok"] * 6
    assert results[2]["id"] == "cut\ufffd" and "lone-surrogates:2" in results[2]["decode_warnings"]


# --- a small UTF-8 export with one CP932 row ---------------------------------------------------

@pytest.mark.parametrize(
    ("good", "pasted"),
    [
        ("ひみつのほんぶん 正常", "返金しろ"),
        ("配送はいつですか", "返金しろ"),
        (_HARASS, "返金しろ"),
        ("お前の家に行くぞ", "責任者を出せ"),
        ("注文した商品が届かない", "ふざけるな"),
        ("ﾊﾝｶｸｶﾅの問い合わせ", "①の件で㈱髙橋から"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_one_cp932_row_in_a_small_utf8_file_is_read_as_cp932_and_marked(tmp_path, good, pasted, fmt):
    if fmt == "csv":
        data = (b"id,text\nu1," + good.encode() + b"\nu2," + pasted.encode("cp932")
                + b"\nu3," + good.encode() + b"\n")
    else:
        def row(rid: str, text: bytes) -> bytes:
            return b'{"id": "' + rid.encode() + b'", "text": "' + text + b'"}\n'
        data = row("u1", good.encode()) + row("u2", pasted.encode("cp932")) + row("u3", good.encode())
    path = tmp_path / f"small.{fmt}"
    path.write_bytes(data)
    recs = list(read_records([str(path)]))
    assert [(r.record_id, r.body_text, r.status) for r in recs] == [
        ("u1", good, "ok"), ("u2", pasted, "ok"), ("u3", good, "ok")]
    assert [r.decode_warnings for r in recs] == [[], ["row-decoded-as:cp932"], []]


def test_a_damaged_row_in_a_small_utf8_file_is_an_error_and_the_others_stay_utf8(tmp_path):
    path = tmp_path / "small.csv"
    path.write_bytes(b"id,text\nu1," + _HARASS.encode() + b"\nu2,\xff\xfe\xfd\xfc\nu3," + _HARASS.encode() + b"\n")
    recs = list(read_records([str(path)]))
    assert [(r.body_text, r.status) for r in recs][::2] == [(_HARASS, "ok"), (_HARASS, "ok")]
    assert recs[1].status == "error" and "small.csv line 3" in recs[1].reason


def test_a_cp932_file_with_one_utf8_row_reads_both(tmp_path):
    path = tmp_path / "sjis.csv"
    path.write_bytes("id,本文\r\n1,返金しろ\r\n".encode("cp932") + f"2,{_HARASS}\r\n".encode()
                     + "3,①㈱髙橋\r\n".encode("cp932"))
    recs = list(read_records([str(path)]))
    assert [r.body_text for r in recs] == ["返金しろ", _HARASS, "①㈱髙橋"]
    assert [r.decode_warnings for r in recs] == [["row-decoded-as:cp932"], [], ["row-decoded-as:cp932"]]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_a_file_in_one_encoding_is_read_as_before(tmp_path, encoding):
    path = tmp_path / "one.csv"
    path.write_bytes(f"id,text\n1,{_HARASS}\n2,①㈱髙橋 ﾊﾝｶｸ\n".encode(encoding))
    recs = list(read_records([str(path)]))
    assert [(r.body_text, r.decode_warnings) for r in recs] == [(_HARASS, []), ("①㈱髙橋 ﾊﾝｶｸ", [])]


def test_a_transcript_with_a_cp932_line_is_not_garbled(tmp_path):
    path = tmp_path / "memo.txt"
    path.write_bytes(f"[10:15] お客様：{_HARASS}\n".encode() + "[10:16] オペレーター：確認します\n".encode("cp932"))
    recs = list(read_records([str(path)]))
    assert [r.body_text for r in recs] == [_HARASS, "確認します"]
    assert "mixed-encoding:utf-8+cp932" in recs[0].decode_warnings


# --- a missing or unopenable path in the input list ---------------------------------------------

def _csv(path: Path, *texts: str) -> str:
    path.write_text("id,text\n" + "".join(f"{path.stem}{i},{t}\n" for i, t in enumerate(texts)), encoding="utf-8")
    return str(path)


def test_a_missing_path_becomes_an_error_record_and_later_inputs_are_read(tmp_path):
    first, last = _csv(tmp_path / "a.csv", _HARASS), _csv(tmp_path / "c.csv", "配送はいつですか")
    dangling = tmp_path / "link.csv"
    dangling.symlink_to(tmp_path / "gone.csv")
    missing = str(tmp_path / "does-not-exist.csv")
    recs = list(read_records([first, missing, str(dangling), last]))
    assert [(r.record_id, r.status) for r in recs] == [
        ("a0", "ok"), (missing, "error"), (str(dangling), "error"), ("c0", "ok")]
    assert recs[1].reason.startswith(f"{missing} path: no such file or folder; check the path")
    assert recs[2].reason.startswith(f"{dangling} path: cannot open (No such file or directory)")


def test_a_scan_with_a_missing_path_counts_it_and_exits_1(tmp_path, baseline_dir, capsys):
    first, last = _csv(tmp_path / "a.csv", _HARASS), _csv(tmp_path / "c.csv", "配送はいつですか")
    missing = str(tmp_path / "does-not-exist.csv")
    out = tmp_path / "out.jsonl"
    code = main(["scan", first, missing, last, "-o", str(out), "--model", str(baseline_dir)])
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == EXIT_DATA_ERRORS
    assert [(r["id"], r["status"]) for r in results] == [("a0", "ok"), (missing, "error"), ("c0", "ok")]
    assert "records: 3  error: 1  ok: 2" in capsys.readouterr().err


def test_a_scan_none_of_whose_inputs_opens_writes_nothing(tmp_path, clf):
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputFormatError, match="no such file or folder"):
        run_scan([str(tmp_path / "x.csv"), str(tmp_path / "y.csv")], str(out), clf)
    assert not out.exists() and not os.path.exists(str(out) + ".partial")


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_one_path_not_in_a_list_is_read_as_that_file(tmp_path, as_path):
    # A bare string used to be iterated character by character: "/" read the whole disk.
    path = tmp_path / "inbox.csv"
    path.write_text("id,text\n1,返金してください\n", encoding="utf-8")
    recs = list(read_records(as_path(path)))
    assert [(r.record_id, r.status) for r in recs] == [("1", "ok")]
