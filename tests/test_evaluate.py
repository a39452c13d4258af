"""Evaluation: a report is never empty by mistake, and a card is never overwritten with no figures."""

import shutil

import pytest

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main
from kasuhara_nlp.config import CARD_NAME
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.errors import ConfigError, InputFormatError
from kasuhara_nlp.evaluate import evaluate_splits
from tests.conftest import make_messages, write_jsonl


@pytest.mark.parametrize("splits, message", [
    (("blnd",), "unknown split"),            # a typo in a split name
    (("blind",), "no labelled messages"),    # a real split that this data does not have
])
def test_evaluate_splits_refuses_to_report_nothing(baseline_dir, tiny_messages, splits, message):
    clf = KasuharaClassifier.from_pretrained(baseline_dir)
    with pytest.raises(ConfigError, match=message):
        evaluate_splits(clf, [m for m in tiny_messages if m.split != "blind"], splits=splits)


def test_evaluate_splits_reports_the_splits_it_has(baseline_dir, tiny_messages):
    report = evaluate_splits(KasuharaClassifier.from_pretrained(baseline_dir), tiny_messages, splits=("test",))
    assert report["test"]["n"] == sum(m.split == "test" for m in tiny_messages) > 0


def test_a_folder_without_labelled_data_is_an_error(tmp_path):
    (tmp_path / "corpsu").mkdir()  # a typo: no corpus/ or blind/ inside
    with pytest.raises(InputFormatError, match="no labelled data"):
        load_messages(tmp_path / "corpsu")


def test_cli_evaluate_with_a_wrong_path_keeps_the_card(tmp_path, baseline_dir, capsys):
    model = tmp_path / "model"
    shutil.copytree(baseline_dir, model)
    data = write_jsonl(tmp_path / "labelled.jsonl", [
        {"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity, "split": m.split,
         "hard_negative": m.hard_negative} for m in make_messages()])
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--splits", "test", "--write-card"]) == EXIT_OK
    card = (model / CARD_NAME).read_text(encoding="utf-8")
    capsys.readouterr()

    assert main(["evaluate", "--model", str(model), "--data", str(tmp_path / "labeled.jsonl"), "--write-card"]) \
        == EXIT_FAILURE
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--splits", "blnd", "--write-card"]) \
        == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no labelled data" in err and "unknown split" in err
    assert (model / CARD_NAME).read_text(encoding="utf-8") == card

import json  # noqa: E402  (for the tests below)


def _labelled_file(tmp_path, with_splits: bool):
    rows = []
    for m in make_messages():
        row = {"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity,
               "hard_negative": m.hard_negative}
        if with_splits:
            row["split"] = m.split
        rows.append(row)
    return write_jsonl(tmp_path / "mine.jsonl", rows), len(rows)


@pytest.mark.parametrize("with_splits", [True, False])  # feedback records carry no split
def test_cli_evaluate_a_labelled_file_evaluates_all_of_it(tmp_path, baseline_dir, capsys, with_splits):
    data, total = _labelled_file(tmp_path, with_splits)
    assert main(["evaluate", "--model", str(baseline_dir), "--data", str(data)]) == EXIT_OK
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["all"]["n"] == total and "test" not in report and "blind" not in report
    assert f"{data}: all {total} records evaluated" in captured.err


def test_cli_evaluate_a_labelled_file_by_split_says_what_was_left_out(tmp_path, baseline_dir, capsys):
    data, total = _labelled_file(tmp_path, True)
    counts = {s: sum(m.split == s for m in make_messages()) for s in ("train", "dev", "test")}
    assert main(["evaluate", "--model", str(baseline_dir), "--data", str(data), "--splits", "test", "blind"]) == EXIT_OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["test"]["n"] == counts["test"]
    assert (f"{data}: {counts['test']} of {total} records are in the splits evaluated (test {counts['test']}, "
            f"blind 0); left out: train {counts['train']}, dev {counts['dev']}") in captured.err


def test_cli_evaluate_without_data_keeps_the_corpus_splits(tmp_path, baseline_dir, capsys, monkeypatch):
    # The project's corpus (a data folder): test and blind, no "all", no notice.
    folder = tmp_path / "data"
    write_jsonl(folder / "corpus" / "c.jsonl", [
        {"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity, "split": m.split,
         "family": m.family} for m in make_messages() if m.split != "blind"])
    write_jsonl(folder / "blind" / "b.jsonl", [
        {"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity}
        for m in make_messages() if m.split == "blind"])
    assert main(["evaluate", "--model", str(baseline_dir), "--data", str(folder)]) == EXIT_OK
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "all" not in report and report["test"]["n"] > 0 and "records" not in captured.err
