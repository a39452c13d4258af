"""The auxiliary subtype head: targets from records, and a head that widens for training and narrows for export."""

from dataclasses import replace

import numpy as np
import pytest

from kasuhara_nlp.subtypes import narrow_head, subtype_targets, widen_head

TARGET_CASES = [
    # extras, names, targets, mask
    ([{"subtypes": ["B2"]}, {"subtypes": ["A1", "B2"]}], ["A1", "B2"], [[0, 1], [1, 1]], [True, True]),
    ([{"subtypes": []}, {}], [], [[], []], [True, False]),  # public data: no field, masked out
    ([], [], [], []),
]


@pytest.mark.parametrize("extras,names,targets,mask", TARGET_CASES)
def test_subtype_targets(extras, names, targets, mask):
    got_names, got_targets, got_mask = subtype_targets(extras)
    assert got_names == names
    assert got_targets.reshape(len(extras), len(names)).tolist() == targets
    assert got_mask.tolist() == mask


def _xlmr_classifier():
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    return XLMRobertaForSequenceClassification(XLMRobertaConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        num_labels=8))


@pytest.mark.parametrize("kind", ["bert", "xlm-r"])  # BERT's head is `classifier`, XLM-R's `classifier.out_proj`
def test_widened_head_keeps_the_trained_outputs_and_narrows_back(kind, tiny_bert_dir):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = (AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=8) if kind == "bert"
             else _xlmr_classifier()).eval()
    ids = torch.tensor([[2, 10, 11, 12, 3]])
    with torch.no_grad():
        before = model(input_ids=ids).logits.numpy()
        widen_head(model, 5, torch)
        wide = model(input_ids=ids).logits.numpy()
        narrow_head(model, 8, torch)
        after = model(input_ids=ids).logits.numpy()
    assert wide.shape == (1, 13)
    np.testing.assert_allclose(wide[:, :8], before, atol=1e-6)
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert model.config.num_labels == 8


def test_subtype_weight_trains_and_returns_the_eight_output_head(tmp_path, tiny_bert_dir, tiny_messages):
    pytest.importorskip("torch")
    from transformers import AutoModelForSequenceClassification
    from kasuhara_nlp.bert_train import N_OUT, fine_tune, predict_logits
    from kasuhara_nlp.train import TrainConfig

    subtype = {"abuse": "A3", "demand": "B1", "restraint": "C1", "other_harassment": "D1"}
    tagged = [replace(m, extra={"subtypes": [subtype[c] for c in m.labels]}) for m in tiny_messages]
    plain = TrainConfig(model="bert", base=str(tiny_bert_dir), epochs=1, batch_size=16, learning_rate=2e-3,
                        max_length=32, stride=8, freeze_embeddings=False, checkpoint_dir=str(tmp_path / "ckpt"))
    texts = [m.text for m in tagged[:6]]
    logits = []
    for cfg in (plain, replace(plain, subtype_weight=1.0)):
        model, tokenizer, _ = fine_tune(cfg, tagged)
        assert model.config.num_labels == N_OUT
        logits.append(predict_logits(model, tokenizer, texts, cfg, "cpu"))
    # Same seed and batches: only the extra loss differs, so the encoder must have learnt something else.
    assert np.abs(logits[0] - logits[1]).max() > 1e-3
    # The epoch checkpoint of the subtype run loads as a plain eight-output model (what --base needs).
    saved = AutoModelForSequenceClassification.from_pretrained(tmp_path / "ckpt" / "epoch-1")
    assert saved.config.num_labels == N_OUT
    np.testing.assert_allclose(predict_logits(saved, tokenizer, texts, plain, "cpu"), logits[1], atol=1e-2)


def test_subtype_weight_without_subtypes_is_an_error(tiny_bert_dir, tiny_messages):
    pytest.importorskip("torch")
    from kasuhara_nlp.bert_train import fine_tune
    from kasuhara_nlp.errors import ConfigError
    from kasuhara_nlp.train import TrainConfig

    cfg = TrainConfig(model="bert", base=str(tiny_bert_dir), epochs=1, max_length=32, stride=8, subtype_weight=0.5)
    with pytest.raises(ConfigError, match="subtypes"):
        fine_tune(cfg, tiny_messages)
