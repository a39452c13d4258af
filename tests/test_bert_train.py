"""Fine-tuning helpers: length-bucketed batches, layer pruning, distillation from a teacher."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.train import TrainConfig

pytest.importorskip("torch")

from kasuhara_nlp.bert_train import _bucketed_order, _keep_layers, fine_tune, predict_logits  # noqa: E402


@pytest.mark.parametrize("kwargs, message", [
    ({"layers": -1}, "layers must be >= 0"),
    ({"distill_weight": 1.5}, "distill_weight must be in"),
    ({"distill_weight": -0.1}, "distill_weight must be in"),
])
def test_invalid_distillation_settings_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(model="bert", base="b", **kwargs)


def _width_waste(enc_ids, order, size):
    """Padding tokens a batching order adds."""
    waste = 0
    for b in range(0, len(order), size):
        lengths = [len(enc_ids[k]) for k in order[b:b + size]]
        waste += max(lengths) * len(lengths) - sum(lengths)
    return waste


def test_bucketed_order_is_a_new_permutation_each_epoch_with_little_padding():
    rng = np.random.default_rng(0)
    enc_ids = [[1] * int(n) for n in rng.integers(3, 257, size=3000)]
    first = _bucketed_order(enc_ids, 16, rng)
    second = _bucketed_order(enc_ids, 16, rng)
    assert sorted(first) == list(range(3000)) == sorted(second)
    assert first != second
    random_order = rng.permutation(3000).tolist()
    assert _width_waste(enc_ids, first, 16) < 0.2 * _width_waste(enc_ids, random_order, 16)


def test_keep_layers_is_evenly_spaced_and_ends_with_the_last():
    from transformers import BertConfig, BertForSequenceClassification

    model = BertForSequenceClassification(BertConfig(
        vocab_size=32, hidden_size=16, num_hidden_layers=12, num_attention_heads=2, intermediate_size=32))
    layers = list(model.base_model.encoder.layer)
    assert _keep_layers(model, 6) == [1, 3, 5, 7, 9, 11]
    assert list(model.base_model.encoder.layer) == [layers[i] for i in (1, 3, 5, 7, 9, 11)]
    assert model.config.num_hidden_layers == 6
    assert _keep_layers(model, 0) == list(range(6))  # 0 keeps all


def _teacher(base, folder):
    """The tiny base with a head that gives large, input-dependent logits, unlike anything the labels teach."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(base)
    with torch.no_grad():
        model.classifier.weight.mul_(40.0)
        model.classifier.bias.copy_(torch.tensor([3.0, -3.0, 2.0, -2.0, 1.0, -1.0, 0.5, -0.5]))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return folder


