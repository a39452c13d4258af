"""Metrics and per-category threshold tuning on a labelled set, and the thresholds override file.

A labelled set is a JSONL in the data/SCHEMA.md format or a split of the bundled corpus ("test",
"dev", "blind").  :func:`score_labelled` runs a classifier once and keeps gold labels beside the
scores, so any threshold can be tried without scoring again.  :func:`write_thresholds` writes the
file that ``kasuhara scan --thresholds FILE`` and ``from_pretrained(..., thresholds=FILE)`` read.

>>> import pandas as pd
>>> scored = pd.DataFrame({"gold_abuse": [1, 0, 0], "score_abuse": [0.9, 0.6, 0.1], "hard_negative": [0, 1, 0]})
>>> threshold_curve(scored, "abuse", grid=[0.5, 0.7])[["threshold", "recall", "fpr"]].values.tolist()
[[0.5, 1.0, 0.5], [0.7, 1.0, 0.0]]
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .analysis import require_pandas
from .calibration import choose_threshold, expected_calibration_error
from .config import _check_thresholds, load_thresholds
from .errors import KasuharaError
from .evaluate import alerts_per_1000
from .labels import CATEGORIES, display_name
from .pii import mask_text

if TYPE_CHECKING:
    import pandas as pd

    from .data import LabelledMessage

DEFAULT_GRID = tuple(round(x, 2) for x in np.arange(0.05, 0.96, 0.01))


def load_labelled(source: "str | Path | Iterable[LabelledMessage]" = "test") -> "list[LabelledMessage]":
    """Labelled messages from a JSONL file (data/SCHEMA.md), a bundled split name, or as given.

    >>> load_labelled("no-such-split")
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.KasuharaError: no-such-split is neither a labelled JSONL file nor a split ...
    """
    from .data import DATA_DIR, SPLITS, load_messages, read_labelled

    if not isinstance(source, (str, Path)):
        return list(source)
    if Path(source).is_file():
        return list(read_labelled(source))
    if str(source) in SPLITS:
        return [m for m in load_messages(DATA_DIR, public=False) if m.split == str(source)]
    raise KasuharaError(f"{source} is neither a labelled JSONL file nor a split of the bundled corpus "
                        f"({', '.join(SPLITS)}); pass a path to a file in the data/SCHEMA.md format")


def score_labelled(classifier: Any, source: "str | Path | Iterable[LabelledMessage]" = "test",
                   batch_size: int = 64) -> "pd.DataFrame":
    """Score a labelled set once: gold and predicted labels, scores, one row per message.

    Columns: ``id``, ``text`` (PII-masked), ``channel``, ``hard_negative``, ``gold_labels``,
    ``gold_severity``, ``gold_<id>`` (0/1), ``score_<id>``, ``pred_labels`` and ``pred_severity``
    (at the classifier's thresholds).  ``classifier`` is a :class:`KasuharaClassifier`.
    """
    pd = require_pandas()
    messages = load_labelled(source)
    rows = []
    for i in range(0, len(messages), batch_size):
        chunk = messages[i:i + batch_size]
        preds = classifier.predict([m.text for m in chunk], raw=True, evidence=False)
        for m, p in zip(chunk, preds):
            row = {"id": m.id, "text": mask_text(m.text).text, "channel": m.channel,
                   "hard_negative": bool(m.hard_negative), "gold_labels": list(m.labels),
                   "gold_severity": m.severity, "pred_labels": list(p.labels), "pred_severity": p.severity}
            for c in CATEGORIES:
                row[f"gold_{c}"] = int(c in m.labels)
                row[f"score_{c}"] = float(p.scores[c])
            rows.append(row)
    return pd.DataFrame(rows)


def _rate(flags: np.ndarray, mask: np.ndarray) -> float | None:
    return round(float(flags[mask].mean()), 4) if mask.any() else None


def metrics_table(scored: "pd.DataFrame", thresholds: dict[str, float]) -> "pd.DataFrame":
    """Per category at ``thresholds``: precision, recall, F1, PR-AUC, ECE, support and the
    false-positive rates on benign messages (no gold label) and on hard negatives.

    >>> import pandas as pd
    >>> s = pd.DataFrame({f"{k}_{c}": [1, 0] if k == "gold" else [0.9, 0.2] for k in ("gold", "score")
    ...                   for c in CATEGORIES})
    >>> float(metrics_table(s, {c: 0.5 for c in CATEGORIES}).loc["abuse", "f1"])
    1.0
    """
    from sklearn.metrics import average_precision_score

    pd = require_pandas()
    gold_any = scored[[f"gold_{c}" for c in CATEGORIES]].to_numpy().any(axis=1)
    hard = scored["hard_negative"].to_numpy(bool) if "hard_negative" in scored else np.zeros(len(scored), bool)
    rows = []
    for c in CATEGORIES:
        y = scored[f"gold_{c}"].to_numpy(int)
        p = scored[f"score_{c}"].to_numpy(float)
        pred = p >= thresholds[c]
        tp = int(np.sum(pred & (y == 1)))
        prec, rec = tp / max(1, int(pred.sum())), tp / max(1, int(y.sum()))
        rows.append({
            "category": c, "カテゴリ": display_name(c), "threshold": thresholds[c],
            "precision": round(prec, 4), "recall": round(rec, 4),
            "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
            "pr_auc": round(float(average_precision_score(y, p)), 4) if y.any() else None,
            "ece": expected_calibration_error(p, y), "support": int(y.sum()),
            "fpr_benign": _rate(pred, ~gold_any), "fpr_hard_negative": _rate(pred, hard & ~gold_any),
        })
    return pd.DataFrame(rows).set_index("category")


def overall_metrics(scored: "pd.DataFrame", thresholds: dict[str, float],
                    harassment_rate: float = 0.02) -> dict[str, Any]:
    """Any-category recall, false-positive rates and alerts per 1,000 messages at ``thresholds``.

    >>> import pandas as pd
    >>> s = pd.DataFrame({f"{k}_{c}": [1, 0] if k == "gold" else [0.9, 0.2] for k in ("gold", "score")
    ...                   for c in CATEGORIES})
    >>> overall_metrics(s, {c: 0.5 for c in CATEGORIES})["any_recall"]
    1.0
    """
    gold_any = scored[[f"gold_{c}" for c in CATEGORIES]].to_numpy().any(axis=1)
    scores = scored[[f"score_{c}" for c in CATEGORIES]].to_numpy(float)
    flagged = (scores >= np.array([thresholds[c] for c in CATEGORIES])).any(axis=1)
    hard = scored["hard_negative"].to_numpy(bool) if "hard_negative" in scored else np.zeros(len(scored), bool)
    out: dict[str, Any] = {"n": int(len(scored)), "positives": int(gold_any.sum()),
                           "any_recall": _rate(flagged, gold_any), "fpr_benign": _rate(flagged, ~gold_any),
                           "fpr_hard_negative": _rate(flagged, hard & ~gold_any)}
    if out["any_recall"] is not None and out["fpr_benign"] is not None:
        out.update(alerts_per_1000(out["any_recall"], out["fpr_benign"], harassment_rate))
    return out


def threshold_curve(scored: "pd.DataFrame", category: str, grid: Sequence[float] = DEFAULT_GRID
                    ) -> "pd.DataFrame":
    """Precision, recall, F1 and false-positive rates of one category at each threshold of ``grid``.

    ``fpr`` counts messages without this category's gold label; ``fpr_benign`` messages with no
    gold label at all; ``fpr_hard_negative`` the angry-but-legitimate ones among those.
    """
    pd = require_pandas()
    if category not in CATEGORIES:
        raise KasuharaError(f"unknown category {category!r}; use {', '.join(CATEGORIES)}")
    y = scored[f"gold_{category}"].to_numpy(int) == 1
    p = scored[f"score_{category}"].to_numpy(float)
    gold_cols = [f"gold_{c}" for c in CATEGORIES if f"gold_{c}" in scored]
    benign = ~scored[gold_cols].to_numpy().any(axis=1)
    hard = scored["hard_negative"].to_numpy(bool) & benign if "hard_negative" in scored else benign & False
    rows = []
    for t in grid:
        pred = p >= t
        tp = int(np.sum(pred & y))
        prec = tp / int(pred.sum()) if pred.any() else 1.0  # nothing flagged: no false alarm either
        rec = tp / max(1, int(y.sum()))
        rows.append({"threshold": float(t), "precision": round(prec, 4), "recall": round(rec, 4),
                     "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
                     "fpr": _rate(pred, ~y), "fpr_benign": _rate(pred, benign),
                     "fpr_hard_negative": _rate(pred, hard)})
    return pd.DataFrame(rows)


def suggest_thresholds(scored: "pd.DataFrame", target_fpr: float = 0.02, floor: float = 0.3
                       ) -> dict[str, float]:
    """Per category, the best-F1 threshold whose false-positive rate stays within ``target_fpr`` on the
    messages without that category (benign text, hard negatives and other categories' positives; see
    :func:`kasuhara_nlp.calibration.choose_threshold`).

    The threshold is then moved down to the middle of the gap below it, which flags the same messages
    here: a threshold equal to the lowest positive score would lose any new message that scores a hair less.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"gold_abuse": [0, 0, 1, 1], "score_abuse": [0.1, 0.4, 0.6, 0.9]})
    >>> suggest_thresholds(s)["abuse"]  # between 0.4 (highest negative) and 0.6 (lowest positive)
    0.5
    """
    out = {}
    for c in CATEGORIES:
        if f"score_{c}" not in scored:
            continue
        y = scored[f"gold_{c}"].to_numpy(int)
        p = scored[f"score_{c}"].to_numpy(float)
        if not y.any():
            continue  # nothing to tune against: keep the model's threshold
        out[c] = _mid_gap(p, choose_threshold(p, y, target_fpr=target_fpr, floor=floor), floor)
    return out


def _mid_gap(scores: np.ndarray, threshold: float, floor: float) -> float:
    """The middle of the gap between ``threshold`` and the highest score below it (and above ``floor``):
    the same messages are flagged, with a margin on both sides."""
    below = scores[(scores < threshold) & (scores >= floor)]
    lower = float(below.max()) if below.size else floor
    mid = round((lower + threshold) / 2, 6)
    return mid if lower < mid <= threshold else threshold


def write_thresholds(path: str | Path, thresholds: dict[str, float], note: str = "",
                     model: str | None = None) -> Path:
    """Write a thresholds override file; return its path.

    The file holds ``{"thresholds": {...}, "note": ..., "written_at": ..., "model": ...}``, which
    :func:`kasuhara_nlp.config.load_thresholds` reads (the extra keys record why and for which model).

    >>> import os, tempfile
    >>> p = write_thresholds(os.path.join(tempfile.mkdtemp(), "t.json"), {"abuse": 0.7}, note="demo")
    >>> load_thresholds(p)
    {'abuse': 0.7}
    """
    thresholds = {c: round(float(v), 6) for c, v in thresholds.items()}
    _check_thresholds(thresholds, "write_thresholds")
    doc = {"thresholds": thresholds, "note": note,
           "written_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}
    if model:
        doc["model"] = model
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    load_thresholds(path)  # the file must read back exactly as `kasuhara scan --thresholds` will
    return path
