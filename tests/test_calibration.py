import numpy as np
import pytest

from kasuhara_nlp.calibration import choose_threshold, expected_calibration_error, fit_temperature
from kasuhara_nlp.evaluate import alerts_per_1000, evaluate_predictions


def test_temperature_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    # True probability of y given the logit is sigmoid(z/4): logits 4x too confident.
    z = rng.normal(0, 6, 2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-z / 4))).astype(int)
    assert fit_temperature(z, y) == pytest.approx(4.0, rel=0.25)


def test_threshold_respects_benign_false_positive_target():
    probs = np.array([0.2, 0.4, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 1, 1, 1])
    benign = np.array([0.1] * 95 + [0.75] * 5)     # 5% of benign text scores 0.75
    t_loose = choose_threshold(probs, y, extra=[(benign, 0.10)])
    t_strict = choose_threshold(probs, y, extra=[(benign, 0.01)])
    assert t_loose == 0.7
    assert t_strict > 0.75


def test_threshold_never_below_floor():
    assert choose_threshold(np.array([0.1, 0.2]), np.array([1, 1]), floor=0.3) >= 0.3


def test_ece_of_perfectly_calibrated_bins_is_small():
    rng = np.random.default_rng(1)
    p = rng.random(20000)
    y = rng.random(20000) < p
    assert expected_calibration_error(p, y) < 0.02
    assert expected_calibration_error(np.full(100, 0.9), np.zeros(100)) == pytest.approx(0.9)


def test_evaluate_predictions_counts():
    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    probs = np.array([[0.9, 0, 0, 0], [0, 0.2, 0, 0], [0.8, 0, 0, 0], [0.1, 0, 0, 0]])
    r = evaluate_predictions(y, [3, 2, 0, 0], probs, [3, 0, 1, 0], {c: 0.5 for c in
                             ("abuse", "demand", "restraint", "other_harassment")}, [False, False, True, False])
    assert r["categories"]["abuse"]["precision"] == 0.5
    assert r["categories"]["demand"]["recall"] == 0.0
    assert r["fpr_hard_negatives"] == 1.0
    assert r["severity3_recall"] == 1.0
    assert r["severity_confusion"][2][0] == 1


def test_alerts_per_1000():
    a = alerts_per_1000(0.9, 0.01)
    assert a["alerts_per_1000"] == pytest.approx(18 + 9.8)
    assert a["alert_precision"] == pytest.approx(18 / 27.8, abs=1e-3)
