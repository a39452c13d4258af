"""The output contract of scanning: one result per input record, in order, with the documented fields."""

import csv
import json

import pytest

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.records import SCHEMA_VERSION, STATUSES
from kasuhara_nlp.scan import CSV_COLUMNS, ScanOptions, run_scan, scan, scan_records

CONTRACT_FIELDS = {"id", "kind", "status", "reason", "flagged", "labels", "scores", "severity", "evidence",
                   "text", "model", "model_version", "schema_version"}


@pytest.fixture(scope="module")
def clf(baseline_dir):
    # Thresholds tuned on the tiny dev set sit just below its (memorised) positives; use 0.5.
    return KasuharaClassifier.from_pretrained(baseline_dir, thresholds={c: 0.5 for c in CATEGORIES})


def _rows(tmp_path):
    p = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "text": "土下座して謝れ。お前は本当に無能だな。"},
        {"id": "b", "text": "商品が届きません。確認してください。"},
        {"id": "c", "text": ""},
        {"id": "d", "text": 12345},
        {"id": "e", "text": "連絡先は taro@example.com、090-1234-5678です。土下座して謝れ。"},
    ]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{broken json\n",
                 encoding="utf-8")
    return p


def test_one_result_per_record_in_order(tmp_path, clf):
    results = list(scan([str(_rows(tmp_path))], clf))
    assert [r["id"] for r in results[:5]] == ["a", "b", "c", "d", "e"]
    assert len(results) == 6
    for r in results:
        assert CONTRACT_FIELDS <= set(r)
        assert r["status"] in STATUSES
        assert r["schema_version"] == SCHEMA_VERSION
        assert r["kind"] == "message"
    ok = [r for r in results if r["status"] == "ok"]
    assert {r["id"] for r in ok} == {"a", "b", "e"}
    for r in ok:
        assert set(r["scores"]) == set(CATEGORIES)
        assert r["flagged"] == bool(r["labels"]) == (r["severity"] >= 1)
        assert r["model"] == "kasuhara-baseline"
    bad = [r for r in results if r["status"] != "ok"]
    assert all(r["reason"] and "in.jsonl" in r["reason"] for r in bad)
    assert any("line 6" in r["reason"] for r in bad)


def test_flagged_message_has_evidence_pointing_into_text(tmp_path, clf):
    a = next(r for r in scan([str(_rows(tmp_path))], clf) if r["id"] == "a")
    assert a["flagged"] and a["evidence"]
    for e in a["evidence"]:
        assert a["text"][e["start"]:e["end"]] == e["text"]
        assert e["label"] in a["labels"]


def test_pii_is_masked_by_default_and_offsets_remapped(tmp_path, clf):
    e = next(r for r in scan([str(_rows(tmp_path))], clf) if r["id"] == "e")
    assert "taro@example.com" not in e["text"] and "090-1234-5678" not in e["text"]
    assert "[メール]" in e["text"] and "[電話]" in e["text"]
    for ev in e["evidence"]:
        assert e["text"][ev["start"]:ev["end"]] == ev["text"]
    raw = next(r for r in scan([str(_rows(tmp_path))], clf, ScanOptions(mask_pii=False)) if r["id"] == "e")
    assert "taro@example.com" in raw["text"]


def test_csv_output_flattens_the_contract(tmp_path, clf):
    out = tmp_path / "out.csv"
    summary = run_scan([str(_rows(tmp_path))], str(out), clf)
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == summary.records == 6
    a = rows[0]
    assert a["labels"].split("|") == json.loads(json.dumps(sorted(a["labels"].split("|"), key=CATEGORIES.index)))
    assert float(a["score_demand"]) > 0.5
    assert json.loads(a["evidence"])
    assert summary.by_status["ok"] == 3 and summary.by_status["error"] >= 1


def test_summary_counts(tmp_path, clf):
    summary = run_scan([str(_rows(tmp_path))], str(tmp_path / "o.jsonl"), clf)
    d = summary.to_dict()
    assert d["records"] == 6
    assert sum(d["by_status"].values()) == 6
    assert d["by_format"] == {"jsonl": 6}
    assert d["alerts_per_1000"] == pytest.approx(1000 * d["flagged_messages"] / 3, abs=0.01)


def test_predict_conversation_adds_thread_signals(clf):
    from kasuhara_nlp.records import MessageRecord

    caller_record = MessageRecord(record_id="t3", body_text="返金してください。今すぐ。", text_to_score="返金してください。今すぐ。",
                                  author_role="customer", timestamp_utc="2026-11-03T01:06:00Z")
    # The same request after each of three answers: persistent, so it counts whatever the model says.
    turns = []
    for minute in (0, 1, 2):
        turns += [{"role": "customer", "text": "返金してください。", "timestamp": f"2026-11-03T10:0{minute}:00+09:00"},
                  {"role": "agent", "text": "規定により返金はできかねます。", "timestamp": f"2026-11-03T10:0{minute}:30+09:00"}]
    result = clf.predict_conversation(turns + [caller_record], conversation_id="c1")
    assert result["kind"] == "conversation" and result["id"] == "c1"
    assert [m["status"] for m in result["messages"]] == ["ok", "not_scored"] * 3 + ["ok"]
    assert [s["type"] for s in result["signals"]] == ["repeated_demand"] * 3
    assert "demand" in result["labels"]
    assert caller_record.conversation_id is None  # the caller's record is not changed


def test_a_file_without_a_text_column_does_not_stop_the_run(tmp_path, clf):
    # QA F7: three files, the middle one without a text column; the run used to stop with nothing written.
    first, bad, last = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.jsonl"
    first.write_text("id,本文\n1,返金しろ\n2,まだか\n", encoding="utf-8")
    bad.write_text("id,free_note\n1,こんにちは\n", encoding="utf-8")
    last.write_text('{"id": "j1", "text": "届かない"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = run_scan([str(first), str(bad), str(last)], str(out), clf, ScanOptions(conversations=False))
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["status"]) for r in results] == [("1", "ok"), ("2", "ok"), ("b.csv:1", "error"), ("j1", "ok")]
    assert "b.csv line 1" in results[2]["reason"] and "--text-field" in results[2]["reason"]
    assert summary.by_status == {"ok": 3, "error": 1}


def test_results_read_before_an_input_fails_are_kept(clf):
    # A reader that raises part-way (a missing path, an unknown encoding) must not take the results
    # already read with it: they are scored and yielded before the error goes on.
    from kasuhara_nlp.errors import InputFormatError
    from kasuhara_nlp.records import MessageRecord

    def records():
        yield MessageRecord(record_id="a", body_text="返金しろ", text_to_score="返金しろ")
        yield MessageRecord(record_id="b", body_text="まだですか", text_to_score="まだですか")
        raise InputFormatError("no such file or folder; check the path", path="missing.csv")

    got = []
    with pytest.raises(InputFormatError):
        for result in scan_records(records(), clf, ScanOptions(batch_size=64)):
            got.append(result)
    assert [r["id"] for r in got] == ["a", "b"] and all(r["status"] == "ok" for r in got)
