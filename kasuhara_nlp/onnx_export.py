"""Export a fine-tuned sequence classifier to ONNX with 8-bit weights, and check it against PyTorch.

Scanning serves this file with ONNX Runtime, so it never needs torch; only this export (at the end of training)
does.  Why weight-only 8 bits rather than ONNX Runtime's dynamic int8: see :func:`quantize_weights_int8`.

>>> ONNX_FP32_NAME
'model.fp32.onnx'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import ONNX_NAME

ONNX_FP32_NAME = "model.fp32.onnx"  # the unquantised graph, deleted once the 8-bit file is written


def _logits_only(model, torch):
    """Wrap a sequence classifier so that the exported graph returns one logits tensor."""

    class LogitsOnly(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    return LogitsOnly()


def quantize_weights_int8(fp32_path: Path, out_path: Path) -> None:
    """Store every MatMul weight in 8 bits (blocks of 32, one scale each) and the word embeddings in
    int8; activations are not quantised with one scale per tensor.

    Why not ONNX Runtime's dynamic int8 for the MatMuls (``quantize_dynamic``)?  It quantises
    activations with one scale per tensor, and multilingual-e5's hidden states carry outlier
    dimensions: on the 1.0.0 model it moved probabilities by up to 0.77.  Weight-only 8-bit blocks
    keep the largest difference near a tenth (0.11 on the shipped model's 256 dev messages) at
    the same speed on 2 CPU cores.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32_path)), bits=8, block_size=32, is_symmetric=True,
                                     accuracy_level=4)
    quantizer.process()
    matmuls = out_path.with_suffix(".matmul.onnx")
    quantizer.model.save_model_to_file(str(matmuls), use_external_data_format=False)
    # The embedding lookup (Gather) is weight-only by nature: int8 rows, dequantised when read.
    quantize_dynamic(str(matmuls), str(out_path), weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"])
    matmuls.unlink()


def export_onnx(model, out: Path, sample_ids: list[list[int]], pad_id: int) -> float:
    """Export to ONNX, quantise weights to int8, and return the max probability difference between
    PyTorch and the int8 ONNX model on ``sample_ids`` (padded batches, as scanning runs them)."""
    import torch

    from .bert import OnnxRunner

    model.eval()
    # Eager attention: the SDPA path decides from the example mask whether masking is needed, and
    # tracing would freeze that decision into the graph.
    model.config._attn_implementation = "eager"
    wrapper = _logits_only(model, torch)
    batches = []
    for b in range(0, len(sample_ids), 32):
        chunk = sample_ids[b:b + 32]
        ids = np.full((len(chunk), max(len(x) for x in chunk)), pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, x in enumerate(chunk):
            ids[r, :len(x)] = x
            mask[r, :len(x)] = 1
        # The reference is computed before exporting: after torch.onnx.export the traced module's
        # eager outputs are not to be trusted (seen here: probabilities off by up to 0.9).
        with torch.no_grad():
            batches.append((ids, mask, wrapper(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()))
    dummy = torch.ones((2, 16), dtype=torch.long)
    dummy_mask = torch.ones_like(dummy)
    dummy_mask[1, 8:] = 0  # one padded row, so the traced graph keeps the masking path
    fp32 = out / ONNX_FP32_NAME
    torch.onnx.export(
        wrapper, (dummy, dummy_mask), str(fp32), input_names=["input_ids", "attention_mask"],
        output_names=["logits"], opset_version=17, dynamo=False,
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "logits": {0: "batch"}},
    )
    quantize_weights_int8(fp32, out / ONNX_NAME)
    fp32.unlink()
    runner = OnnxRunner(out / ONNX_NAME)
    diffs = [float(np.max(np.abs(_probs(ref) - _probs(runner(ids, mask))))) for ids, mask, ref in batches]
    return round(max(diffs, default=0.0), 6)


def _probs(logits: np.ndarray) -> np.ndarray:
    cat = 1 / (1 + np.exp(-logits[:, :4]))
    s = np.exp(logits[:, 4:] - logits[:, 4:].max(1, keepdims=True))
    return np.concatenate([cat, s / s.sum(1, keepdims=True)], axis=1)
