"""Compare models on the dev and test splits by corpus wave, and on the blind set.

A model trained on wave-3 data looks better on wave-3 test families (same writers, same briefs) whatever it
learnt; the earlier waves' test families and the blind set say whether a gain carries to other writers.

    python scripts/compare_waves.py models/kasuhara-bert-ja /path/to/candidate
"""

from __future__ import annotations

import argparse
import re

from kasuhara_nlp.data import load_messages
from kasuhara_nlp.model_card import evaluate_folder

WAVE3 = re.compile(r"w(1[4-9]|2[01])-")  # writers w14-w21 (data/plans/wave3.md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders")
    args = parser.parse_args()
    messages = load_messages()
    # Each slice keeps every message outside dev/test (training data and public text) so evaluation sees the
    # same benign mix; only the dev/test families are filtered by wave.
    slices = {
        "waves 1-2": [m for m in messages if not WAVE3.match(m.id)],
        "wave 3": [m for m in messages if WAVE3.match(m.id) or m.split not in ("dev", "test")],
    }
    print("| model | slice | split | n | macro-F1 | FPR hard negatives |")
    print("|---|---|---|---:|---:|---:|")
    for model in args.models:
        for name, subset in slices.items():
            report = evaluate_folder(model, subset, splits=("dev", "test"))
            for split in ("dev", "test"):
                _row(model, name, split, report[split])
        _row(model, "blind", "blind", evaluate_folder(model, messages, splits=("blind",))["blind"])


def _row(model: str, name: str, split: str, r: dict) -> None:
    print(f"| {model} | {name} | {split} | {r['n']} | {r['macro_f1']:.3f} | {r['fpr_hard_negatives']:.1%} |")


if __name__ == "__main__":
    main()
