"""Soft training targets from the corpus's independent labellings: the share of labellers per category.

Every team-written message was labelled by its writer and again by an independent annotator, and by a
second annotator where those two disagreed (data/agreement/, docs/training.md §5); the corpus label of each
category is the majority. A message two of three people called a demand is not as clear a demand as one
all agreed on, and a model that learns the share rather than the majority learns how a person new to the
message would likely label it. Rewrites (data/plans/paraphrase.md) take their source's shares.

>>> from kasuhara_nlp.data import LabelledMessage
>>> m = LabelledMessage(id="x-1", text="…", labels=["demand"], severity=2, split="train", source="team")
>>> shares_for([m], {"x-1": [0.0, 2 / 3, 0.0, 0.0]})
[[0.0, 0.6666666666666666, 0.0, 0.0]]
"""

from __future__ import annotations

import re
from pathlib import Path

from .datacard import read_rows
from .labels import CATEGORIES

# data/agreement/WAVE_KIND.jsonl: the writers' labels, annotator 1 (every message), annotator 2 (disputes).
LABELLINGS = ("original_labels", "relabel", "adjudication")
_WAVE_FILE = re.compile(r"(wave\d+)_original_labels\.jsonl")
_REWRITE_NOTE = re.compile(r"paraphrase of (\S+) ")  # data/tools/add_paraphrases.py writes these notes


def vote_shares(data_dir: str | Path) -> dict[str, list[float]]:
    """Per message id, the share of its labellers who gave each category (in :data:`CATEGORIES` order).

    Reads ``data_dir/agreement/WAVE_{original_labels,relabel,adjudication}.jsonl`` and maps each rewrite in
    ``data_dir/corpus`` to its source's shares. Empty when the folder holds no labellings.
    """
    data_dir = Path(data_dir)
    shares: dict[str, list[float]] = {}
    for first in sorted((data_dir / "agreement").glob("wave*_original_labels.jsonl")):
        wave = _WAVE_FILE.fullmatch(first.name).group(1)
        labellings = [read_rows(p) for p in (data_dir / "agreement" / f"{wave}_{k}.jsonl" for k in LABELLINGS)
                      if p.exists()]
        for mid in labellings[0]:
            votes = [lab[mid]["labels"] for lab in labellings if mid in lab]
            shares[mid] = [sum(c in v for v in votes) / len(votes) for c in CATEGORIES]
    for path in sorted((data_dir / "corpus").glob("*.jsonl")):
        for mid, r in read_rows(path).items():
            source = _REWRITE_NOTE.match(r.get("notes") or "")
            if source and source.group(1) in shares:
                shares[mid] = shares[source.group(1)]
    return shares


def shares_for(messages: list, shares: dict[str, list[float]]) -> list[list[float]]:
    """Training targets: each message's vote shares, or its 0/1 labels where it has none.

    A share on the other side of one half from the corpus label (a category the label rules added, such as
    B7's ``other_harassment``) gives way to the label: the targets never contradict the corpus.
    """
    out = []
    for m in messages:
        hard = m.label_vector
        soft = shares.get(m.id)
        if soft is None:
            out.append([float(v) for v in hard])
        else:
            out.append([s if (s > 0.5) == bool(h) else float(h) for s, h in zip(soft, hard)])
    return out
