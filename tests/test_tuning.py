"""Metrics on a labelled set, threshold curves and suggestions, and the thresholds override file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

from kasuhara_nlp.calibration import choose_threshold  # noqa: E402
from kasuhara_nlp.classifier import KasuharaClassifier  # noqa: E402
from kasuhara_nlp.cli import main  # noqa: E402
from kasuhara_nlp.config import load_thresholds  # noqa: E402
from kasuhara_nlp.errors import ConfigError, KasuharaError  # noqa: E402
from kasuhara_nlp.labels import CATEGORIES  # noqa: E402
from kasuhara_nlp.tuning import (load_labelled, metrics_table, overall_metrics, score_labelled,  # noqa: E402
                                 suggest_thresholds, threshold_curve, write_thresholds)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "notebooks" / "sample"


@pytest.fixture(scope="module")
def scored() -> "pd.DataFrame":
    return score_labelled(KasuharaClassifier.from_pretrained(), SAMPLE / "labelled.jsonl")


def test_score_labelled_columns(scored) -> None:
    assert len(scored) == 20
    for c in CATEGORIES:
        assert set(scored[f"gold_{c}"]) <= {0, 1} and scored[f"score_{c}"].between(0, 1).all()
    assert scored["hard_negative"].sum() == 6 and scored["gold_labels"].map(bool).sum() == 10


def test_load_labelled_sources(tiny_messages) -> None:
    assert load_labelled(tiny_messages[:3]) == tiny_messages[:3]
    with pytest.raises(KasuharaError, match="SCHEMA"):
        load_labelled("nope.jsonl")


def test_metrics(scored) -> None:
    thr = {c: 0.5 for c in CATEGORIES}
    table = metrics_table(scored, thr)
    assert list(table.index) == list(CATEGORIES)
    assert {"precision", "recall", "f1", "pr_auc", "ece", "fpr_benign", "fpr_hard_negative"} <= set(table.columns)
    overall = overall_metrics(scored, thr)
    assert overall["n"] == 20 and 0 <= overall["fpr_benign"] <= 1 and "alerts_per_1000" in overall


def test_threshold_curve_is_monotone(scored) -> None:
    curve = threshold_curve(scored, "abuse")
    assert curve["recall"].is_monotonic_decreasing and curve["fpr_benign"].is_monotonic_decreasing
    with pytest.raises(KasuharaError, match="unknown category"):
        threshold_curve(scored, "rude")


def test_suggestions_keep_the_false_positive_target(scored) -> None:
    suggested = suggest_thresholds(scored, target_fpr=0.0)
    assert set(suggested) == set(CATEGORIES)
    for c, t in suggested.items():
        neg = scored[scored[f"gold_{c}"] == 0][f"score_{c}"]
        assert (neg >= t).mean() == 0.0 and 0.3 <= t < 1


def test_suggestions_sit_mid_gap_and_flag_what_the_best_threshold_flags(scored) -> None:
    # The best-F1 threshold equals a positive's score; a new message scoring a hair less would be lost.
    for c, t in suggest_thresholds(scored).items():
        p = scored[f"score_{c}"].to_numpy(float)
        best = choose_threshold(p, scored[f"gold_{c}"].to_numpy(int))
        assert ((p >= t) == (p >= best)).all()
        assert 0.3 <= t < best


def test_write_thresholds_is_read_by_the_classifier_and_the_cli(tmp_path: Path, capsys) -> None:
    path = write_thresholds(tmp_path / "t" / "thresholds.json", {"abuse": 0.99, "demand": 0.99,
                                                                 "restraint": 0.99, "other_harassment": 0.99},
                            note="test", model="kasuhara-baseline 0.1.0")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["note"] == "test" and doc["model"] == "kasuhara-baseline 0.1.0" and doc["written_at"]
    assert load_thresholds(path)["abuse"] == 0.99
    assert KasuharaClassifier.from_pretrained(thresholds=path).thresholds["demand"] == 0.99
    out = tmp_path / "r.jsonl"
    assert main(["scan", str(SAMPLE / "inbox.csv"), "-q", "-o", str(out), "--thresholds", str(path)]) == 0
    flagged_strict = sum(json.loads(line)["flagged"] for line in out.read_text(encoding="utf-8").splitlines())
    assert main(["scan", str(SAMPLE / "inbox.csv"), "-q", "-o", str(out)]) == 0
    flagged_default = sum(json.loads(line)["flagged"] for line in out.read_text(encoding="utf-8").splitlines())
    assert flagged_strict < flagged_default


def test_write_thresholds_rejects_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        write_thresholds(tmp_path / "t.json", {"abuse": 1.5})
    with pytest.raises(ConfigError, match="unknown categories"):
        write_thresholds(tmp_path / "t.json", {"rude": 0.5})
    assert not (tmp_path / "t.json").exists()
