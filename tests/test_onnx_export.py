"""The ONNX export: padding stays masked and the 8-bit file stays close to PyTorch."""

import numpy as np
import pytest

pytest.importorskip("torch")


def test_export_keeps_padding_and_outputs_of_a_sensitive_model(tmp_path):
    """A random BERT with large weights reacts strongly to every token, padding included: the exported
    graph must mask padded positions, and the int8 file must stay close to PyTorch."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from kasuhara_nlp.bert import OnnxRunner
    from kasuhara_nlp.onnx_export import export_onnx

    torch.manual_seed(1)
    model = BertForSequenceClassification(BertConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        num_labels=8, initializer_range=0.3)).eval()
    samples = [[2, 5, 6, 7, 3], [2, 9, 10, 11, 12, 13, 14, 15, 16, 17, 3], [2, 20, 3]]
    reported = export_onnx(model, tmp_path, samples, pad_id=0)
    ids = np.zeros((3, 11), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, x in enumerate(samples):
        ids[r, :len(x)] = x
        mask[r, :len(x)] = 1
    fresh = BertForSequenceClassification(model.config)
    fresh.load_state_dict(model.state_dict())
    with torch.no_grad():
        ref = fresh.eval()(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
        alone = fresh(input_ids=torch.tensor([samples[2]])).logits.numpy()
    got = OnnxRunner(tmp_path / "model.onnx")(ids, mask)
    assert np.abs(ref[2] - alone[0]).max() < 1e-4  # padding does not leak into PyTorch's answer...
    assert np.abs(got - ref).max() < 0.1 * np.abs(ref).max()  # ...nor into the exported graph's
    assert reported < 0.1
