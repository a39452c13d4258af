"""Training arguments and the scikit-learn baseline; the BERT fine-tuning is in :mod:`.bert_train`.

Both end the same way: temperatures and per-category thresholds chosen on the dev split for a
target false-positive rate on benign-heavy text, then a model folder that
:meth:`KasuharaClassifier.from_pretrained` loads.

>>> TrainConfig(model="baseline", out_dir="/tmp/m").target_fpr
0.03
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import choose_threshold
from .config import ModelConfig
from .errors import ConfigError, KasuharaError
from .labels import CATEGORIES

PUBLIC_BENIGN_SOURCES = ("asdc", "jmultiwoz")


@dataclass(frozen=True)
class TrainConfig:
    """Arguments of `kasuhara train`, validated.

    Args:
        model: "baseline", "bert", or "blend" (pair the trained BERT folder ``base`` with the baseline
            ``blend_baseline``, choosing the weight and thresholds again on dev; no fine-tuning).
        out_dir: the model folder to write.
        base: for "bert", a local folder or Hugging Face id of a BERT-family encoder.
        target_fpr: per-category false-positive rate allowed on labelled dev negatives.
        benign_fpr: per-category false-positive rate allowed on real benign customer text.
        layers: keep this many encoder layers of the base, evenly spaced and ending with the last
            (0 keeps all); half the layers scan about twice as fast.
        teacher: a fine-tuned model folder whose logits the student also learns from (distillation); several
            folders joined by commas are an ensemble, whose logits are averaged.
        distill_weight: the teacher's share of the loss, from 0 (labels only) to 1 (teacher only).
        blend_baseline: a baseline model folder whose probabilities are blended with the BERT's.
        nbsvm: for "baseline", average an NB-SVM over character 1-4 grams into the category heads.
        vote_dir: a data folder with independent labellings in ``agreement/`` (the bundled ``data/``): the
            BERT learns each category's share of labellers instead of the majority label (:mod:`.votes`).
        subtype_weight: for "bert", weight of an auxiliary loss on the records' subtypes (0: none); the extra
            head rows are dropped before export (:mod:`.subtypes`).
        checkpoint_dir: save the model after every epoch in ``epoch-N`` folders here, so that a long CPU
            run can be resumed (``--base`` a checkpoint) or its epochs averaged.
    """

    model: str = "baseline"
    out_dir: str = "models/kasuhara-baseline"
    name: str = ""
    version: str = "0.1.0"
    base: str = ""
    epochs: int = 6
    learning_rate: float = 5e-5
    batch_size: int = 32
    max_length: int = 128
    stride: int = 32
    seed: int = 13
    patience: int = 2
    freeze_embeddings: bool = True
    target_fpr: float = 0.03
    benign_fpr: float = 0.003
    device: str = "auto"
    max_minutes: float = 0.0  # 0 = no wall-clock budget
    layers: int = 0
    teacher: str = ""
    distill_weight: float = 0.5
    blend_baseline: str = ""
    checkpoint_dir: str = ""
    nbsvm: bool = False
    vote_dir: str = ""
    subtype_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.model not in ("baseline", "bert", "blend"):
            raise ConfigError(f"model must be 'baseline', 'bert' or 'blend', got {self.model!r}")
        if self.model == "bert" and not self.base:
            raise ConfigError("training a BERT model needs --base (a local folder or a Hugging Face id)")
        if self.model == "blend" and not (self.base and self.blend_baseline):
            raise ConfigError("--model blend needs --base (a trained BERT model folder) and --blend-baseline "
                              "(a baseline model folder)")
        for key in ("target_fpr", "benign_fpr"):
            if not 0.0 < getattr(self, key) < 1.0:
                raise ConfigError(f"{key} must be in (0, 1), got {getattr(self, key)}")
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ConfigError("epochs and batch_size must be >= 1 and learning_rate > 0")
        if not 0 <= self.stride < self.max_length // 2:
            raise ConfigError(f"stride must be in [0, max_length/2), got {self.stride} with max_length {self.max_length}")
        if self.layers < 0:
            raise ConfigError(f"layers must be >= 0 (0 keeps all of the base's layers), got {self.layers}")
        if not 0.0 <= self.distill_weight <= 1.0:
            raise ConfigError(f"distill_weight must be in [0, 1], got {self.distill_weight}")
        if self.subtype_weight < 0:
            raise ConfigError(f"subtype_weight must be >= 0 (0 turns the subtype loss off), got {self.subtype_weight}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device must be auto, cpu or cuda, got {self.device!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def split_messages(messages: list) -> tuple[list, list]:
    """(train, dev) messages; raises when either is empty."""
    train = [m for m in messages if m.split == "train"]
    dev = [m for m in messages if m.split == "dev"]
    if not train or not dev:
        raise KasuharaError(
            f"training needs messages in both the train and dev splits (got {len(train)} train, {len(dev)} dev); "
            "splits come from each record's 'split' field or its scenario 'family'"
        )
    return train, dev


def fit_thresholds(probs: np.ndarray, dev: list, config: TrainConfig) -> dict[str, float]:
    """Per-category thresholds on dev: best F1 within the false-positive targets."""
    y = np.array([m.label_vector for m in dev])
    public = np.array([m.source in PUBLIC_BENIGN_SOURCES for m in dev])
    labelled = ~public
    out = {}
    for j, c in enumerate(CATEGORIES):
        out[c] = choose_threshold(
            probs[labelled, j], y[labelled, j], target_fpr=config.target_fpr,
            extra=[(probs[public, j], config.benign_fpr)],
        )
    return out


def train_baseline(config: TrainConfig, messages: list):
    """Fit the TF-IDF + logistic-regression baseline and save it to ``config.out_dir``."""
    from .baseline import BaselineModel
    from .classifier import KasuharaClassifier

    set_seed(config.seed)
    train, dev = split_messages(messages)
    model = BaselineModel(nbsvm=config.nbsvm).fit(
        [m.text for m in train], [m.label_vector for m in train], [m.severity for m in train]
    )
    dev_probs, _ = model.score([m.text for m in dev])
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    cfg = ModelConfig(
        backend="baseline", name=config.name or "kasuhara-baseline", version=config.version,
        thresholds=fit_thresholds(dev_probs, dev, config),
        base="tfidf-mecab-char+logreg" + (" + nbsvm-char1-4" if config.nbsvm else ""),
        extra={"train_size": len(train), "dev_size": len(dev), "train_config": config.to_dict()},
    )
    cfg.save(out)
    return KasuharaClassifier.from_pretrained(out)
