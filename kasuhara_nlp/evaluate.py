"""Metrics for a classifier on labelled messages: what `kasuhara evaluate` reports.

Per category precision, recall, F1 and PR-AUC; false-positive rates on hard negatives and on real
benign customer text; alerts per 1,000 messages at a 2% harassment rate; severity confusion and
calibration error.  Pure NumPy/scikit-learn on arrays, so notebooks can reuse it.

>>> import numpy as np
>>> y = np.array([[1, 0, 0, 0], [0, 0, 0, 0]]); p = np.array([[0.9, 0.1, 0.1, 0.1], [0.2, 0.1, 0.1, 0.1]])
>>> category_metrics(y, p, {c: 0.5 for c in CATEGORIES})["abuse"]["f1"]
1.0
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix

from .calibration import expected_calibration_error
from .data import SPLITS
from .errors import ConfigError
from .labels import CATEGORIES

HARASSMENT_RATE = 0.02


def category_metrics(y: np.ndarray, probs: np.ndarray, thresholds: dict[str, float]) -> dict[str, dict]:
    """Precision, recall, F1, PR-AUC, support and ECE for each category."""
    out = {}
    for j, c in enumerate(CATEGORIES):
        pred = probs[:, j] >= thresholds[c]
        gold = y[:, j].astype(bool)
        tp = int(np.sum(pred & gold))
        prec = tp / max(1, int(pred.sum()))
        rec = tp / max(1, int(gold.sum()))
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[c] = {
            "precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
            "pr_auc": round(float(average_precision_score(gold, probs[:, j])), 4) if gold.any() else None,
            "support": int(gold.sum()), "ece": expected_calibration_error(probs[:, j], gold),
        }
    return out


def evaluate_predictions(
    y: np.ndarray, severity: Sequence[int], probs: np.ndarray, pred_severity: Sequence[int],
    thresholds: dict[str, float], hard_negative: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """All metrics of one labelled set from gold labels and the model's outputs."""
    y = np.asarray(y)
    severity = np.asarray(severity)
    pred_severity = np.asarray(pred_severity)
    thr = np.array([thresholds[c] for c in CATEGORIES])
    flagged = (probs >= thr).any(axis=1)
    gold_pos = y.any(axis=1)
    cats = category_metrics(y, probs, thresholds)
    report: dict[str, Any] = {
        "n": int(len(y)),
        "positives": int(gold_pos.sum()),
        "categories": cats,
        "macro_f1": round(float(np.mean([cats[c]["f1"] for c in CATEGORIES if cats[c]["support"]])), 4)
        if gold_pos.any() else None,
        "any_recall": round(float(flagged[gold_pos].mean()), 4) if gold_pos.any() else None,
        "fpr_negatives": round(float(flagged[~gold_pos].mean()), 4) if (~gold_pos).any() else None,
    }
    if hard_negative is not None:
        hn = np.asarray(hard_negative, dtype=bool) & ~gold_pos
        report["fpr_hard_negatives"] = round(float(flagged[hn].mean()), 4) if hn.any() else None
        report["n_hard_negatives"] = int(hn.sum())
    sev3 = severity == 3
    if sev3.any():
        report["severity3_recall"] = round(float(flagged[sev3].mean()), 4)
        report["severity3_exact"] = round(float((pred_severity[sev3] == 3).mean()), 4)
    report["severity_confusion"] = confusion_matrix(severity, pred_severity, labels=[0, 1, 2, 3]).tolist()
    return report


def alerts_per_1000(recall_any: float, fpr_benign: float, rate: float = HARASSMENT_RATE) -> dict[str, float]:
    """Alerts per 1,000 messages, and their precision, when ``rate`` of messages are harassment.

    >>> alerts_per_1000(1.0, 0.0)["alerts_per_1000"]
    20.0
    """
    true_alerts = 1000 * rate * recall_any
    false_alerts = 1000 * (1 - rate) * fpr_benign
    total = true_alerts + false_alerts
    return {
        "alerts_per_1000": round(total, 2),
        "false_alerts_per_1000": round(false_alerts, 2),
        "alert_precision": round(true_alerts / total, 4) if total else 0.0,
    }


def predict_scores(classifier, texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, list[int]]:
    """Category probabilities (n, 4, in :data:`CATEGORIES` order) and severities of ``texts``, scored as
    ``kasuhara evaluate`` scores them: the raw text, no evidence, in batches."""
    probs, severities = [], []
    for i in range(0, len(texts), batch_size):
        preds = classifier.predict(texts[i:i + batch_size], raw=True, evidence=False)
        probs.extend([[p.scores[c] for c in CATEGORIES] for p in preds])
        severities.extend(p.severity for p in preds)
    return np.array(probs).reshape(-1, len(CATEGORIES)), severities


def evaluate_classifier(classifier, messages: list, batch_size: int = 64) -> dict[str, Any]:
    """Run ``classifier`` on labelled messages (with ``text``, ``label_vector``, ``severity``,
    ``hard_negative``) and return :func:`evaluate_predictions` for them."""
    probs, pred_sev = predict_scores(classifier, [m.text for m in messages], batch_size)
    return evaluate_predictions(
        np.array([m.label_vector for m in messages]), [m.severity for m in messages],
        probs, pred_sev, classifier.thresholds, [m.hard_negative for m in messages],
    )


def evaluate_splits(classifier, messages: list, splits: Sequence[str] = ("test", "blind")) -> dict[str, Any]:
    """The evaluation report: each labelled split, the benign real-text FPR and alerts per 1,000.

    Raises ConfigError for a split name that does not exist, or when none of ``splits`` has a message: an
    empty report would read as a model with no figures (and ``--write-card`` would publish it).
    """
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ConfigError(f"unknown split(s) {unknown}; choose from {list(SPLITS)}")
    if not any(m.split in splits for m in messages):
        present = sorted({m.split for m in messages})
        raise ConfigError(f"no labelled messages in split(s) {list(splits)} among {len(messages)} messages "
                          f"(their splits: {present}); check --data and --splits")
    report: dict[str, Any] = {"model": classifier.config.name, "model_version": classifier.config.version,
                              "thresholds": classifier.thresholds}
    benign = [m for m in messages if m.split == "benign_test"]
    fpr_benign = None
    if benign:
        b = evaluate_classifier(classifier, benign)
        fpr_benign = b["fpr_negatives"]
        report["benign_real"] = {"n": b["n"], "fpr": fpr_benign,
                                 "sources": sorted({m.source for m in benign})}
    for split in splits:
        subset = [m for m in messages if m.split == split]
        if not subset:
            continue
        r = evaluate_classifier(classifier, subset)
        if fpr_benign is not None and r.get("any_recall") is not None:
            r["at_2pct_rate"] = alerts_per_1000(r["any_recall"], fpr_benign)
        report[split] = r
    return report
