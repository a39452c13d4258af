"""How the BERT, the baseline and their blend rank messages by writers they never saw.

The test split shares its writers with the training split, so it flatters whatever learnt a writer's habits;
the blind set has its own writer but must not steer choices. This check holds out writers instead: the
baselines are trained on the waves 1-2 training split (not on the rewrites of docs/training.md §7), and every
wave-3 message (writers w14-w21, train, dev and test alike) is scored with a BERT model that never saw wave 3
(1.1.0, trained on waves 1-2 only). It prints mean PR-AUC over the four categories, per blend weight (BERT's
share), next to the waves 1-2 dev split.

    mkdir -p /tmp/m110 && for f in $(git ls-tree --name-only 8900918 models/kasuhara-bert-ja/); do
      git show 8900918:$f > /tmp/m110/$(basename $f); done
    python scripts/cross_writer.py /tmp/m110
    python scripts/cross_writer.py /tmp/bert-trained-with-wave-4 --also wave4
"""

from __future__ import annotations

import argparse

import numpy as np

from kasuhara_nlp.baseline import BaselineModel
from kasuhara_nlp.blend import mean_pr_auc
from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages, wave_of
from kasuhara_nlp.labels import CATEGORIES

EARLIER = ("wave1", "wave2", None)  # writers w1-w13 and the public data
WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bert", help="a BERT model folder trained without wave 3 (e.g. 1.1.0)")
    parser.add_argument("--also", choices=("wave4", "wave5"),
                        help="a later wave the baselines also learn from (its training split), as the BERT did")
    args = parser.parse_args()
    messages = load_messages()
    # Writers w1-w13 and the public data: not wave 3, and not the rewrites (w22-w29), some of which are of
    # wave-3 messages.
    train = [m for m in messages if m.split == "train" and wave_of(m.id) in EARLIER + (args.also,)]
    sets = {"waves 1-2 dev": [m for m in messages if m.split == "dev" and wave_of(m.id) in EARLIER],
            "wave 3, unseen writers": [m for m in messages if m.split in ("train", "dev", "test")
                                       and wave_of(m.id) == "wave3"]}
    scorer = KasuharaClassifier.from_pretrained(args.bert).scorer
    baseline = BaselineModel(nbsvm=True).fit([m.text for m in train], [m.label_vector for m in train],
                                             [m.severity for m in train])
    nb_coef = baseline.nb_coef
    print(f"trained on {len(train)} messages (waves 1-2 train split, public data"
          + (f", {args.also}" if args.also else "") + ")")
    print("| slice | n | baseline | " + " | ".join(f"BERT {w}" for w in WEIGHTS) + " | per category, BERT 0.5 |")
    print("|---|---:|---|" + "---:|" * len(WEIGHTS) + "---|")
    for name, subset in sets.items():
        texts = [m.text for m in subset]
        y = np.array([m.label_vector for m in subset])
        bert, _ = scorer.score_bert(texts)
        for label, coef in (("TF-IDF", None), ("TF-IDF + NB-SVM", nb_coef)):
            # Without its NB-SVM coefficients the baseline is the default one: the TF-IDF model alone.
            baseline.nb_coef = coef
            base, _ = baseline.score(texts)
            cells = " | ".join(f"{mean_pr_auc(y, w * bert + (1 - w) * base):.4f}" for w in WEIGHTS)
            half = 0.5 * bert + 0.5 * base
            per = " ".join(f"{c} {mean_pr_auc(y[:, [j]], half[:, [j]]):.3f}" for j, c in enumerate(CATEGORIES))
            print(f"| {name} | {len(subset)} | {label} | {cells} | {per} |", flush=True)


if __name__ == "__main__":
    main()
