"""How much of a difference between two models on a test family is sampling noise: a paired bootstrap.

Every rule in docs/training.md compares a candidate with the shipped model family by family: macro-F1 at most
0.005 lower, no more hard negatives flagged. Some families are small (wave 5: 64 negatives; wave 3: 127 hard
negatives), so a rule can turn on one message. This script scores both models once on each test family, then
resamples the family's messages with replacement (the same draw for both models) and reports, per family, the
observed difference and the 5th-95th percentile of the resampled differences: in macro-F1, and in hard
negatives flagged (all negatives on waves 5 and 6, as the rules count them).

    python scripts/paired_bootstrap.py models/kasuhara-bert-ja /path/to/candidate --draws 2000
"""

from __future__ import annotations

import argparse

import numpy as np

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.evaluate import predict_scores
from kasuhara_nlp.labels import CATEGORIES

from compare_waves import SLICES, wave  # a neighbour: scripts/ is on sys.path when this runs as a script

ALL_NEGATIVES = {"wave 5", "wave 6"}  # the rules count every negative there, hard negatives elsewhere


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Macro-F1 over the categories with support, for each row of a batch of resamples.

    ``gold`` and ``pred`` are (draws, n, categories) booleans.

    >>> g = np.array([[[1, 0], [0, 1]]], dtype=bool)
    >>> float(macro_f1(g, g)[0]), float(macro_f1(g, ~g)[0])
    (1.0, 0.0)
    """
    tp = (gold & pred).sum(axis=1)
    support = gold.sum(axis=1)
    denominator = support + pred.sum(axis=1)
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return (f1 * (support > 0)).sum(axis=1) / np.maximum((support > 0).sum(axis=1), 1)


def flags(model: str, messages: list) -> np.ndarray:
    """(n, categories) booleans: the model's served decisions."""
    clf = KasuharaClassifier.from_pretrained(model)
    probs, _ = predict_scores(clf, [m.text for m in messages])
    return probs >= np.array([clf.thresholds[c] for c in CATEGORIES])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="the shipped model folder")
    parser.add_argument("candidate", help="the candidate model folder")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    messages = [m for m in load_messages() if m.split == "test"]
    print("| family | n | counted negatives | macro-F1 diff (5%-95%) | negatives flagged diff (5%-95%) "
          "| share of draws the candidate flags more |")
    print("|---|---:|---:|---:|---:|---:|")
    ref_all, cand_all = flags(args.reference, messages), flags(args.candidate, messages)
    for name in ("waves 1-2", *SLICES.values()):
        idx = [i for i, m in enumerate(messages) if wave(m.id) == name]
        fam = [messages[i] for i in idx]
        gold = np.array([m.label_vector for m in fam], dtype=bool)
        counted = np.array([not any(m.label_vector) and (name in ALL_NEGATIVES or m.hard_negative) for m in fam])
        ref, cand = ref_all[idx], cand_all[idx]
        draws = rng.integers(0, len(fam), size=(args.draws, len(fam)))
        f1_diff = macro_f1(gold[draws], cand[draws]) - macro_f1(gold[draws], ref[draws])
        neg_diff = ((cand.any(axis=1) & counted)[draws].sum(axis=1)
                    - (ref.any(axis=1) & counted)[draws].sum(axis=1))
        observed_f1 = macro_f1(gold[None], cand[None])[0] - macro_f1(gold[None], ref[None])[0]
        observed_neg = int((cand.any(axis=1) & counted).sum() - (ref.any(axis=1) & counted).sum())
        lo, hi = np.percentile(f1_diff, [5, 95])
        nlo, nhi = np.percentile(neg_diff, [5, 95])
        print(f"| {name} | {len(fam)} | {int(counted.sum())} | {observed_f1:+.3f} ({lo:+.3f} to {hi:+.3f}) "
              f"| {observed_neg:+d} ({nlo:+.0f} to {nhi:+.0f}) | {float((neg_diff > 0).mean()):.0%} |")


if __name__ == "__main__":
    main()
