"""Validated configuration of a saved model, and the names of saved artefacts.

A model folder holds :data:`CONFIG_NAME` (this config) and the backend's files.  Thresholds live
in the config; a user may override them with a small JSON file (:func:`load_thresholds`) because the
bundled folder may be read-only.

>>> cfg = ModelConfig(backend="baseline", name="demo", version="0")
>>> cfg.thresholds["abuse"]
0.5
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .labels import CATEGORIES

# File names inside a model folder.
CONFIG_NAME = "kasuhara_config.json"
ONNX_NAME = "model.onnx"
BASELINE_VOCAB_NAME = "baseline_vocab.json"
BASELINE_WEIGHTS_NAME = "baseline_weights.npz"
TOKENIZER_NAME = "tokenizer.json"
CARD_NAME = "MODEL_CARD.md"
REPORT_NAME = "evaluation.json"
THRESHOLDS_NAME = "thresholds.json"

BACKENDS = ("bert-onnx", "baseline")


def _check_thresholds(thresholds: dict[str, float], what: str) -> None:
    unknown = set(thresholds) - set(CATEGORIES)
    if unknown:
        raise ConfigError(f"{what}: unknown categories {sorted(unknown)}; use {', '.join(CATEGORIES)}")
    for cat, value in thresholds.items():
        if not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
            raise ConfigError(f"{what}: threshold for {cat!r} must be a number in (0, 1), got {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a classifier from its folder, besides the weights.

    Args:
        backend: "bert-onnx" (a BERT encoder served by ONNX Runtime) or "baseline" (TF-IDF + linear).
        name: model name shown in outputs (``model`` field).
        version: model version shown in outputs (``model_version`` field).
        thresholds: per-category probability at or above which the category is flagged.
        temperatures: per-category temperature applied to logits (calibration); 1.0 = none.
        max_length: tokens per window for the BERT backend (with special tokens).
        stride: tokens shared by consecutive windows of a long message.
        base: the pretrained base the model was fine-tuned from (for the card).
    """

    backend: str
    name: str
    version: str
    thresholds: dict[str, float] = field(default_factory=lambda: {c: 0.5 for c in CATEGORIES})
    temperatures: dict[str, float] = field(default_factory=lambda: {c: 1.0 for c in CATEGORIES})
    max_length: int = 128
    stride: int = 32
    base: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        _check_thresholds(self.thresholds, "thresholds")
        if set(self.thresholds) != set(CATEGORIES):
            raise ConfigError(f"thresholds must name every category: {', '.join(CATEGORIES)}")
        for cat, t in self.temperatures.items():
            if cat not in CATEGORIES or not float(t) > 0:
                raise ConfigError(f"temperature for {cat!r} must be > 0, got {t!r}")
        if not 8 <= self.max_length <= 4096:
            raise ConfigError(f"max_length must be between 8 and 4096, got {self.max_length}")
        if not 0 <= self.stride < self.max_length // 2:
            raise ConfigError(f"stride must be in [0, max_length/2), got {self.stride}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown keys in {CONFIG_NAME}: {sorted(unknown)}")
        return cls(**data)

    def save(self, folder: str | Path) -> None:
        path = Path(folder) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> "ModelConfig":
        path = Path(folder) / CONFIG_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path} cannot be read as JSON ({exc}); restore it from the model folder") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a JSON object; restore it from the model folder")
        try:
            return cls.from_dict(data)
        except TypeError as exc:  # a required key is missing, e.g. "backend"
            raise ConfigError(f"{path} is incomplete ({exc}); restore it from the model folder") from None


#: Keys a thresholds file may hold beside ``thresholds`` (written by :func:`kasuhara_nlp.tuning.write_thresholds`).
THRESHOLDS_FILE_KEYS = ("thresholds", "note", "written_at", "model")


def _thresholds_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"thresholds file {path} not found") from None
    except OSError as exc:  # a folder, no permission
        raise ConfigError(f"thresholds file {path} cannot be read ({exc}); pass a JSON file") from None
    try:
        text = raw.decode("utf-8-sig")  # Notepad and Excel start UTF-8 files with a BOM
    except UnicodeDecodeError as exc:
        try:
            raw.decode("cp932")
            guess = "it looks like CP932 (Shift_JIS), as Notepad saves 'ANSI'"
        except UnicodeDecodeError:
            guess = "it is not text"
        raise ConfigError(f"thresholds file {path} is not UTF-8 ({guess}; {exc.reason} at byte {exc.start}); "
                          "save it as UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"thresholds file {path} is not valid JSON: {exc}") from None


def load_thresholds(path: str | Path, *, model: str | None = None) -> dict[str, float]:
    """Read a thresholds override file: ``{"abuse": 0.6, ...}`` (any subset of categories).

    Also accepts ``{"thresholds": {...}}`` as written by the tuning notebook, with its ``note``,
    ``written_at`` and ``model`` beside it; any other key there is refused (a category beside
    ``thresholds`` would be ignored).  A file that names no category is refused too: it changes nothing,
    so it is most likely not the file meant.  UTF-8, with or without a BOM.

    ``model`` ("name version" of the model the thresholds are for): a file written for another model
    gives a warning, since its thresholds were tuned on that model's scores.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.json")
    >>> _ = open(p, "w").write('{"abuse": 0.7}')
    >>> load_thresholds(p)
    {'abuse': 0.7}
    """
    path = Path(path)
    data = _thresholds_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"thresholds file {path} must hold a JSON object of category -> threshold")
    written_for = None
    if "thresholds" in data:
        beside = [k for k in data if k not in THRESHOLDS_FILE_KEYS]
        categories = [k for k in beside if k in CATEGORIES]
        if categories:
            raise ConfigError(f"thresholds file {path} has {', '.join(map(repr, categories))} beside 'thresholds', "
                              "where it is not read; put every threshold inside 'thresholds'")
        if beside:
            raise ConfigError(f"thresholds file {path}: unknown key(s) {sorted(beside)}; the file holds "
                              f"'thresholds' and may hold {', '.join(THRESHOLDS_FILE_KEYS[1:])}")
        written_for = data.get("model")
        data = data["thresholds"]
        if not isinstance(data, dict):
            raise ConfigError(f"thresholds file {path}: 'thresholds' must hold a JSON object of category -> threshold")
    if not data:
        raise ConfigError(f"thresholds file {path} names no category, so it would change nothing; give e.g. "
                          '{"abuse": 0.6}, or leave out --thresholds to use the model\'s own')
    _check_thresholds(data, f"thresholds file {path}")
    if model and written_for and str(written_for) != model:
        warnings.warn(f"thresholds file {path} was written for {written_for}, not for {model}: its thresholds "
                      "were tuned on that model's scores; tune them again for this model (notebooks/02)",
                      UserWarning, stacklevel=2)
    return {k: float(v) for k, v in data.items()}
