"""Optional PyTorch runtime for a BERT model folder (needs the ``train`` extra).

Scanning uses ONNX Runtime; this runner serves the same folder's fp16 safetensors with PyTorch, for
checking the ONNX export and for benchmarks.

>>> clf = KasuharaClassifier.from_pretrained(path, runtime="torch")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MissingDependencyError


class TorchRunner:
    """Runs a Hugging Face sequence classifier on CPU (fp32) and returns its logits."""

    def __init__(self, folder: str | Path, threads: int | None = None):
        try:
            import torch
            from transformers import AutoModelForSequenceClassification
        except ImportError:
            raise MissingDependencyError("runtime='torch' needs the train extra: pip install -e '.[train]'") from None
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            out = self.model(input_ids=self._torch.from_numpy(input_ids),
                             attention_mask=self._torch.from_numpy(attention_mask))
        return out.logits.float().numpy()
