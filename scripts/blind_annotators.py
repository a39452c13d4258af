"""Score a model on the blind set against two sets of labels: its writer's, and the independent annotators'.

The blind set's labels are one writer's; four annotators labelled the same texts from the guide alone
(data/agreement/blind_second_labels.jsonl, data/README.md). This prints per-category F1 and PR-AUC of the model
against each, next to the annotators against the writer, so that a model's gap to the writer can be read
against how far two careful people are apart. Nothing here trains or tunes; it only reports.

    python scripts/blind_annotators.py models/kasuhara-bert-ja
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.datacard import AGREEMENT_DIR, read_rows
from kasuhara_nlp.labels import CATEGORIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder")
    args = parser.parse_args()
    blind = [m for m in load_messages() if m.split == "blind"]
    annotators = read_rows(AGREEMENT_DIR / "blind_second_labels.jsonl")
    writer = np.array([m.label_vector for m in blind], dtype=bool)
    second = np.array([[c in annotators[m.id]["labels"] for c in CATEGORIES] for m in blind])
    clf = KasuharaClassifier.from_pretrained(args.model)
    preds = clf.predict([m.text for m in blind], evidence=False)
    scores = np.array([[p.scores[c] for c in CATEGORIES] for p in preds])
    flagged = np.array([[c in p.labels for c in CATEGORIES] for p in preds])
    print(f"{len(blind)} blind messages; model {clf.config.name} {clf.config.version}")
    print("| category | model vs writer | model vs annotators | annotators vs writer "
          "| PR-AUC vs writer | PR-AUC vs annotators |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    for j, c in enumerate(CATEGORIES):
        row = (f1_score(writer[:, j], flagged[:, j]), f1_score(second[:, j], flagged[:, j]),
               f1_score(writer[:, j], second[:, j]), average_precision_score(writer[:, j], scores[:, j]),
               average_precision_score(second[:, j], scores[:, j]))
        rows.append(row)
        print(f"| {c} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
    print("| macro | " + " | ".join(f"{x:.3f}" for x in np.mean(rows, axis=0)) + " |")


if __name__ == "__main__":
    main()
