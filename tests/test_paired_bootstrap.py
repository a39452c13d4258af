"""scripts/paired_bootstrap.py: its vectorised macro-F1 is the evaluation's macro-F1, draw by draw."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from kasuhara_nlp.evaluate import evaluate_predictions
from kasuhara_nlp.labels import CATEGORIES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bootstrap():
    sys.path.insert(0, str(ROOT / "scripts"))  # the script imports its neighbour compare_waves
    try:
        spec = importlib.util.spec_from_file_location("paired_bootstrap", ROOT / "scripts" / "paired_bootstrap.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_macro_f1_matches_the_evaluation_on_each_draw(bootstrap, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gold = rng.random((40, len(CATEGORIES))) < 0.2
    gold[:, -1] = False  # a category without support is left out of the mean, as in the evaluation
    probs = np.clip(gold * 0.6 + rng.random(gold.shape) * 0.5, 0, 1)
    thresholds = dict.fromkeys(CATEGORIES, 0.5)
    draws = rng.integers(0, len(gold), size=(5, len(gold)))
    got = bootstrap.macro_f1(gold[draws], (probs >= 0.5)[draws])
    for k, idx in enumerate(draws):
        want = evaluate_predictions(gold[idx], [0] * len(idx), probs[idx], [0] * len(idx), thresholds)["macro_f1"]
        assert got[k] == pytest.approx(want, abs=1e-4)


def test_compare_counts_only_the_counted_negatives_and_the_share_of_worse_draws(bootstrap) -> None:
    rng = np.random.default_rng(5)
    gold = rng.random((60, len(CATEGORIES))) < 0.3
    negatives = ~gold.any(axis=1)
    counted = negatives & (np.arange(60) % 2 == 0)
    extra = np.zeros_like(gold)
    extra[np.flatnonzero(negatives)[:4], 0] = True  # the candidate flags four more negatives, some of them counted
    draws = rng.integers(0, 60, size=(200, 60))
    same = bootstrap.compare(gold, counted, gold, gold, draws)
    assert (same["f1"], same["neg"], same["lower"], same["more"]) == (0.0, 0, 0.0, 0.0)
    worse = bootstrap.compare(gold, counted, gold, gold | extra, draws)
    assert worse["neg"] == int((extra.any(axis=1) & counted).sum()) > 0
    assert worse["f1"] < 0 and worse["lower"] > 0.5 and worse["more"] > 0.5
    assert worse["neg_lo"] <= worse["neg"] <= worse["neg_hi"]
