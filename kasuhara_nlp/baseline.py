"""The scikit-learn baseline: TF-IDF over MeCab words and character n-grams + logistic regression.

With ``nbsvm=True`` a second linear model is averaged in for the categories: an NB-SVM (Wang & Manning
2012: logistic regression on binary character 1-4 grams scaled by their naive-Bayes log-count ratios).
The two err differently: trained on waves 1-2 of the corpus and scored on the unseen wave-3 writers, their
mean ranked better than the TF-IDF model alone (docs/training.md §6, ``scripts/cross_writer.py``).

It is a light fallback and the yardstick for the BERT model, behind the same interface
(:meth:`BaselineModel.score`).  It is saved without pickle: vocabularies as JSON and weights as a
NumPy ``.npz`` read with ``allow_pickle=False``.

>>> m = BaselineModel().fit(["ありがとうございます", "殺すぞ"] * 4,
...                         [[0, 0, 0, 0], [1, 0, 0, 0]] * 4, [0, 3] * 4)
>>> cat, sev = m.score(["殺すぞ"])
>>> bool(cat[0, 0] > 0.5), int(sev[0].argmax())
(True, 3)
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data
from scipy import sparse

from .config import BASELINE_VOCAB_NAME, BASELINE_WEIGHTS_NAME
from .errors import ModelNotFoundError
from .labels import SEVERITY_LEVELS
from .normalize import normalize
from .segmenter import words


class MultiLabelLogistic(ClassifierMixin, BaseEstimator):
    """One logistic regression per output column (multi-label), or one multiclass model for 1-d y.

    Follows scikit-learn's estimator contract so that it can be checked with
    ``parametrize_with_checks``.

    >>> X = np.array([[0.0], [1.0], [0.1], [0.9]])
    >>> MultiLabelLogistic().fit(X, [0, 1, 0, 1]).predict([[0.95]]).tolist()
    [1]
    """

    def __init__(self, C: float = 4.0, class_weight: str | None = "balanced", max_iter: int = 2000):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def _new_lr(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

    def fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr", multi_output=True)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            # scikit-learn convention: a column vector is a 1-d target, with a warning.
            warnings.warn("A column-vector y was passed when a 1d array was expected; using y.ravel()",
                          DataConversionWarning)
            y = y.ravel()
        self.multilabel_ = y.ndim == 2
        if self.multilabel_:
            self.estimators_ = []
            for j in range(y.shape[1]):
                col = y[:, j]
                if len(np.unique(col)) < 2:
                    # A column with one value cannot train a model; remember the constant.
                    self.estimators_.append(float(col[0]))
                else:
                    self.estimators_.append(self._new_lr().fit(X, col))
            self.classes_ = [np.array([0, 1])] * y.shape[1]
            iters = [int(np.max(e.n_iter_)) for e in self.estimators_ if not isinstance(e, float)]
            self.n_iter_ = max(iters, default=1)
        else:
            self.classes_ = unique_labels(y)
            self.estimator_ = self._new_lr().fit(X, y)
            self.n_iter_ = int(np.max(self.estimator_.n_iter_))
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        if not self.multilabel_:
            return self.estimator_.predict_proba(X)
        cols = [
            np.full(X.shape[0], est) if isinstance(est, float) else est.predict_proba(X)[:, 1]
            for est in self.estimators_
        ]
        return np.column_stack(cols)

    def predict(self, X):
        proba = self.predict_proba(X)
        if self.multilabel_:
            return (proba >= 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _analyzer_words(text: str) -> list[str]:
    # Word unigrams and bigrams over MeCab surfaces of the NFKC text.
    toks = words(text)
    return toks + [a + " " + b for a, b in zip(toks, toks[1:])]


class BaselineModel:
    """TF-IDF (words + character 1-3 grams) with logistic-regression heads for categories and severity;
    with ``nbsvm``, NB-SVM category heads (character 1-4 grams) averaged with the TF-IDF ones."""

    def __init__(self, C: float = 4.0, max_word_features: int = 40000, max_char_features: int = 60000,
                 nbsvm: bool = False, nb_C: float = 1.0, max_nb_features: int = 150000):
        self.C = C
        self.nbsvm = nbsvm
        self.nb_C = nb_C
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self._word = TfidfVectorizer(
            analyzer=_analyzer_words, sublinear_tf=True, min_df=1, max_features=max_word_features
        )
        self._char = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1, max_features=max_char_features
        )
        self._nb = CountVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, binary=True,
                                   max_features=max_nb_features)
        self.cat_coef: np.ndarray | None = None
        self.cat_intercept: np.ndarray | None = None
        self.nb_coef: np.ndarray | None = None  # None without the NB-SVM
        self.nb_intercept: np.ndarray | None = None
        self.sev_coef: np.ndarray | None = None
        self.sev_intercept: np.ndarray | None = None

    def _features(self, norm: list[str], fit: bool = False):
        if fit:
            return sparse.hstack([self._word.fit_transform(norm), self._char.fit_transform(norm)]).tocsr()
        return sparse.hstack([self._word.transform(norm), self._char.transform(norm)]).tocsr()

    def fit(self, texts: list[str], labels, severity) -> "BaselineModel":
        """Train on texts, a (n, 4) 0/1 label matrix in CATEGORIES order, and severities 0-3."""
        norm = [normalize(t).text for t in texts]
        X = self._features(norm, fit=True)
        Y = np.asarray(labels, dtype=int)
        sev = np.asarray(severity, dtype=int)
        head = MultiLabelLogistic(C=self.C).fit(X, Y)
        self.cat_coef = np.vstack([_coef(e, X.shape[1]) for e in head.estimators_])
        self.cat_intercept = np.array([_intercept(e) for e in head.estimators_])
        if self.nbsvm:
            self._fit_nb(self._nb.fit_transform(norm).astype(np.float64).tocsr(), Y)
        sev_head = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000).fit(X, sev)
        coef = np.zeros((len(SEVERITY_LEVELS), X.shape[1]))
        intercept = np.full(len(SEVERITY_LEVELS), -30.0)  # levels never seen get ~0 probability
        present = list(sev_head.classes_)
        if len(present) == 2:
            # Binary logistic regression stores one row: class 1 vs class 0.
            coef[present[1]] = sev_head.coef_[0]
            intercept[present[1]] = sev_head.intercept_[0]
            intercept[present[0]] = 0.0
        else:
            for i, c in enumerate(present):
                coef[c] = sev_head.coef_[i]
                intercept[c] = sev_head.intercept_[i]
        self.sev_coef, self.sev_intercept = coef, intercept
        return self

    def _fit_nb(self, X, Y: np.ndarray) -> None:
        # NB-SVM: each category's features are scaled by their log-count ratio r; the regression on X*r is
        # folded into one coefficient row (r * w), so scoring is a plain dot product like the TF-IDF head.
        coefs, intercepts = [], []
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if len(np.unique(y)) < 2:  # a constant column: always / never, as for the TF-IDF heads
                coefs.append(_coef(float(y[0]), X.shape[1]))
                intercepts.append(_intercept(float(y[0])))
                continue
            p = np.asarray(X[y == 1].sum(axis=0)).ravel() + 1.0
            q = np.asarray(X[y == 0].sum(axis=0)).ravel() + 1.0
            r = np.log((p / p.sum()) / (q / q.sum()))
            lr = LogisticRegression(C=self.nb_C, class_weight="balanced", max_iter=3000)
            lr.fit(X @ sparse.diags(r), y)
            coefs.append(r * lr.coef_[0])
            intercepts.append(float(lr.intercept_[0]))
        self.nb_coef, self.nb_intercept = np.vstack(coefs), np.array(intercepts)

    def score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (category probabilities (n, 4), severity probabilities (n, 4))."""
        if self.cat_coef is None:
            raise ModelNotFoundError("the baseline is not trained; call fit() or load a saved folder")
        norm = [normalize(t).text for t in texts]
        X = self._features(norm)
        cat = _sigmoid(X @ self.cat_coef.T + self.cat_intercept)
        if self.nb_coef is not None:
            cat = (cat + _sigmoid(self._nb.transform(norm) @ self.nb_coef.T + self.nb_intercept)) / 2
        sev_logits = X @ self.sev_coef.T + self.sev_intercept
        sev_logits -= sev_logits.max(axis=1, keepdims=True)
        sev = np.exp(sev_logits)
        return cat, sev / sev.sum(axis=1, keepdims=True)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        vocab = {
            "word": {k: int(v) for k, v in self._word.vocabulary_.items()},
            "char": {k: int(v) for k, v in self._char.vocabulary_.items()},
            "C": self.C,
        }
        weights = dict(
            word_idf=self._word.idf_, char_idf=self._char.idf_,
            cat_coef=self.cat_coef.astype(np.float32), cat_intercept=self.cat_intercept,
            sev_coef=self.sev_coef.astype(np.float32), sev_intercept=self.sev_intercept,
        )
        if self.nb_coef is not None:
            vocab.update(nb={k: int(v) for k, v in self._nb.vocabulary_.items()}, nb_C=self.nb_C)
            weights.update(nb_coef=self.nb_coef.astype(np.float32), nb_intercept=self.nb_intercept)
        (folder / BASELINE_VOCAB_NAME).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        np.savez_compressed(folder / BASELINE_WEIGHTS_NAME, **weights)

    @classmethod
    def load(cls, folder: str | Path) -> "BaselineModel":
        folder = Path(folder)
        try:
            vocab = json.loads((folder / BASELINE_VOCAB_NAME).read_text(encoding="utf-8"))
            weights = np.load(folder / BASELINE_WEIGHTS_NAME, allow_pickle=False)
        except FileNotFoundError as exc:
            raise ModelNotFoundError(
                f"{folder} is not a complete baseline model folder ({exc.filename} is missing); "
                "retrain it with: kasuhara train --model baseline"
            ) from None
        model = cls(C=vocab.get("C", 4.0), nbsvm="nb" in vocab, nb_C=vocab.get("nb_C", 1.0))
        model._word = TfidfVectorizer(analyzer=_analyzer_words, sublinear_tf=True, vocabulary=vocab["word"])
        model._char = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                      vocabulary=vocab["char"])
        model._word.idf_ = weights["word_idf"]
        model._char.idf_ = weights["char_idf"]
        model.cat_coef = weights["cat_coef"].astype(np.float64)
        model.cat_intercept = weights["cat_intercept"]
        model.sev_coef = weights["sev_coef"].astype(np.float64)
        model.sev_intercept = weights["sev_intercept"]
        if "nb" in vocab:
            model._nb = CountVectorizer(analyzer="char", ngram_range=(1, 4), binary=True, vocabulary=vocab["nb"])
            model.nb_coef = weights["nb_coef"].astype(np.float64)
            model.nb_intercept = weights["nb_intercept"]
        return model


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _coef(est, n_features: int) -> np.ndarray:
    return np.zeros(n_features) if isinstance(est, float) else est.coef_[0]


def _intercept(est) -> float:
    if isinstance(est, float):
        return 30.0 if est >= 0.5 else -30.0  # a constant column: always / never
    return float(est.intercept_[0])
