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
