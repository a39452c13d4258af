"""scripts/average_weights.py names what it averaged, and the model card says so instead of a training run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from kasuhara_nlp.config import CONFIG_NAME
from kasuhara_nlp.model_card import write_card_files

ROOT = Path(__file__).resolve().parents[1]
TRAIN = {"epochs": 6, "learning_rate": 5e-5, "batch_size": 32, "max_length": 256, "seed": 13,
         "freeze_embeddings": True}


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("average_weights", ROOT / "scripts" / "average_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(name: str = "kasuhara-bert-ja", version: str = "1.6.0", **extra) -> dict:
    return {"backend": "bert-onnx", "name": name, "version": version, "thresholds": {}, "max_length": 256,
            "stride": 64, "extra": {"train_config": TRAIN, **extra}}


def test_record_sources_names_model_folders_and_checkpoints(script, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / CONFIG_NAME).write_text(json.dumps(_config(version="1.5.0")), encoding="utf-8")
    checkpoint = tmp_path / "run" / "epoch-3"  # a Hugging Face checkpoint: no kasuhara config
    checkpoint.mkdir(parents=True)
    out = tmp_path / "out" / CONFIG_NAME
    out.parent.mkdir()
    out.write_text(json.dumps(_config()), encoding="utf-8")
    script.record_sources(out, [str(shipped), str(checkpoint)], [0.7, 0.3])
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["extra"]["averaged"] == [{"name": "kasuhara-bert-ja 1.5.0", "weight": 0.7},
                                          {"name": str(checkpoint), "weight": 0.3}]
    assert saved["extra"]["train_config"] == TRAIN  # the rest of the config is kept


@pytest.mark.parametrize("averaged, says, never", [
    ([{"name": "kasuhara-bert-ja 1.5.0", "weight": 0.5}, {"name": "S", "weight": 0.5}],
     "- Weights: the mean of kasuhara-bert-ja 1.5.0 (weight 0.5) and S (weight 0.5)", "trained further"),
    (None, "- Training: 6 epochs max, lr 5e-05", "- Weights: the mean"),
])
def test_the_card_says_averaged_weights_had_no_training_of_their_own(tmp_path: Path, averaged, says, never) -> None:
    parent = {"name": "kasuhara-bert-ja", "version": "1.5.0"}
    config = _config(parent=parent, **({"averaged": averaged} if averaged else {}))
    text = write_card_files(tmp_path, {}, config).read_text(encoding="utf-8")
    assert says in text and never not in text
    assert ("the first model averaged" in text) == bool(averaged)
