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


# -- QA pass (analyst workflow): outputs, PII, unscored results, ambiguity, file formats ------------

def _decision_line(**fields) -> str:
    entry = {"result_id": "m1", "decision": "agree", "labels": ["abuse"], "severity": 2}
    entry.update(fields)
    return json.dumps({k: v for k, v in entry.items() if v is not None}, ensure_ascii=False)


@pytest.mark.parametrize("victim", ["corrections", "results"])
def test_feedback_refuses_an_output_that_is_one_of_its_inputs(tmp_path: Path, results: Path, victim: str,
                                                              capsys) -> None:
    c = tmp_path / "c.jsonl"
    record_decision(c, FLAGGED, "agree", analyst="sato")
    out = c if victim == "corrections" else results
    before = out.read_bytes()
    assert main(["feedback", str(c), "--results", str(results), "-o", str(out)]) == 2
    assert "writing it would erase the input" in capsys.readouterr().err
    assert out.read_bytes() == before  # the append-only audit log (or the scan) is untouched
    with pytest.raises(Exception, match="would erase"):
        corrections_to_training(c, results, out)
    assert out.read_bytes() == before


def test_feedback_keeps_an_existing_output_when_no_record_came_out(tmp_path: Path, results: Path, capsys) -> None:
    c = tmp_path / "c.jsonl"
    c.write_text('{"id": "m1", "decision": "agree", "labels": ["abuse"], "severity": 2}\n', encoding="utf-8")
    out = tmp_path / "fb.jsonl"
    out.write_text('{"earlier": "training records"}\n', encoding="utf-8")
    assert main(["feedback", str(c), "--results", str(results), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "left as it was" in err
    assert out.read_text(encoding="utf-8") == '{"earlier": "training records"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "fb.jsonl", "results.jsonl"]  # no .partial


PII_TEXT = "山田太郎様、佐藤さんへ。yamada＠example.jp／０９０－１２３４－５６７８ に今すぐ電話しろ。"


def test_training_records_from_a_no_mask_scan_are_masked(tmp_path: Path) -> None:
    from kasuhara_nlp.pii import find_pii, mask_text

    unmasked = dict(FLAGGED, text=PII_TEXT)  # `kasuhara scan --no-mask`
    results = _write(tmp_path / "nomask.jsonl", [unmasked])
    c = tmp_path / "c.jsonl"
    record_decision(c, _rows(results)[0], "agree", analyst="sato")  # hash of the text as it is in the file
    out = tmp_path / "fb.jsonl"
    assert main(["feedback", str(c), "--results", str(results), "-o", str(out)]) == 0
    (record,) = _rows(out)
    assert record["text"] == mask_text(PII_TEXT).text and not find_pii(record["text"])
    assert "yamada" not in out.read_text(encoding="utf-8") and "山田太郎" not in out.read_text(encoding="utf-8")
    # The same message from a masked scan gives the same record id (one message, one id).
    masked = _write(tmp_path / "masked.jsonl", [dict(FLAGGED, text=mask_text(PII_TEXT).text)])
    c2 = tmp_path / "c2.jsonl"
    record_decision(c2, _rows(masked)[0], "agree", analyst="sato")
    from kasuhara_nlp.feedback import build_training
    assert build_training(c2, masked).records[0]["id"] == record["id"]
    assert _checker().check([str(out)]) == 0


@pytest.mark.parametrize("text, source, problem", [
    ("", "analyst_feedback", "empty text"),
    ("   ", "team", "empty text"),
    (PII_TEXT, "analyst_feedback", "unmasked personal data"),
    ("連絡先は 03-1234-5678 です。", "staff_report", "unmasked personal data"),
])
def test_check_records_rejects_empty_text_and_unmasked_pii(tmp_path: Path, capsys, text, source, problem) -> None:
    record = {"id": "fb-1", "family": "fb-1", "text": text, "label_quote": None, "channel": "email",
              "industry": "other", "register": "unknown", "labels": [], "severity": 0, "subtypes": [],
              "hard_negative": False, "source": source, "notes": "x"}
    path = _write(tmp_path / "fb.jsonl", [record])
    assert _checker().check([str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:1: " in out and problem in out


def test_check_records_keeps_team_written_example_pii(tmp_path: Path) -> None:
    # The corpus's team-written messages carry made-up addresses and numbers on purpose.
    record = {"id": "w1-1", "family": "w1-f1", "text": "090-0000-1234 に電話して。", "label_quote": None,
              "channel": "email", "industry": "other", "register": "keigo", "labels": [], "severity": 0,
              "subtypes": [], "hard_negative": False, "source": "team", "notes": "x"}
    assert _checker().check([str(_write(tmp_path / "team.jsonl", [record]))]) == 0


@pytest.mark.parametrize("status, text", [("error", ""), ("skipped", ""), ("not_scored", "担当の佐々木です。"),
                                          ("ok", ""), ("ok", "  \n")])
def test_decisions_on_unscored_or_empty_results_are_refused(tmp_path: Path, status: str, text: str) -> None:
    from kasuhara_nlp.feedback import build_training

    unscored = dict(FLAGGED, id="u1", status=status, text=text, labels=[], severity=0)
    results = _write(tmp_path / "results.jsonl", [FLAGGED, unscored])
    c = tmp_path / "c.jsonl"
    with pytest.raises(LabelError, match="no scored text"):
        record_decision(c, unscored, "not_harassment")
    assert not c.exists()
    # Written by hand (or by an older version): refused by feedback with its file and line.
    c.write_text(_decision_line() + "\n" + _decision_line(result_id="u1", decision="not_harassment", labels=[],
                                                          severity=0) + "\n", encoding="utf-8")
    summary = build_training(c, results)
    (problem,) = summary.problems
    assert str(problem).startswith(f"{c}:2: result 'u1' has no scored text") and f"status {status!r}" in str(problem)
    assert [r["provenance"]["result_id"] for r in summary.records] == ["m1"]


def test_a_decision_by_id_on_a_repeated_id_is_ambiguous(tmp_path: Path) -> None:
    from kasuhara_nlp.feedback import build_training

    # One export with the id QA-0005 twice (one results file, so one result_ref).
    first = dict(FLAGGED, id="QA-0005", source_file="inbox.csv", source_locator="line 6",
                 text="炊飯器の使い方が分かりません。")
    second = dict(FLAGGED, id="QA-0005", source_file="inbox.csv", source_locator="line 7")
    results = _write(tmp_path / "results.jsonl", [first, second])
    c = tmp_path / "c.jsonl"
    c.write_text(_decision_line(result_id="QA-0005", decision="wrong_category", labels=["demand"], severity=1)
                 + "\n", encoding="utf-8")
    summary = build_training(c, results)
    assert summary.records == []
    (problem,) = summary.problems
    assert str(problem).startswith(f"{c}:1: result id 'QA-0005' matches 2 different messages")
    assert "(inbox.csv line 6, inbox.csv line 7)" in str(problem) and "text_sha256" in str(problem)
    # With the text hash that record_decision stores, the decision is on one message.
    c2 = tmp_path / "c2.jsonl"
    record_decision(c2, _rows(results)[1], "wrong_category", labels=["demand"], severity=1)
    assert [r["text"] for r in build_training(c2, results).records] == [second["text"]]
    # The same text twice (a row exported twice) is one message: no ambiguity.
    _write(results, [second, dict(second, source_locator="line 9")])
    assert len(build_training(c, results).records) == 1


@pytest.mark.parametrize("encoding, bom", [("utf-8", True), ("utf-8", False), ("cp932", False)])
def test_corrections_file_encodings(tmp_path: Path, results: Path, encoding: str, bom: bool) -> None:
    # Notepad and Excel write a BOM ("UTF-8 with BOM") or CP932 ("ANSI").
    c = tmp_path / "c.jsonl"
    text = _decision_line(comment="明確な暴言①") + "\n" + _decision_line(result_id="m2", decision="not_harassment",
                                                                        labels=[], severity=0) + "\n"
    c.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    if encoding == "utf-8":
        assert [d["result_id"] for d in read_corrections(c, latest_only=False)] == ["m1", "m2"]
        return
    with pytest.raises(InputFormatError) as info:
        read_corrections(c)
    assert str(info.value).startswith(f"{c}:1: ") and "CP932" in str(info.value) and "UTF-8" in str(info.value)


@pytest.mark.parametrize("content, expected", [
    ("result_id,decision,labels,severity\nQA-0003,agree,abuse,2\n", "corrections must be JSONL"),
    ("\ufeffresult_id,decision,labels,severity\nQA-0003,agree,abuse,2\n", "looks like CSV"),
    (_decision_line(result_id=None, id="m1") + "\n", "missing field 'result_id' (is 'id' meant?)"),
    (_decision_line(labels=None, label="abuse") + "\n", "missing field 'labels' (is 'label' meant?)"),
    (_decision_line(severity=None) + "\n", "missing field 'severity'"),
    (_decision_line(labels="abuse") + "\n", "labels must be a list of category ids, e.g. [\"abuse\"]"),
    (_decision_line(labels=["暴力・暴言"]) + "\n", "use 'abuse' for '暴力・暴言'"),
    (_decision_line(labels=["Abuse"]) + "\n", "use 'abuse' for 'Abuse'"),
    (_decision_line(decision="Agree") + "\n", "unknown decision 'Agree' (did you mean 'agree'?)"),
    (_decision_line(decision="同意") + "\n", "one of agree, wrong_category, not_harassment"),
    ("[1, 2]\n", "a JSON object is expected"),
])
def test_unclear_corrections_get_helpful_messages(tmp_path: Path, content: str, expected: str) -> None:
    c = tmp_path / "c.jsonl"
    c.write_text(content, encoding="utf-8")
    problems: list[InputFormatError] = []
    from kasuhara_nlp.corrections import read_decisions
    assert read_decisions(c, problems) == []
    assert len(problems) == 1, problems  # one message, not one per line of a CSV
    assert str(problems[0]).startswith(f"{c}:1: ") and expected in str(problems[0])


def test_agree_with_other_labels_than_predicted_is_refused(tmp_path: Path, results: Path) -> None:
    from kasuhara_nlp.feedback import build_training

    c = tmp_path / "c.jsonl"
    c.write_text(_decision_line(labels=["demand"], severity=3, predicted_labels=["abuse"], predicted_severity=2)
                 + "\n" + _decision_line(result_id="m2", decision="not_harassment", labels=["abuse"], severity=1)
                 + "\n" + _decision_line(result_id="m3", decision="wrong_category", labels=[], severity=0) + "\n"
                 # No predicted_labels written: compared with the result's labels.
                 + _decision_line(result_id="m2", labels=["abuse"], severity=2) + "\n", encoding="utf-8")
    summary = build_training(c, results)
    assert summary.records == []
    messages = [str(p) for p in summary.problems]
    assert len(messages) == 4, messages
    assert messages[0].startswith(f"{c}:1: ") and "'agree' keeps the model's labels" in messages[0]
    assert messages[1].startswith(f"{c}:2: ") and "'not_harassment' takes no labels" in messages[1]
    assert messages[2].startswith(f"{c}:3: ") and "'wrong_category' needs the corrected labels" in messages[2]
    assert messages[3].startswith(f"{c}:4: ") and "'agree' keeps the model's labels" in messages[3]
