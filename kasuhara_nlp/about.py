"""What an issue report needs: versions of the package, dictionary, model and runtime (`kasuhara info`).

>>> info = about("models/kasuhara-bert-ja")  # doctest: +SKIP
>>> info["kasuhara_nlp"], info["model"], info["dictionary"]  # doctest: +SKIP
('0.1.0', 'kasuhara-bert-ja', 'unidic-lite')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import __version__
from .errors import KasuharaError

#: Characters of the model card's first paragraph that are reported.
CARD_SUMMARY_CHARS = 400


def about(model: str | Path | None = None) -> dict[str, Any]:
    """Versions and paths of the package, the tokenizer dictionary and the model (None: the bundled one).

    Also the model card's first paragraph and, for an ONNX BERT, the ONNX Runtime and tokenizers versions.
    A model that cannot be loaded does not raise: ``"model_error"`` says why and how to fix it, and
    the other versions are still there, because that is when an issue report needs them most.
    """
    from .classifier import KasuharaClassifier
    from .config import CARD_NAME
    from .segmenter import dictionary_info

    info: dict[str, Any] = {"kasuhara_nlp": __version__, **dictionary_info()}
    try:
        clf = KasuharaClassifier.from_pretrained(model)
    except KasuharaError as exc:
        info["model_error"] = str(exc)
        return info
    info.update(clf.info())
    card = clf.folder / CARD_NAME
    if card.exists():  # the paragraph after the title: which model this is and how it was trained
        info["card"] = " ".join(card.read_text(encoding="utf-8").split("\n\n")[1:2]).strip()[:CARD_SUMMARY_CHARS]
    if clf.config.backend == "bert-onnx":
        import onnxruntime
        import tokenizers

        info.update(onnxruntime=onnxruntime.__version__, tokenizers=tokenizers.__version__)
    return info