def test_distilled_student_moves_towards_its_teacher(tmp_path, tiny_bert_dir, tiny_messages):
    """A 1-layer student trained on the teacher's logits alone ends much closer to the teacher."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    teacher_dir = _teacher(tiny_bert_dir, tmp_path / "teacher")
    cfg = TrainConfig(model="bert", base=str(tiny_bert_dir), teacher=str(teacher_dir),
                      out_dir=str(tmp_path / "student"), layers=1, distill_weight=1.0, epochs=1, batch_size=16,
                      learning_rate=2e-3, max_length=32, stride=8, freeze_embeddings=False)
    texts = [m.text for m in tiny_messages if m.split == "train"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    target = predict_logits(AutoModelForSequenceClassification.from_pretrained(teacher_dir), tokenizer, texts,
                            cfg, "cpu")
    start = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir)
    _keep_layers(start, 1)
    before = np.abs(predict_logits(start, tokenizer, texts, cfg, "cpu") - target).mean()

    # One long epoch (the train split ten times over): early stopping on dev labels has nothing to pick.
    many = [m for m in tiny_messages if m.split != "train"]
    many += [replace(m, id=f"{m.id}-{k}") for k in range(10) for m in tiny_messages if m.split == "train"]
    student, _, history = fine_tune(cfg, many)
    after = np.abs(predict_logits(student, tokenizer, texts, cfg, "cpu") - target).mean()
    assert student.config.num_hidden_layers == 1
    assert len(student.base_model.encoder.layer) == 1
    assert after < 0.5 * before, (before, after, history)


def test_several_teachers_are_an_ensemble_whose_logits_are_averaged(tmp_path, tiny_bert_dir, tiny_messages):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from kasuhara_nlp.bert_train import _teacher_logits

    first = _teacher(tiny_bert_dir, tmp_path / "t1")
    second = AutoModelForSequenceClassification.from_pretrained(first)
    with torch.no_grad():
        second.classifier.bias.mul_(-2.0)  # a second teacher that disagrees with the first
    second.save_pretrained(tmp_path / "t2")
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(tmp_path / "t2")
    texts = [m.text for m in tiny_messages[:12]]
    cfg = TrainConfig(model="bert", base=str(tiny_bert_dir), max_length=32, stride=8)
    one = _teacher_logits(replace(cfg, teacher=str(first)), texts, "cpu")
    two = _teacher_logits(replace(cfg, teacher=str(tmp_path / "t2")), texts, "cpu")
    both = _teacher_logits(replace(cfg, teacher=f"{first}, {tmp_path / 't2'}"), texts, "cpu")
    assert np.abs(one - two).max() > 1.0
    np.testing.assert_allclose(both, (one + two) / 2, atol=1e-5)


def test_training_further_from_a_trained_model_records_where_its_weights_came_from(
        tmp_path, tiny_classifier_dir, tiny_messages):
    """Fine-tuning from a kasuhara model folder keeps its depth and names it as the parent in config and card."""
    import json

    from kasuhara_nlp.bert_train import train_bert
    from kasuhara_nlp.config import CARD_NAME, CONFIG_NAME
    from kasuhara_nlp.model_card import write_card_files

    parent = json.loads((tiny_classifier_dir / CONFIG_NAME).read_text(encoding="utf-8"))
    cfg = TrainConfig(model="bert", base=str(tiny_classifier_dir), out_dir=str(tmp_path / "child"), epochs=1,
                      batch_size=16, learning_rate=1e-3, max_length=32, stride=8, version="9.9.9")
    child = train_bert(cfg, tiny_messages)
    saved = json.loads((tmp_path / "child" / CONFIG_NAME).read_text(encoding="utf-8"))
    assert saved["extra"]["parent"]["version"] == parent["version"]
    assert saved["extra"]["parent"]["history"] == parent["extra"]["history"]
    assert saved["base"].startswith(f"{parent['name']} {parent['version']}, trained further")
    assert child.info()["model_version"] == "9.9.9"
    assert saved["extra"]["train_config"]["device"] == "cpu"  # "auto" resolved, as the card reports it
    depth = [json.loads((d / "config.json").read_text())["num_hidden_layers"]
             for d in (tiny_classifier_dir, tmp_path / "child")]
    assert depth[0] == depth[1]
    card = write_card_files(tmp_path / "child", {"model": {}}, saved).parent / CARD_NAME
    assert f"Started from {parent['name']} {parent['version']}" in card.read_text(encoding="utf-8")


def test_checkpoint_dir_keeps_every_epoch_with_its_history(tmp_path, tiny_bert_dir, tiny_messages):
    """Each epoch is saved as a loadable checkpoint (resume with --base, or average epochs)."""
    import json

    from transformers import AutoModelForSequenceClassification

    cfg = TrainConfig(model="bert", base=str(tiny_bert_dir), epochs=2, batch_size=16, learning_rate=1e-3,
                      max_length=32, stride=8, patience=5, checkpoint_dir=str(tmp_path / "ckpt"))
    model, _, history = fine_tune(cfg, tiny_messages)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["epoch-1", "epoch-2"]
    assert json.loads((tmp_path / "ckpt" / "epoch-2" / "history.json").read_text()) == history
    assert len(json.loads((tmp_path / "ckpt" / "epoch-1" / "history.json").read_text())) == 1
    saved = AutoModelForSequenceClassification.from_pretrained(tmp_path / "ckpt" / "epoch-1")
    assert saved.config.num_labels == model.config.num_labels


def test_average_weights_interpolates_between_two_models_of_one_shape():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from kasuhara_nlp.bert_train import average_weights

    def tiny(seed, layers=2):
        torch.manual_seed(seed)
        return BertForSequenceClassification(BertConfig(
            vocab_size=32, hidden_size=16, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=32))

    a, b = tiny(0), tiny(1)
    wa, wb = a.classifier.weight.detach().clone(), b.classifier.weight.detach().clone()
    mixed = average_weights(a, b, 0.25)
    assert torch.allclose(mixed.classifier.weight, 0.75 * wa + 0.25 * wb)
    assert torch.equal(average_weights(tiny(0), b, 0.0).classifier.weight, wa)
    with pytest.raises(ConfigError, match="differ in architecture"):
        average_weights(tiny(0), tiny(1, layers=1))
    with pytest.raises(ConfigError, match="alpha must be in"):
        average_weights(tiny(0), b, 1.5)


def test_thresholds_are_chosen_on_the_scores_the_exported_model_serves(tiny_classifier_dir, tiny_messages):
    """Choosing thresholds again on the served (ONNX, windowed) dev scores gives back the saved ones."""
    from kasuhara_nlp.classifier import KasuharaClassifier
    from kasuhara_nlp.labels import CATEGORIES
    from kasuhara_nlp.train import fit_thresholds, split_messages

    clf = KasuharaClassifier.from_pretrained(tiny_classifier_dir)
    _, dev = split_messages(tiny_messages)
    probs = np.array([[p.scores[c] for c in CATEGORIES]
                      for p in clf.predict([m.text for m in dev], raw=True, evidence=False)])
    chosen = fit_thresholds(probs, dev, TrainConfig(model="bert", base="b"))
    assert chosen == pytest.approx(clf.thresholds, abs=1e-5)  # predict() rounds scores to 6 decimals
