"""Analyst decisions -> corrections JSONL -> data/SCHEMA.md training records, and `kasuhara feedback`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from kasuhara_nlp.cli import main
from kasuhara_nlp.data import read_labelled
from kasuhara_nlp.errors import InputFormatError, LabelError
from kasuhara_nlp.feedback import (corrections_to_training, read_corrections, record_decision, record_decisions,
                                   text_hash)

REPO = Path(__file__).resolve().parent.parent

FLAGGED = {"id": "m1", "kind": "message", "status": "ok", "labels": ["abuse"], "severity": 2,
           "text": "お前は無能だ。二度と電話に出るな。", "model": "kasuhara-baseline", "model_version": "0.1.0",
           "channel": "phone_transcript", "conversation_id": None}
LEGIT = dict(FLAGGED, id="m2", labels=["restraint"], severity=1, text="夜でもいいので折り返してください。",
             channel="chat")
MISSED = dict(FLAGGED, id="m3", labels=[], severity=0, text="店の前で待ってるから連絡先教えて。", channel="odd")


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (FLAGGED, LEGIT, MISSED)),
                    encoding="utf-8")
    return path


def test_decisions_are_validated(tmp_path: Path) -> None:
    c = tmp_path / "c.jsonl"
    with pytest.raises(LabelError, match="decision must be one of"):
        record_decision(c, FLAGGED, "maybe")
    with pytest.raises(LabelError, match="wrong_category"):
        record_decision(c, FLAGGED, "agree", labels=["demand"])
    with pytest.raises(LabelError, match="needs the corrected labels"):
        record_decision(c, FLAGGED, "wrong_category")
    with pytest.raises(LabelError, match="severity"):
        record_decision(c, MISSED, "wrong_category", labels=["other_harassment"])
    with pytest.raises(LabelError, match="takes no labels"):
        record_decision(c, FLAGGED, "not_harassment", labels=["abuse"])
    with pytest.raises(LabelError, match="not on this page"):
        record_decisions(c, [FLAGGED], {3: ("agree", None, None)})
    assert not c.exists()


def test_record_and_read_decisions(tmp_path: Path) -> None:
    c = tmp_path / "out" / "c.jsonl"
    e = record_decision(c, FLAGGED, "agree", analyst="sato", comment="clear insult")
    assert (e["labels"], e["severity"], e["analyst"], e["text_sha256"]) == (["abuse"], 2, "sato",
                                                                            text_hash(FLAGGED["text"]))
    assert "text" not in e and FLAGGED["text"] not in c.read_text(encoding="utf-8")  # no message text stored
    record_decision(c, FLAGGED, "wrong_category", labels=["abuse", "demand"], analyst="suzuki")
    assert len(read_corrections(c, latest_only=False)) == 2
    latest = read_corrections(c)
    assert len(latest) == 1 and latest[0]["analyst"] == "suzuki"  # the latest decision wins


def test_bad_corrections_name_the_line(tmp_path: Path, results: Path) -> None:
    c = tmp_path / "c.jsonl"
    c.write_text('{"result_id": "m1", "decision": "agree", "labels": ["abuse"], "severity": 0}\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match="c.jsonl:1"):
        read_corrections(c)
    with pytest.raises(InputFormatError, match="record_decision"):
        read_corrections(tmp_path / "none.jsonl")


def test_corrections_to_training_records(tmp_path: Path, results: Path) -> None:
    c = tmp_path / "c.jsonl"
    record_decisions(c, [FLAGGED, LEGIT, MISSED], {0: ("agree", None, None), 1: ("not_harassment", None, None),
                                                   2: ("wrong_category", ["other_harassment"], 2)}, analyst="sato")
    out = tmp_path / "train.jsonl"
    assert corrections_to_training(c, results, out) == 3
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_id = {r["provenance"]["result_id"]: r for r in recs}
    assert by_id["m1"]["labels"] == ["abuse"] and by_id["m1"]["channel"] == "phone"
    assert by_id["m2"]["labels"] == [] and by_id["m2"]["hard_negative"] is True and by_id["m2"]["severity"] == 0
    assert by_id["m3"]["labels"] == ["other_harassment"] and by_id["m3"]["hard_negative"] is False
    assert by_id["m3"]["channel"] == "web_form" and by_id["m3"]["provenance"]["channel"] == "odd"
    for r in recs:
        assert r["source"] == "analyst_feedback"
        assert "sato" in r["notes"] and "kasuhara-baseline 0.1.0" in r["notes"] and "results.jsonl" in r["notes"]
        assert r["provenance"]["decided_at"] and r["provenance"]["model"] == "kasuhara-baseline"
    # Loadable as labelled data, and valid for the corpus checker.
    assert [m.labels for m in read_labelled(out)] == [r["labels"] for r in recs]
    spec = importlib.util.spec_from_file_location("check_records", REPO / "data" / "tools" / "check_records.py")
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    assert checker.check([str(out)]) == 0


def test_results_must_match_the_decisions(tmp_path: Path, results: Path) -> None:
    c = tmp_path / "c.jsonl"
    record_decision(c, dict(FLAGGED, text="別の本文"), "agree")
    with pytest.raises(InputFormatError, match="differs from the one the analyst saw"):
        corrections_to_training(c, results, tmp_path / "o.jsonl")
    c2 = tmp_path / "c2.jsonl"
    record_decision(c2, dict(FLAGGED, id="zzz"), "agree")
    with pytest.raises(InputFormatError, match="'zzz' is not in"):
        corrections_to_training(c2, results, tmp_path / "o.jsonl")


def test_cli_feedback(tmp_path: Path, results: Path, capsys) -> None:
    c = tmp_path / "c.jsonl"
    record_decision(c, FLAGGED, "agree", analyst="sato")
    out = tmp_path / "fb.jsonl"
    assert main(["feedback", str(c), "--results", str(results), "-o", str(out)]) == 0
    assert "training records written: 1" in capsys.readouterr().err
    assert json.loads(out.read_text(encoding="utf-8"))["source"] == "analyst_feedback"
    assert main(["feedback", str(c), "--results", str(tmp_path / "missing.jsonl"), "-o", str(out)]) == 3
    assert main(["feedback", str(c), "-o", str(out)]) == 2  # --results is required


def test_decisions_on_two_exports_with_the_same_row_ids_stay_apart(tmp_path: Path) -> None:
    # One scan over two CSV exports: both have a row "1". A decision is on one message, not on an id.
    a = dict(FLAGGED, id="1", source_file="store_a.csv")
    b = dict(LEGIT, id="1", source_file="store_b.csv")
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (a, b)), encoding="utf-8")
    c = tmp_path / "c.jsonl"
    record_decision(c, a, "agree", analyst="sato")
    record_decision(c, b, "not_harassment", analyst="sato")
    assert [d["decision"] for d in read_corrections(c)] == ["agree", "not_harassment"]
    out = tmp_path / "fb.jsonl"
    assert corrections_to_training(c, results, out) == 2
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["text"], r["labels"]) for r in records] == [(a["text"], ["abuse"]), (b["text"], [])]
    assert records[0]["id"] != records[1]["id"]

    # A decision written before decisions named their message cannot say which "1" it meant.
    old = tmp_path / "old.jsonl"
    entry = json.loads(c.read_text(encoding="utf-8").splitlines()[0])
    del entry["result_ref"]
    old.write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="'1' is in .* 2 times"):
        corrections_to_training(old, results, out)
