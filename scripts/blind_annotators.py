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

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.datacard import AGREEMENT_DIR, read_rows
from kasuhara_nlp.evaluate import category_metrics, predict_scores
from kasuhara_nlp.labels import CATEGORIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder")
    args = parser.parse_args()
    blind = [m for m in load_messages() if m.split == "blind"]
    annotators = read_rows(AGREEMENT_DIR / "blind_second_labels.jsonl")
    writer = np.array([m.label_vector for m in blind])
    second = np.array([[int(c in annotators[m.id]["labels"]) for c in CATEGORIES] for m in blind])
    clf = KasuharaClassifier.from_pretrained(args.model)
    probs, _ = predict_scores(clf, [m.text for m in blind])  # as `kasuhara evaluate` scores them
    vs_writer = category_metrics(writer, probs, clf.thresholds)
    vs_annotators = category_metrics(second, probs, clf.thresholds)
    # The annotators' 0/1 labels as a classifier's scores, cut at one half.
    people = category_metrics(writer, second.astype(float), {c: 0.5 for c in CATEGORIES})
    print(f"{len(blind)} blind messages; model {clf.config.name} {clf.config.version}")
    print("| category | model vs writer | model vs annotators | annotators vs writer "
          "| PR-AUC vs writer | PR-AUC vs annotators |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [(vs_writer[c]["f1"], vs_annotators[c]["f1"], people[c]["f1"], vs_writer[c]["pr_auc"],
             vs_annotators[c]["pr_auc"]) for c in CATEGORIES]
    for c, row in zip(CATEGORIES, rows):
        print(f"| {c} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
    print("| macro | " + " | ".join(f"{x:.3f}" for x in np.mean(rows, axis=0)) + " |")


if __name__ == "__main__":
    main()
