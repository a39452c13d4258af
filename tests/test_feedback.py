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


# -- one corrections log over several scans; conflicting decisions --------------------

def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _checker():
    spec = importlib.util.spec_from_file_location("check_records", REPO / "data" / "tools" / "check_records.py")
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    return checker


def test_cli_feedback_joins_one_corrections_log_with_several_scans(tmp_path: Path, capsys) -> None:
    week1 = _write(tmp_path / "week1.jsonl", [dict(FLAGGED, id="W1-1", source_file="week1.csv"),
                                              dict(LEGIT, id="W1-2", source_file="week1.csv")])
    week2 = _write(tmp_path / "week2.jsonl", [dict(MISSED, id="W2-1", source_file="week2.csv")])
    w1, w2 = _rows(week1), _rows(week2)
    c = tmp_path / "corrections.jsonl"  # the append-only audit log, week after week
    record_decision(c, w1[0], "agree", analyst="sato")
    record_decision(c, w1[1], "not_harassment", analyst="sato")
    record_decision(c, w2[0], "wrong_category", labels=["other_harassment"], severity=2, analyst="tanaka")
    out = tmp_path / "fb.jsonl"
    assert main(["feedback", str(c), "--results", str(week1), str(week2), "-o", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["provenance"]["result_id"], r["provenance"]["results_file"], r["labels"]) for r in records] == [
        ("W1-1", "week1.jsonl", ["abuse"]), ("W1-2", "week1.jsonl", []), ("W2-1", "week2.jsonl", ["other_harassment"])]
    assert _checker().check([str(out)]) == 0
    capsys.readouterr()

    # A decision on a scan that was not given is reported with its file and line; the others still go out.
    assert main(["feedback", str(c), "--results", str(week2), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{c}:1: result 'W1-1' is not in {week2}" in err and f"{c}:2: result 'W1-2'" in err
    assert "problems: 2" in err and "training records written: 1" in err
    assert [json.loads(line)["provenance"]["result_id"] for line in out.read_text(encoding="utf-8").splitlines()] \
        == ["W2-1"]


def test_cli_feedback_reports_conflicting_decisions(tmp_path: Path, capsys) -> None:
    results = _write(tmp_path / "week1.jsonl", [dict(LEGIT, id="W1-2", source_file="week1.csv"),
                                                dict(FLAGGED, id="W1-1", source_file="week1.csv")])
    legit, flagged = _rows(results)
    c = tmp_path / "corrections.jsonl"
    record_decision(c, legit, "wrong_category", labels=["abuse"], severity=1, analyst="sato")
    record_decision(c, flagged, "agree", analyst="sato")
    record_decision(c, flagged, "agree", analyst="suzuki")  # the same labels again: no conflict
    record_decision(c, legit, "wrong_category", labels=["abuse"], severity=2, analyst="tanaka")
    out = tmp_path / "fb.jsonl"
    assert main(["feedback", str(c), "--results", str(results), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 message(s) with conflicting decisions" in err
    conflict_line = next(line for line in err.splitlines() if "'W1-2'" in line)
    assert f"{c}:1 (sato" in conflict_line and f"{c}:4 (tanaka" in conflict_line and f"kept {c}:4" in conflict_line
    assert "'W1-1'" not in err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["provenance"]["result_id"], r["severity"]) for r in records) == [("W1-1", 2), ("W1-2", 2)]


def test_a_message_decided_on_two_scans_gives_one_record(tmp_path: Path) -> None:
    # The same message, scanned again by a newer model and decided on again: the corrections of both
    # scans together give one record, from the latest decision, and the disagreement is listed.
    from kasuhara_nlp.feedback import build_training

    first = _write(tmp_path / "scan.jsonl", [dict(LEGIT, id="7", source_file="inbox.csv")])
    again = _write(tmp_path / "rescan.jsonl", [dict(LEGIT, id="7", source_file="inbox.csv",
                                                    model="kasuhara-bert-ja", model_version="1.4.0")])
    c1, c2 = tmp_path / "corrections.jsonl", tmp_path / "corrections_rescan.jsonl"
    record_decision(c1, _rows(first)[0], "wrong_category", labels=["abuse"], severity=2,
                    analyst="tanaka")
    entry = record_decision(c2, _rows(again)[0], "not_harassment", analyst="suzuki")
    summary = build_training([c1, c2], [first, again])
    assert not summary.problems and summary.decisions == 2
    assert len(summary.records) == 1 and summary.records[0]["labels"] == []
    assert summary.records[0]["provenance"]["model_version"] == "1.4.0"  # the output the analyst looked at
    (conflict,) = summary.conflicts
    assert [(d.path, d.line, d.analyst) for d in conflict.decisions] == [(str(c1), 1, "tanaka"), (str(c2), 1, "suzuki")]
    assert conflict.kept.analyst == "suzuki" == entry["analyst"]
    # The latest decided_at wins, whichever file it is in.
    older = dict(json.loads(c2.read_text(encoding="utf-8")), decided_at="2020-01-01T00:00:00+00:00")
    _write(c2, [older])
    assert build_training([c1, c2], [first, again]).records[0]["labels"] == ["abuse"]
    out = tmp_path / "fb.jsonl"
    with pytest.warns(UserWarning, match="conflicting decisions"):
        assert corrections_to_training([c1, c2], [first, again], out) == 1
    assert _checker().check([str(out)]) == 0


# -- staff reports, the other labelled examples that join training ----------------------------

def test_staff_report_examples_pass_the_record_checker_by_default(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('state_dir = "state"\nstaff_reports_path = "sr.jsonl"\n', encoding="utf-8")
    # No --channel: the default must be a data/SCHEMA.md channel.
    assert main(["report-message", "毎日閉店後に電話してきて、出るまで何十回もかけてくる。", "--staff", "山田 花子",
                 "--category", "restraint", "--severity", "2", "--policy", str(policy), "-q"]) == 0
    from kasuhara_nlp.routing import report_message

    report_message("土下座しろ。店長を家に来させろ。", staff="山田 花子", categories=["demand"], severity=2,
                   policy=policy)
    examples = tmp_path / "sr.jsonl"
    assert len(_rows(examples)) == 2
    assert _checker().check([str(examples)]) == 0
