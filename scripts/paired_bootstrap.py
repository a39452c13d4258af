"""How much of a difference between two models on a test family is sampling noise: a paired bootstrap.

Every rule in docs/training.md compares a candidate with the shipped model family by family: macro-F1 at most
0.005 lower, no more hard negatives flagged. Some families are small (wave 5: 64 negatives; wave 3: 127 hard
negatives), so a rule can turn on one message. This script scores both models once on each test family, then
resamples the family's messages with replacement (the same draw for both models) and reports, per family, the
observed difference and the 5th-95th percentile of the resampled differences: in macro-F1, and in hard
negatives flagged (all negatives on waves 5 and 6, as the rules count them), and the share of draws in which
the candidate is worse.  A last row does the same for the whole test split (hard negatives, as `kasuhara
evaluate` counts them).

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
WHOLE = "whole test split"


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


def compare(gold: np.ndarray, counted: np.ndarray, ref: np.ndarray, cand: np.ndarray,
            draws: np.ndarray) -> dict[str, float]:
    """Candidate minus reference on one set of messages, observed and over the resampled ``draws``.

    ``gold``, ``ref`` and ``cand`` are (n, categories) booleans; ``counted`` marks the negatives whose flags
    count; ``draws`` is (draws, n) indices.  ``lower``/``more``: the share of draws in which the candidate's
    macro-F1 is lower / it flags more counted negatives.

    >>> g = np.array([[1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> r = compare(g, np.array([0, 0, 1], dtype=bool), g, g | np.array([[0, 0], [0, 0], [1, 0]], dtype=bool),
    ...             np.array([[0, 1, 2], [0, 1, 1]]))
    >>> r["neg"], r["more"], r["f1"] < 0, r["lower"]
    (1, 0.5, True, 0.5)
    """
    f1_diff = macro_f1(gold[draws], cand[draws]) - macro_f1(gold[draws], ref[draws])
    flagged_ref, flagged_cand = ref.any(axis=1) & counted, cand.any(axis=1) & counted
    neg_diff = flagged_cand[draws].sum(axis=1) - flagged_ref[draws].sum(axis=1)
    lo, hi = np.percentile(f1_diff, [5, 95])
    nlo, nhi = np.percentile(neg_diff, [5, 95])
    return {
        "f1": float(macro_f1(gold[None], cand[None])[0] - macro_f1(gold[None], ref[None])[0]),
        "f1_lo": float(lo), "f1_hi": float(hi), "lower": float((f1_diff < 0).mean()),
        "neg": int(flagged_cand.sum() - flagged_ref.sum()), "neg_lo": float(nlo), "neg_hi": float(nhi),
        "more": float((neg_diff > 0).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="the shipped model folder")
    parser.add_argument("candidate", help="the candidate model folder")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    messages = [m for m in load_messages() if m.split == "test"]
    print("| family | n | counted negatives | macro-F1 diff (5%-95%) | share of draws lower "
          "| negatives flagged diff (5%-95%) | share of draws the candidate flags more |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ref_all, cand_all = flags(args.reference, messages), flags(args.candidate, messages)
    gold_all = np.array([m.label_vector for m in messages], dtype=bool)
    families = [(name, [i for i, m in enumerate(messages) if wave(m.id) == name])
                for name in ("waves 1-2", *SLICES.values())]
    # The whole split last, counting hard negatives as `kasuhara evaluate` does.
    families.append((WHOLE, list(range(len(messages)))))
    for name, idx in families:
        counted = np.array([not gold_all[i].any() and (name in ALL_NEGATIVES or messages[i].hard_negative)
                            for i in idx])
        draws = rng.integers(0, len(idx), size=(args.draws, len(idx)))
        r = compare(gold_all[idx], counted, ref_all[idx], cand_all[idx], draws)
        print(f"| {name} | {len(idx)} | {int(counted.sum())} | {r['f1']:+.3f} ({r['f1_lo']:+.3f} to "
              f"{r['f1_hi']:+.3f}) | {r['lower']:.0%} | {r['neg']:+d} ({r['neg_lo']:+.0f} to {r['neg_hi']:+.0f}) "
              f"| {r['more']:.0%} |")


if __name__ == "__main__":
    main()
