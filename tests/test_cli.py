"""The `kasuhara` command end to end: through a subprocess once per command, in-process elsewhere."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_messages, write_jsonl
from kasuhara_nlp.cli import EXIT_DATA_ERRORS, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "kasuhara_nlp", *args], input=stdin, capture_output=True,
                          timeout=300)


def write_cp932_csv(path):
    # As Excel writes it in Japan: CP932, CRLF, a quoted multi-line cell, NEC special characters.
    rows = [["問い合わせID", "件名", "問い合わせ内容"],
            ["1001", "配送", "注文した商品がまだ届きません。\r\n至急確認してください。①"],
            ["1002", "苦情", "土下座して謝れ。お前は本当に無能だな。"],
            ["1003", "空", ""],
            ["1004", "髙橋様", "㈱山田の髙橋です。請求書の再発行をお願いします。"]]
    with open(path, "w", encoding="cp932", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_scan_cp932_csv_through_subprocess(tmp_path, baseline_dir):
    src = write_cp932_csv(tmp_path / "inbox.csv")
    out = tmp_path / "out.jsonl"
    proc = run("scan", str(src), "-o", str(out), "--model", str(baseline_dir))
    assert proc.returncode == EXIT_OK, proc.stderr.decode()
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == ["1001", "1002", "1003", "1004"]
    assert results[0]["text"].startswith("注文した商品")
    assert "①" in results[0]["text"]
    assert "髙橋" in results[3]["text"]
    assert results[2]["status"] == "skipped" and "line" in results[2]["reason"]
    err = proc.stderr.decode()
    assert "records: 4" in err and "alerts per 1,000" in err
    assert "土下座" not in err  # no message bodies in logs


def test_scan_bad_records_are_reported_and_the_run_goes_on(tmp_path, baseline_dir):
    src = tmp_path / "bad.jsonl"
    big = "あ" * 400_000  # > 1 MB in UTF-8
    src.write_text("\n".join([
        json.dumps({"id": "1", "text": "ありがとうございました"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "3", "text": ["a", "list"]}),
        json.dumps({"id": "4", "text": big}, ensure_ascii=False),
        json.dumps({"id": "5", "text": "返品したいです"}, ensure_ascii=False),
    ]) + "\n", encoding="utf-8")
    with open(src, "ab") as f:
        f.write(b'{"id": "6", "text": "\xff\xfe broken bytes"}\n')
    out = tmp_path / "out.csv"
    proc = run("scan", str(src), "-o", str(out), "--model", str(baseline_dir))
    assert proc.returncode == EXIT_DATA_ERRORS
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    assert [r["status"] for r in rows][0] == "ok" and rows[4]["status"] == "ok"
    assert rows[1]["status"] == "error" and "bad.jsonl" in rows[1]["reason"] and "line 2" in rows[1]["reason"]
    assert rows[2]["status"] == "error"
    assert rows[3]["status"] == "skipped"
    err = proc.stderr.decode()
    assert "line 2" in err and "line 3" in err


def test_scan_reads_stdin(baseline_dir):
    data = "id,text\n1,今すぐ家に来い。\n".encode("utf-8-sig")
    proc = run("scan", "-", "--model", str(baseline_dir), "-q", "--format", "csv", stdin=data)
    assert proc.returncode == EXIT_OK, proc.stderr.decode()
    result = json.loads(proc.stdout.decode().splitlines()[0])
    assert result["id"] == "1" and result["status"] == "ok"


def test_score_and_info(baseline_dir):
    proc = run("score", "土下座して謝れ。", "--model", str(baseline_dir))
    assert proc.returncode == EXIT_OK
    out = proc.stdout.decode()
    assert "判定" in out and "demand" in out
    proc = run("info", "--model", str(baseline_dir))
    assert proc.returncode == EXIT_OK
    info = proc.stdout.decode()
    assert "kasuhara-baseline" in info and "unidic-lite" in info


def test_exit_codes(tmp_path, baseline_dir, capsys):
    assert main(["scan"]) == EXIT_USAGE
    assert main(["frobnicate"]) == EXIT_USAGE
    assert main(["scan", str(tmp_path / "missing.csv"), "--model", str(baseline_dir)]) == EXIT_FAILURE
    assert main(["score", "x", "--model", str(tmp_path)]) == EXIT_FAILURE
    bad = tmp_path / "t.json"
    bad.write_text('{"abuse": 2}')
    assert main(["score", "x", "--model", str(baseline_dir), "--thresholds", str(bad)]) == EXIT_USAGE
    assert "abuse" in capsys.readouterr().err


def test_missing_text_column_suggests_text_field(tmp_path, baseline_dir, capsys):
    src = tmp_path / "x.csv"
    src.write_text("id,free_note\n1,こんにちは\n", encoding="utf-8")
    assert main(["scan", str(src), "--model", str(baseline_dir), "-o", str(tmp_path / "o.jsonl")]) != EXIT_OK
    assert "--text-field" in capsys.readouterr().err
    assert main(["scan", str(src), "--model", str(baseline_dir), "-o", str(tmp_path / "o.jsonl"),
                 "--text-field", "free_note", "-q"]) == EXIT_OK


def _labelled_jsonl(tmp_path) -> Path:
    """The tiny labelled set as a JSONL file, as `kasuhara train --data` and `evaluate --data` read it."""
    return write_jsonl(tmp_path / "labelled.jsonl", [
        {"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity, "split": m.split,
         "hard_negative": m.hard_negative} for m in make_messages()])


def test_train_and_evaluate_baseline(tmp_path, capsys):
    data = _labelled_jsonl(tmp_path)
    model = tmp_path / "model"
    assert main(["train", "--model", "baseline", "--data", str(data), "-o", str(model)]) == EXIT_OK
    capsys.readouterr()
    report = tmp_path / "report.json"
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--splits", "test",
                 "--report", str(report)]) == EXIT_OK
    r = json.loads(report.read_text())
    assert r["test"]["n"] == len([m for m in make_messages() if m.split == "test"])
    assert set(r["test"]["categories"]) == {"abuse", "demand", "restraint", "other_harassment"}


def test_train_distils_a_smaller_bert_blended_with_the_baseline(tmp_path, tiny_bert_dir, tiny_classifier_dir,
                                                                 baseline_dir, capsys):
    data = _labelled_jsonl(tmp_path)
    out = tmp_path / "student"
    assert main(["train", "--model", "bert", "--data", str(data), "-o", str(out), "--base", str(tiny_bert_dir),
                 "--teacher", str(tiny_classifier_dir), "--layers", "1", "--blend-baseline", str(baseline_dir),
                 "--epochs", "1", "--max-length", "32", "--stride", "8"]) == EXIT_OK
    saved = json.loads((out / "kasuhara_config.json").read_text())
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 1
    assert saved["extra"]["train_config"]["teacher"] == str(tiny_classifier_dir)
    assert saved["stride"] == 8
    assert saved["extra"]["blend"]["baseline"] == "kasuhara-baseline 0.1.0"
    assert json.loads(capsys.readouterr().out)["model"] == "kasuhara-bert-ja"


def test_train_blend_pairs_a_trained_bert_with_a_new_baseline(tmp_path, tiny_classifier_dir, capsys):
    data = _labelled_jsonl(tmp_path)
    base = tmp_path / "baseline"
    assert main(["train", "--model", "baseline", "--nbsvm", "--data", str(data), "-o", str(base)]) == EXIT_OK
    out = tmp_path / "blended"
    assert main(["train", "--model", "blend", "--data", str(data), "--base", str(tiny_classifier_dir),
                 "--blend-baseline", str(base), "-o", str(out), "--version", "2.0.0"]) == EXIT_OK
    saved = json.loads((out / "kasuhara_config.json").read_text())
    assert saved["version"] == "2.0.0" and "bert_weight" in saved["extra"]["blend"]
    assert "nb" in json.loads((out / "baseline_vocab.json").read_text())
    assert main(["train", "--model", "blend", "--data", str(data), "-o", str(out)]) == EXIT_USAGE
    assert "--model blend needs --base" in capsys.readouterr().err


def test_soft_labels_need_labellings_beside_the_data(tmp_path, tiny_bert_dir, capsys):
    data = _labelled_jsonl(tmp_path)
    argv = ["train", "--model", "bert", "--data", str(data), "-o", str(tmp_path / "m"), "--base",
            str(tiny_bert_dir), "--epochs", "1", "--max-length", "32", "--stride", "8", "--soft-labels"]
    assert main(argv) == EXIT_USAGE
    assert f"{tmp_path}/agreement" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["scan", "--help"], ["--version"]])
def test_help(argv):
    assert main(argv) == EXIT_OK


@pytest.mark.parametrize("argv, words", [
    (["report", "{results}", "--top", "-1"], "must be at least 0"),
    (["report", "{results}", "--top", "many"], "is not an integer"),
    (["report", "{results}", "-o", "{folder}"], "is a folder"),
    (["score", "x", "--model", "{model}", "--thresholds", "{folder}"], "cannot be read"),
    (["scan", "{results}", "--model", "{model}", "--batch-size", "0"], "must be at least 1"),
    (["scan", "{results}", "--model", "{model}", "--max-chars", "0"], "must be at least 1"),
    (["score", "x", "--model", "{model}", "--max-chars", "1e4"], "is not an integer"),
])
def test_argument_mistakes_are_usage_errors_not_tracebacks(tmp_path, baseline_dir, capsys, argv, words):
    results = write_jsonl(tmp_path / "results.jsonl", [{"id": "1", "kind": "message", "status": "ok", "labels": [],
                                                        "severity": 0, "scores": {}, "text": "x"}])
    folder = tmp_path / "folder"
    folder.mkdir()
    argv = [a.format(results=results, folder=folder, model=baseline_dir) for a in argv]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize("inputs, output", [
    (["inbox.csv"], "inbox.csv"),                       # the customer export used to be truncated, exit 0
    (["msgs.jsonl"], "./sub/../msgs.jsonl"),
    (["inbox.csv", "exports"], "exports/results.jsonl"),  # a folder's files are read as they are found
])
def test_scan_refuses_an_output_that_is_an_input(tmp_path, baseline_dir, capsys, monkeypatch, inputs, output):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.jsonl").write_text('{"id": "e", "text": "届かない"}\n', encoding="utf-8")
    Path("inbox.csv").write_text("id,text\n1,商品が届きません\n", encoding="utf-8")
    Path("msgs.jsonl").write_text('{"id": "a", "text": "返金してください"}\n', encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["scan", *inputs, "-o", output, "--model", str(baseline_dir)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "-o" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    # Refused before the model is loaded: a wrong --model does not hide the mistake.
    assert main(["scan", *inputs, "-o", output, "--model", str(tmp_path / "no-model")]) == EXIT_USAGE


def test_scan_refuses_a_summary_file_that_is_an_input(tmp_path, baseline_dir, capsys):
    inbox = tmp_path / "inbox.csv"
    inbox.write_text("id,text\n1,商品が届きません\n", encoding="utf-8")
    before = inbox.read_bytes()
    assert main(["scan", str(inbox), "-o", str(tmp_path / "r.jsonl"), "--summary", str(inbox),
                 "--model", str(baseline_dir)]) == EXIT_USAGE
    assert "--summary" in capsys.readouterr().err and inbox.read_bytes() == before


def test_max_chars_scores_only_the_first_n_characters(tmp_path, baseline_dir, capsys):
    text = "いつもお世話になっております。" * 4 + "土下座して謝れ。お前は本当に無能だな。"
    n = text.index("土下座")  # the abuse starts at character n
    # The tiny baseline's thresholds are near 0.94; at 0.4 it flags this abuse but not the greeting.
    (tmp_path / "t.json").write_text('{"abuse": 0.4}')
    model = ["--model", str(baseline_dir), "--thresholds", str(tmp_path / "t.json")]

    def score(message, *options):
        assert main(["score", message, *model, "--raw", "--json", *options]) == EXIT_OK
        return json.loads(capsys.readouterr().out)

    cut, head, whole = score(text, "--max-chars", str(n)), score(text[:n]), score(text)
    assert cut["scores"] == head["scores"] != whole["scores"]
    assert cut["flagged"] is False and whole["flagged"] is True
    assert cut["warnings"] == [f"truncated: scored the first {n} of {len(text)} characters (max_chars)"]
    assert whole["warnings"] == []  # the default limit (10,000) does not cut this text
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": text}])
    out = tmp_path / "out.jsonl"
    assert main(["scan", str(src), "-o", str(out), *model, "-q", "--max-chars", str(n)]) == EXIT_OK
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["warnings"] == cut["warnings"] and not result["flagged"] and result["text"] == text
