"""Calibration and threshold choice: pure NumPy/scikit-learn, shared by the baseline and BERT.

In a real inbox only one or two messages in a hundred are harassment, so thresholds are chosen
for a target false-positive rate on benign-heavy text, not for accuracy on a balanced set.

>>> from typing import Sequence

import numpy as np
>>> y = np.array([0, 0, 1, 1]); logits = np.array([-8.0, -6.0, 6.0, 8.0])
>>> 0.1 < fit_temperature(logits, y) < 10
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T > 0 minimising the log-loss of ``sigmoid(logits / T)`` against 0/1 ``y``."""
    logits = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.min() == y.max():
        return 1.0  # one class only: nothing to calibrate against

    def nll(log_t: float) -> float:
        p = np.clip(_sigmoid(logits / np.exp(log_t)), 1e-7, 1 - 1e-7)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def choose_threshold(
    probs: np.ndarray, y: np.ndarray, target_fpr: float = 0.02,
    extra: Sequence[tuple[np.ndarray, float]] = (), floor: float = 0.3,
) -> float:
    """The threshold with the best F1 on (probs, y) whose false-positive rates stay within targets.

    ``target_fpr`` bounds the false-positive rate on the negatives of ``y`` (hard negatives and other
    labelled benign text); each ``(scores, target)`` in ``extra`` bounds it on further benign text,
    such as real customer requests.  Thresholds below ``floor`` are never chosen; ties go to the
    higher (quieter) threshold.

    >>> p = np.array([0.1, 0.2, 0.6, 0.9]); y = np.array([0, 0, 1, 1])
    >>> choose_threshold(p, y)
    0.6
    """
    probs = np.asarray(probs, dtype=float)
    y = np.asarray(y, dtype=int)
    groups = [(probs[y == 0], target_fpr)] + [(np.asarray(s, dtype=float), t) for s, t in extra]
    groups = [(s, t) for s, t in groups if len(s)]
    candidates = np.unique(np.concatenate([probs, [0.5]]))
    candidates = candidates[(candidates >= floor) & (candidates < 1.0)]
    best_t, best_f1 = None, -1.0
    for t in candidates:
        if any(float(np.mean(s >= t)) > target for s, target in groups):
            continue
        pred = probs >= t
        tp = int(np.sum(pred & (y == 1)))
        f1 = 2 * tp / max(1, int(pred.sum()) + int(y.sum()))
        if f1 >= best_f1:
            best_t, best_f1 = float(t), f1
    if best_t is None:
        # No candidate meets the targets: sit just above every negative score seen.
        top = max((float(s.max()) for s, _ in groups), default=0.5)
        best_t = min(0.999, top + 1e-6)
    return round(best_t, 6)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width probability bins (one binary problem).

    >>> expected_calibration_error(np.array([0.0, 1.0]), np.array([0, 1]))
    0.0
    """
    probs = np.asarray(probs, dtype=float)
    y = np.asarray(y, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (probs >= lo) & ((probs < hi) if hi < 1 else (probs <= hi))
        if m.any():
            ece += m.mean() * abs(probs[m].mean() - y[m].mean())
    return float(round(ece, 6))
