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


@pytest.fixture(scope="module")
def nbsvm_dir(tmp_path_factory, tiny_messages):
    from kasuhara_nlp.train import TrainConfig, train_baseline

    out = tmp_path_factory.mktemp("baseline-nbsvm")
    train_baseline(TrainConfig(model="baseline", out_dir=str(out), nbsvm=True), tiny_messages)
    return out


def test_nbsvm_baseline_learns_round_trips_and_is_recorded(nbsvm_dir, baseline_dir, tiny_messages):
    test = [m for m in tiny_messages if m.split == "test"]
    texts = [m.text for m in test]
    model = BaselineModel.load(nbsvm_dir)
    assert model.nbsvm and model.nb_coef.shape[0] == len(CATEGORIES)
    probs = model.score(texts)[0]
    for j, c in enumerate(CATEGORIES):
        pos = [p for p, m in zip(probs[:, j], test) if c in m.labels]
        neg = [p for p, m in zip(probs[:, j], test) if not m.labels]
        assert min(pos) > max(neg)
    # The NB-SVM is averaged in, so the scores are not the TF-IDF model's.
    assert not np.allclose(probs, BaselineModel.load(baseline_dir).score(texts)[0])
    assert "nbsvm" in KasuharaClassifier.from_pretrained(nbsvm_dir).config.base
    np.testing.assert_allclose(KasuharaClassifier.from_pretrained(nbsvm_dir).predict_proba(texts, raw=True), probs,
                               rtol=1e-5, atol=1e-6)


def test_nbsvm_weights_follow_the_log_count_ratio():
    # "殺" appears only in abuse texts and "礼" only in the others: the NB-SVM must weigh them apart.
    texts = ["殺すぞ", "殺してやる", "お礼です", "御礼申し上げます"] * 3
    labels = [[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]] * 3
    model = BaselineModel(nbsvm=True).fit(texts, labels, [3, 3, 0, 0] * 3)
    vocab = model._nb.vocabulary_
    assert model.nb_coef[0, vocab["殺"]] > 0 > model.nb_coef[0, vocab["礼"]]
    # A category no text has is never predicted, as with the TF-IDF heads.
    assert model.nb_intercept[1] < -10 and not model.nb_coef[1].any()


def test_default_baseline_saves_no_nbsvm(baseline_dir):
    with np.load(baseline_dir / "baseline_weights.npz", allow_pickle=False) as w:
        assert "nb_coef" not in w.files
    assert BaselineModel.load(baseline_dir).nb_coef is None
