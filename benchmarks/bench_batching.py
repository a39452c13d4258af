"""How the BERT scorer batches windows: a token budget against a fixed number of rows, in one run.

`kasuhara scan` hands the classifier 64 messages at a time; the scorer sorts their windows by length and
runs them in batches.  With a fixed 32 rows per batch (the scorer before 2026-11-29), the longer half of
every scan batch was padded to its longest window.  The default now fills each batch up to
``bert.TOKEN_BUDGET`` padded tokens.  This prints `kasuhara scan` messages/second on the same inbox-like
messages for fixed rows and for several budgets, each as a ratio against fixed 32 rows, and the largest
score difference between the batchings (padding is masked, so it should be ~0).

Usage: python benchmarks/bench_batching.py [--n 1000] [--runtime onnx|torch] [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scan import bench_messages, throughput, write_csv  # noqa: E402

from kasuhara_nlp import bert  # noqa: E402
from kasuhara_nlp.classifier import KasuharaClassifier  # noqa: E402

# (name, token budget, max rows); the first is the baseline the ratios are against.
SETUPS = [
    ("fixed 32 rows (before)", 10**9, 32),
    ("budget 256 tokens", 256, bert.MAX_ROWS),
    ("budget 512 tokens (default)", bert.TOKEN_BUDGET, bert.MAX_ROWS),
    ("budget 1024 tokens", 1024, bert.MAX_ROWS),
    ("budget 2048 tokens", 2048, bert.MAX_ROWS),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="messages scanned per setup")
    ap.add_argument("--runtime", default="onnx", choices=["onnx", "torch"])
    ap.add_argument("--model", default=str(ROOT / "models" / "kasuhara-bert-ja"))
    ap.add_argument("--repeats", type=int, default=2, help="runs per setup, interleaved; the best is kept")
    args = ap.parse_args()

    texts = bench_messages()
    tmp = Path(tempfile.mkdtemp(prefix="kasuhara-batching-"))
    csv_path = write_csv(tmp / "inbox.csv", texts, args.n)
    clf = KasuharaClassifier.from_pretrained(args.model, runtime=args.runtime)
    throughput(clf, write_csv(tmp / "warm.csv", texts, 64), 64)  # warm-up: sessions, caches

    best = {name: 0.0 for name, _, _ in SETUPS}
    probs = {}
    for _ in range(args.repeats):  # interleaved, so drift on a noisy machine hits every setup alike
        for name, budget, rows in SETUPS:
            clf.scorer.token_budget, clf.scorer.max_rows = budget, rows
            best[name] = max(best[name], throughput(clf, csv_path, args.n))
            if name not in probs:
                probs[name] = clf.predict_proba(texts[:300], raw=True)
    base_name = SETUPS[0][0]
    print(f"{args.runtime}, {args.n} messages, {Path(args.model).name}; best of {args.repeats}")
    print("| batching | msgs/s | ratio | max score difference |")
    print("|---|---:|---:|---:|")
    for name, _, _ in SETUPS:
        diff = float(np.max(np.abs(probs[name] - probs[base_name])))
        print(f"| {name} | {best[name]:.1f} | {best[name] / best[base_name]:.2f}x | {diff:.1e} |")


if __name__ == "__main__":
    main()
