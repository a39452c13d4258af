import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from kasuhara_nlp.baseline import BaselineModel, MultiLabelLogistic
from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.labels import CATEGORIES


@parametrize_with_checks([MultiLabelLogistic()])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def test_multilabel_head_learns_columns():
    X = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5, dtype=float)
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5)
    head = MultiLabelLogistic(C=10).fit(X, Y)
    assert head.predict([[1, 0]]).tolist() == [[1, 0]]
    assert head.predict_proba([[0, 1]]).shape == (1, 2)


def test_baseline_learns_and_round_trips(baseline_dir, tiny_messages):
    clf = KasuharaClassifier.from_pretrained(baseline_dir)
    assert clf.config.backend == "baseline"
    texts = [m.text for m in tiny_messages if m.split == "test"]
    before = clf.predict_proba(texts, raw=True)
    # It learned: every test positive scores higher on its category than every negative.
    for j, c in enumerate(CATEGORIES):
        pos = [p for p, m in zip(before[:, j], [m for m in tiny_messages if m.split == "test"]) if c in m.labels]
        neg = [p for p, m in zip(before[:, j], [m for m in tiny_messages if m.split == "test"]) if not m.labels]
        assert min(pos) > max(neg)
    reloaded = BaselineModel.load(baseline_dir)
    np.testing.assert_allclose(reloaded.score(texts)[0], before, rtol=1e-5, atol=1e-6)


def test_baseline_is_saved_without_pickle(baseline_dir):
    names = {p.name for p in baseline_dir.iterdir()}
    assert {"baseline_vocab.json", "baseline_weights.npz", "kasuhara_config.json"} <= names
    with np.load(baseline_dir / "baseline_weights.npz", allow_pickle=False) as w:
        assert w["cat_coef"].shape[0] == len(CATEGORIES)


def test_untrained_baseline_says_how_to_fix():
    with pytest.raises(Exception, match="fit"):
        BaselineModel().score(["テスト"])
