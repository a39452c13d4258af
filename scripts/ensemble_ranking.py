"""Mean PR-AUC of models, and of the mean of their served probabilities, on dev and on wave 4's non-test text.

Says whether models differ in what they know or only in noise: if averaging their outputs ranks no better than
any one of them, an ensemble (or a student distilled from one) has nothing to add. Wave 4's train and dev
families are text by writers none of the models before wave 4 trained on; its test family is left out.

    python scripts/ensemble_ranking.py models/kasuhara-bert-ja /tmp/cand-e /tmp/cand-f /tmp/cand-i
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import average_precision_score

from compare_waves import wave
from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.evaluate import predict_scores
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.train import PUBLIC_BENIGN_SOURCES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders")
    args = parser.parse_args()
    messages = load_messages()
    slices = {
        "waves 1-3 dev": [m for m in messages if m.split == "dev" and wave(m.id) in ("waves 1-2", "wave 3")
                          and m.source not in PUBLIC_BENIGN_SOURCES],
        "wave 4 train+dev": [m for m in messages if m.split in ("train", "dev") and wave(m.id) == "wave 4"],
    }
    print("| model | slice | n | mean PR-AUC | " + " | ".join(CATEGORIES) + " |")
    print("|---|---|---:|---:|" + "---:|" * len(CATEGORIES))
    for name, subset in slices.items():
        y = np.array([m.label_vector for m in subset])
        texts = [m.text for m in subset]
        probs = {model: predict_scores(KasuharaClassifier.from_pretrained(model), texts)[0] for model in args.models}
        if len(args.models) > 1:
            probs["mean of the above"] = np.mean(list(probs.values()), axis=0)
        for model, p in probs.items():
            aps = [average_precision_score(y[:, j], p[:, j]) for j in range(len(CATEGORIES))]
            print(f"| {model} | {name} | {len(subset)} | {np.mean(aps):.4f} | "
                  + " | ".join(f"{a:.3f}" for a in aps) + " |")


if __name__ == "__main__":
    main()
