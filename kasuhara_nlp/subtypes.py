"""Subtype targets for an auxiliary training head (`kasuhara train --subtype-weight W`).

The label guide names 22 subtypes under the four categories (A1-A6, B1-B7, C1-C5, D1-D4), and every
team-written record lists the ones it shows.  With a subtype weight the BERT's head gets one extra
logit per subtype during training (binary cross-entropy on those, times the weight); the extra rows are
dropped before export, so the served model and its eight outputs are unchanged.  Why: a category such as
`demand` covers very different acts (money beyond the fault, service outside the contract, kneeling
apologies...), and naming the act may teach the encoder what they share.

>>> names, targets, mask = subtype_targets([{"subtypes": ["B1", "A3"]}, {"subtypes": []}, {}])
>>> names, targets.tolist(), mask.tolist()
(['A3', 'B1'], [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]], [True, True, False])
"""

from __future__ import annotations

import numpy as np


def subtype_targets(extras: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(subtype names, targets (n, s), mask (n,)) from each message's ``extra``.

    Only messages whose record has a ``subtypes`` field count (the mask); public data has none, and its
    positives must not be taught "no subtype".
    """
    names = sorted({s for e in extras for s in e.get("subtypes", [])})
    column = {s: j for j, s in enumerate(names)}
    targets = np.zeros((len(extras), len(names)), dtype=np.float32)
    for i, e in enumerate(extras):
        for s in e.get("subtypes", []):
            targets[i, column[s]] = 1.0
    mask = np.array(["subtypes" in e for e in extras], dtype=bool)
    return names, targets, mask


def _head_slot(model) -> tuple[object, str]:
    """(module, attribute) holding the classifier's last linear layer (BERT: ``classifier``; XLM-R:
    ``classifier.out_proj``)."""
    return (model.classifier, "out_proj") if hasattr(model.classifier, "out_proj") else (model, "classifier")


def widen_head(model, extra: int, torch) -> None:
    """Add ``extra`` output rows to the classifier, newly initialised; the trained rows are kept."""
    slot = _head_slot(model)
    old = getattr(*slot)
    new = torch.nn.Linear(old.in_features, old.out_features + extra)
    with torch.no_grad():
        new.weight.normal_(0.0, model.config.initializer_range)
        new.bias.zero_()
        new.weight[:old.out_features] = old.weight
        new.bias[:old.out_features] = old.bias
    setattr(*slot, new)


def narrow_head(model, keep: int, torch):
    """Keep only the first ``keep`` output rows of the classifier (drops the subtype rows before export);
    returns ``model``."""
    slot = _head_slot(model)
    old = getattr(*slot)
    new = torch.nn.Linear(old.in_features, keep)
    with torch.no_grad():
        new.weight.copy_(old.weight[:keep])
        new.bias.copy_(old.bias[:keep])
    setattr(*slot, new)
    model.config.num_labels = keep
    return model
