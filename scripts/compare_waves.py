"""Compare models on the dev and test splits by corpus wave, and on the blind set.

A model trained on wave-3 data looks better on wave-3 test families (same writers, same briefs) whatever it
learnt; the earlier waves' test families and the blind set say whether a gain carries to other writers.

    python scripts/compare_waves.py models/kasuhara-bert-ja /path/to/candidate
"""

from __future__ import annotations

import argparse
import re

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.data import load_messages
from kasuhara_nlp.evaluate import evaluate_classifier

WAVE3 = re.compile(r"w(1[4-9]|2[01])-")  # writers w14-w21 (data/plans/wave3.md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders")
    args = parser.parse_args()
    messages = load_messages()
    # Public benign dev text has no writer, so it counts with the earlier waves' dev split.
    sets = [(name, split, [m for m in messages if m.split == split and bool(WAVE3.match(m.id)) == wave3])
            for name, wave3 in (("waves 1-2", False), ("wave 3", True)) for split in ("dev", "test")]
    sets.append(("blind", "blind", [m for m in messages if m.split == "blind"]))
    print("| model | slice | split | n | macro-F1 | FPR hard negatives |")
    print("|---|---|---|---:|---:|---:|")
    for model in args.models:
        clf = KasuharaClassifier.from_pretrained(model)
        for name, split, subset in sets:
            r = evaluate_classifier(clf, subset)
            print(f"| {model} | {name} | {split} | {r['n']} | {r['macro_f1']:.3f} | {r['fpr_hard_negatives']:.1%} |")


if __name__ == "__main__":
    main()
