"""Pairing a trained BERT with a baseline: the weight and thresholds chosen on dev, the BERT left as it was."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kasuhara_nlp.baseline import BaselineModel
from kasuhara_nlp.blend import choose_blend_weight, reblend
from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.config import CARD_NAME
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.model_card import write_card_files
from kasuhara_nlp.train import TrainConfig, fit_thresholds


@pytest.mark.parametrize("bert, base, expected", [
    ([0.9, 0.8, 0.2, 0.1], [0.5, 0.5, 0.5, 0.5], 1.0),  # the baseline knows nothing: the BERT alone
    ([0.2, 0.1, 0.9, 0.8], [0.9, 0.8, 0.2, 0.1], 0.3),  # the BERT ranks backwards: the baseline's largest share
])
def test_blend_weight_follows_dev_pr_auc(bert, base, expected):
    y = np.array([[1], [1], [0], [0]])
    weight, scores = choose_blend_weight(np.array(bert)[:, None], np.array(base)[:, None], y)
    assert weight == expected and set(scores) == {0.3, 0.5, 0.7, 1.0}


def test_reblend_keeps_the_bert_and_rechooses_weight_and_thresholds(tmp_path, tiny_classifier_dir, baseline_dir,
                                                                    tiny_messages):
    out = tmp_path / "blended"
    cfg = TrainConfig(model="blend", base=str(tiny_classifier_dir), blend_baseline=str(baseline_dir),
                      out_dir=str(out), version="9.9.9")
    clf = reblend(cfg, tiny_messages)
    assert (out / "model.onnx").read_bytes() == (tiny_classifier_dir / "model.onnx").read_bytes()
    assert (out / "baseline_weights.npz").read_bytes() == (baseline_dir / "baseline_weights.npz").read_bytes()
    saved = json.loads((out / "kasuhara_config.json").read_text())
    parent = json.loads((tiny_classifier_dir / "kasuhara_config.json").read_text())
    assert saved["version"] == "9.9.9" and saved["temperatures"] == parent["temperatures"]
    assert saved["extra"]["reblended_from"] == f"{parent['name']} {parent['version']}"
    assert saved["extra"]["blend"]["baseline"] == "kasuhara-baseline 0.1.0"
    assert saved["extra"]["train_config"] == parent["extra"]["train_config"]  # the BERT's own training

    # What the saved model scores is the chosen mix of the unchanged BERT and the baseline...
    dev = [m for m in tiny_messages if m.split == "dev"]
    texts = [m.text for m in dev]
    bert, _ = KasuharaClassifier.from_pretrained(tiny_classifier_dir).scorer.score_bert(texts)
    base, _ = BaselineModel.load(baseline_dir).score(texts)
    w = saved["extra"]["blend"]["bert_weight"]
    np.testing.assert_allclose(clf.predict_proba(texts, raw=True), w * bert + (1 - w) * base, atol=1e-6)
    # ...and its thresholds are the ones dev gives for that mix.
    assert clf.thresholds == fit_thresholds(w * bert + (1 - w) * base, dev, cfg)
    card = write_card_files(out, {"model": {}}, saved).parent / CARD_NAME
    text = card.read_text(encoding="utf-8")
    assert "Blended with the baseline kasuhara-baseline 0.1.0" in text and "--model blend" in text


def test_reblend_needs_a_bert_folder(tmp_path, baseline_dir, tiny_messages):
    cfg = TrainConfig(model="blend", base=str(baseline_dir), blend_baseline=str(baseline_dir),
                      out_dir=str(tmp_path / "x"))
    with pytest.raises(ConfigError, match="trained BERT model folder"):
        reblend(cfg, tiny_messages)


@pytest.mark.parametrize("kwargs", [{"base": "m"}, {"blend_baseline": "b"}, {}])
def test_blend_config_needs_both_folders(kwargs):
    with pytest.raises(ConfigError, match="--model blend needs --base"):
        TrainConfig(model="blend", **kwargs)
