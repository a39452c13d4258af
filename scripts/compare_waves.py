"""Compare models on the dev and test splits by corpus wave, and on the blind set.

A model trained on wave-3 data looks better on wave-3 test families (same writers, same briefs) whatever it
learnt; the earlier waves' test families and the blind set say whether a gain carries to other writers.

    python scripts/compare_waves.py models/kasuhara-bert-ja /path/to/candidate
"""

from __future__ import annotations

import argparse

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages, wave_of
from kasuhara_nlp.evaluate import evaluate_classifier

SLICES = {"wave3": "wave 3", "wave4": "wave 4", "wave5": "wave 5", "wave6": "wave 6", "wave7": "wave 7"}


def wave(message_id: str) -> str:
    """The slice a message is reported in; public benign text has no writer and counts with waves 1-2, as do
    the rewrites (all in the training split)."""
    return SLICES.get(wave_of(message_id), "waves 1-2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders")
    args = parser.parse_args()
    messages = load_messages()
    sets = [(name, split, [m for m in messages if m.split == split and wave(m.id) == name])
            for name in ("waves 1-2", *SLICES.values()) for split in ("dev", "test")]
    sets.append(("blind", "blind", [m for m in messages if m.split == "blind"]))
    print("| model | slice | split | n | macro-F1 | FPR negatives | FPR hard negatives |")
    print("|---|---|---|---:|---:|---:|---:|")
    for model in args.models:
        clf = KasuharaClassifier.from_pretrained(model)
        for name, split, subset in sets:
            r = evaluate_classifier(clf, subset)
            print(f"| {model} | {name} | {split} | {r['n']} | {r['macro_f1']:.3f} | {r['fpr_negatives']:.1%} "
                  f"| {r['fpr_hard_negatives']:.1%} |")


if __name__ == "__main__":
    main()
