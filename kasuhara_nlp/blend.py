"""Blending a fine-tuned BERT with the scikit-learn baseline, and pairing a trained BERT with a new baseline.

The two err differently and their weighted mean ranks better than either, above all on writers neither saw
(docs/training.md §6); the BERT's share is chosen on dev by mean PR-AUC among :data:`BLEND_WEIGHTS`.
:func:`reblend` needs no torch and no fine-tuning: the baseline retrains in about a minute, so corrected
labels reach a shipped model's baseline share, weight and thresholds while its BERT files stay byte for byte.

>>> import numpy as np
>>> y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
>>> bert = np.array([[0.9, 0.2], [0.8, 0.8], [0.7, 0.9], [0.1, 0.1]])  # ranks a negative above a positive
>>> base = np.array([[0.8, 0.1], [0.2, 0.7], [0.9, 0.6], [0.3, 0.2]])
>>> choose_blend_weight(bert, base, y)
(0.7, {0.3: 1.0, 0.5: 1.0, 0.7: 1.0, 1.0: 0.9167})
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from .config import BASELINE_VOCAB_NAME, BASELINE_WEIGHTS_NAME, CARD_NAME, CONFIG_NAME, REPORT_NAME, ModelConfig
from .errors import ConfigError

BLEND_WEIGHTS = (0.3, 0.5, 0.7, 1.0)  # BERT's share when blended with the baseline


def mean_pr_auc(y: np.ndarray, probs: np.ndarray) -> float:
    """PR-AUC (average precision) of each column of ``probs`` against ``y``, averaged over the columns."""
    from sklearn.metrics import average_precision_score

    return float(np.mean([average_precision_score(y[:, j], probs[:, j]) for j in range(y.shape[1])]))


def choose_blend_weight(bert_probs: np.ndarray, base_probs: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The BERT weight with the best mean PR-AUC on ``y`` (ties go to the BERT), and every candidate's score."""
    scores = {w: round(mean_pr_auc(y, w * bert_probs + (1 - w) * base_probs), 4) for w in BLEND_WEIGHTS}
    return max(scores, key=lambda w: (scores[w], w)), scores


def baseline_name(folder: str | Path) -> str:
    """"name version" of a baseline model folder, for the card; the path when it has no config."""
    if not (Path(folder) / CONFIG_NAME).exists():
        return str(folder)
    cfg = ModelConfig.load(folder)
    return f"{cfg.name} {cfg.version}"


def reblend(config, messages: list):
    """Pair the trained BERT folder ``config.base`` with the baseline ``config.blend_baseline``.

    Writes ``config.out_dir``: the BERT's files copied unchanged (its temperatures too), the baseline's files,
    and a config whose blend weight and thresholds are chosen again on the dev split (``config`` is a
    :class:`~kasuhara_nlp.train.TrainConfig` with ``model="blend"``). Returns the loaded classifier.
    """
    from .baseline import BaselineModel
    from .bert import BertScorer
    from .classifier import KasuharaClassifier
    from .train import fit_thresholds, split_messages

    src, out = Path(config.base), Path(config.out_dir)
    parent = ModelConfig.load(src)
    if parent.backend != "bert-onnx":
        raise ConfigError(f"{src} is a {parent.backend} model; --base must be a trained BERT model folder "
                          "(e.g. models/kasuhara-bert-ja)")
    baseline = BaselineModel.load(config.blend_baseline)
    _, dev = split_messages(messages)
    out.mkdir(parents=True, exist_ok=True)
    if src.resolve() != out.resolve():
        # The evaluation and card describe the old blend; `kasuhara evaluate --write-card` writes new ones.
        for f in src.iterdir():
            if f.is_file() and f.name not in (CARD_NAME, REPORT_NAME):
                shutil.copy2(f, out / f.name)
    for name in (BASELINE_VOCAB_NAME, BASELINE_WEIGHTS_NAME):
        shutil.copy2(Path(config.blend_baseline) / name, out / name)

    texts = [m.text for m in dev]
    unblended = replace(parent, extra={k: v for k, v in parent.extra.items() if k != "blend"})
    bert, _ = BertScorer(out, unblended).score_bert(texts)
    base, _ = baseline.score(texts)
    weight, scores = choose_blend_weight(bert, base, np.array([m.label_vector for m in dev]))
    thresholds = fit_thresholds(weight * bert + (1 - weight) * base, dev, config)
    extra = {**parent.extra, "reblended_from": f"{parent.name} {parent.version}",
             "blend": {"bert_weight": weight, "dev_pr_auc_by_bert_weight": scores,
                       "baseline": baseline_name(config.blend_baseline)}}
    replace(parent, version=config.version, thresholds=thresholds, extra=extra).save(out)
    return KasuharaClassifier.from_pretrained(out)
