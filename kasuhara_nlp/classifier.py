"""`KasuharaClassifier`: the one object users load, save and call.

>>> clf = KasuharaClassifier.from_pretrained()          # the model bundled in models/
>>> result = clf.predict("誠意を見せろ。土下座して謝れ。")  # doctest: +SKIP
>>> result.labels, result.severity                      # doctest: +SKIP
(['demand'], 2)

A single string in gives a single :class:`Prediction` out; a list gives a list.  Scoring runs on
ONNX Runtime (BERT) or scikit-learn (baseline); torch is never imported here.

Evidence offsets point into ``Prediction.text``, the customer's words that were scored;
``Prediction.to_original`` (and each evidence item's ``original_start``/``original_end``) map them to
the text that was passed in.  A text longer than ``max_chars`` is scored on its first ``max_chars``
characters, and the result says so in ``warnings``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, overload

import numpy as np

from .blocks import BlockScorer
from .config import CONFIG_NAME, THRESHOLDS_NAME, ModelConfig, load_thresholds
from .errors import ConfigError, KasuharaError, ModelNotFoundError
from .labels import CATEGORIES
from .evidence import MAX_EVIDENCE_PER_LABEL, find_evidence
from .records import Evidence, Segment
from .segments import ScoringText, text_to_score

#: Model folders under models/, in order of preference for the default.
BUNDLED_MODELS = ("kasuhara-bert-ja", "kasuhara-baseline")
MODEL_ENV = "KASUHARA_MODEL"
__all__ = ["BUNDLED_MODELS", "DEFAULT_MAX_CHARS", "KasuharaClassifier", "MAX_EVIDENCE_PER_LABEL", "Prediction",
           "bundled_model_dir"]
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Characters of a message that are scored by default.  About 5,700 tokens of the bundled model, 30 of
#: its 256-token windows: about 5 s to score on a 2-core CPU (10 s with evidence); the longest corpus
#: message has 1,370 characters.
#: Longer texts are scored on their first ``max_chars`` characters, with a warning in the result.
DEFAULT_MAX_CHARS = 10_000


@dataclass
class Prediction:
    """The result for one message.

    ``text`` is the customer's new words (the whole text with ``raw=True``), and the evidence offsets
    ``start``/``end`` point into it; ``original_start``/``original_end`` point into the text passed to
    ``predict`` (see :meth:`to_original`).  When ``text`` is longer than the classifier's ``max_chars``,
    only its first ``max_chars`` characters were scored and ``warnings`` says so.

    >>> p = Prediction("ふざけるな", {"abuse": 0.9}, ["abuse"], 2)
    >>> p.to_original(0, 5), p.warnings
    ((0, 5), [])
    """

    text: str
    scores: dict[str, float]
    labels: list[str]
    severity: int
    evidence: list[Evidence] = field(default_factory=list)
    severity_scores: list[float] = field(default_factory=list)
    model: str = ""
    model_version: str = ""
    warnings: list[str] = field(default_factory=list)
    _scoring: ScoringText | None = field(default=None, repr=False, compare=False)

    @property
    def flagged(self) -> bool:
        return bool(self.labels)

    @property
    def segments(self) -> list[Segment]:
        """The labelled segments of the original text (quoted, signature, agent, ...); empty with ``raw=True``."""
        return list(self._scoring.segments) if self._scoring is not None else []

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span ``[start, end)`` of :attr:`text` to the span of the text passed to ``predict``.

        Quoted replies, agent turns and signatures left out before the customer's words shift the
        offsets; this undoes that.  A span crossing left-out text maps to the span covering both ends.

        >>> clf.predict("> 引用です。\\nふざけるな").to_original(0, 5)  # doctest: +SKIP
        (7, 12)

        Raises:
            ValueError: the span is outside :attr:`text`.
        """
        if self._scoring is None:
            if not 0 <= start <= end <= len(self.text):
                raise ValueError(f"span ({start}, {end}) is outside the scored text of length {len(self.text)}")
            return start, end
        return self._scoring.to_original(start, end)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, _scoring=None))
        del d["_scoring"]
        d["flagged"] = self.flagged
        return d


def bundled_model_dir() -> Path:
    """The folder ``from_pretrained()`` loads by default.

    Order: ``$KASUHARA_MODEL``; models/ of this source checkout; models/ installed under
    ``<prefix>/share/kasuhara-nlp``.
    """
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    roots = [Path(__file__).resolve().parent.parent / "models", Path(sys.prefix) / "share" / "kasuhara-nlp" / "models"]
    for root in roots:
        for name in BUNDLED_MODELS:
            if (root / name / CONFIG_NAME).exists():
                return root / name
    raise ModelNotFoundError(
        "no bundled model found in " + ", ".join(str(r) for r in roots)
        + f". Run from a clone of kasuhara-nlp (pip install -e .), set {MODEL_ENV}=/path/to/model, "
        "or pass a folder to from_pretrained()."
    )


class KasuharaClassifier:
    """Scores Japanese customer messages against the four harassment categories.

    Args:
        folder: the model folder it was loaded from.
        config: the model's :class:`ModelConfig` (thresholds already overridden if asked).
        scorer: an object with ``score(texts) -> (category probs, severity probs)``.
        max_chars: characters of a text that are scored (None: no limit); a longer text is scored on
            its first ``max_chars`` characters and its result carries a warning.  Settable.
    """

    def __init__(self, folder: Path, config: ModelConfig, scorer: Any, max_chars: int | None = DEFAULT_MAX_CHARS):
        self.folder = folder
        self.config = config
        self.scorer = scorer
        self.max_chars = max_chars

    @property
    def max_chars(self) -> int | None:
        """Characters of a text that are scored (None: no limit); checked when set."""
        return self._max_chars

    @max_chars.setter
    def max_chars(self, value: int | None) -> None:
        _check_max_chars(value)  # 0 would score nothing, -5 the text minus its last 5 characters
        self._max_chars = value

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls, path: str | Path | None = None, *, thresholds: str | Path | dict[str, float] | None = None,
        runtime: str = "onnx", max_chars: int | None = DEFAULT_MAX_CHARS,
    ) -> "KasuharaClassifier":
        """Load a model folder (None: the bundled model).

        ``thresholds`` overrides some or all category thresholds, as a dict or a JSON file such as
        the one the tuning notebook writes.  A ``thresholds.json`` inside the folder is applied too.
        ``runtime="torch"`` serves a BERT folder with PyTorch instead of ONNX Runtime (train extra).
        ``max_chars`` bounds the characters scored per text (None: no limit; see :data:`DEFAULT_MAX_CHARS`).

        Raises:
            ConfigError: ``max_chars`` is not a positive number or None, ``path`` is not a path, or
                ``thresholds`` is neither a dict nor a path.
        """
        _check_max_chars(max_chars)
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ConfigError(f"path must be a model folder (str or Path) or None for the bundled model, got "
                              f"{type(path).__name__}")
        if thresholds is not None and not isinstance(thresholds, (dict, str, os.PathLike)):
            raise ConfigError(f'thresholds must be a dict such as {{"abuse": 0.6}} or the path of a thresholds file, '
                              f"got {type(thresholds).__name__}")
        folder = Path(path) if path is not None else bundled_model_dir()
        if not (folder / CONFIG_NAME).exists():
            raise ModelNotFoundError(
                f"{folder} is not a kasuhara model folder ({CONFIG_NAME} missing). "
                "Pass a folder written by save_pretrained() or `kasuhara train`."
            )
        config = ModelConfig.load(folder)
        overrides: dict[str, float] = {}
        if (folder / THRESHOLDS_NAME).exists():
            overrides.update(load_thresholds(folder / THRESHOLDS_NAME))
        if isinstance(thresholds, dict):
            overrides.update(thresholds)
        elif thresholds is not None:
            overrides.update(load_thresholds(thresholds, model=f"{config.name} {config.version}"))
        if overrides:
            config = replace(config, thresholds={**config.thresholds, **overrides})
        try:
            scorer = _load_scorer(folder, config, runtime)
            if config.extra.get("block_chars"):  # long messages also scored in blocks of sentences (blocks.py)
                scorer = BlockScorer(scorer, config.extra["block_chars"])
        except KasuharaError:
            raise
        except Exception as exc:  # ONNX Runtime, tokenizers, NumPy and json each raise their own types
            raise ModelNotFoundError(_broken_folder_message(folder, exc)) from exc
        return cls(folder, config, scorer, max_chars=max_chars)

    def save_pretrained(self, path: str | Path) -> None:
        """Write the model as loaded (weights, tokenizer, config with current thresholds) to ``path``."""
        out = Path(path)
        if out.exists() and not out.is_dir():
            raise ConfigError(f"{out} is a file; save_pretrained writes a model folder: give a folder path")
        out.mkdir(parents=True, exist_ok=True)
        if out.resolve() != self.folder.resolve():
            for item in self.folder.iterdir():
                if item.name in (CONFIG_NAME, THRESHOLDS_NAME):
                    continue  # rewritten below, with the thresholds in force
                target = out / item.name
                if item.is_dir():
                    shutil.copytree(item, target, dirs_exist_ok=True)
                else:
                    shutil.copy2(item, target)
        self.config.save(out)

    # -- scoring -----------------------------------------------------------------------------
    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.config.thresholds)

    @overload
    def predict(self, texts: str, *, raw: bool = False, evidence: bool = True) -> Prediction: ...
    @overload
    def predict(self, texts: list[str], *, raw: bool = False, evidence: bool = True) -> list[Prediction]: ...

    def predict(self, texts, *, raw=False, evidence=True):
        """Score one message (str) or many (list of str).

        Args:
            raw: score the text as given; by default quoted replies, signatures, forwards and agent
                turns are left out and only the customer's new words are scored.
            evidence: find the sentences that drove each flagged category (at most
                :data:`~kasuhara_nlp.evidence.MAX_EVIDENCE_SENTENCES` sentences are scored on their own).

        Evidence offsets point into ``Prediction.text``; ``original_start``/``original_end`` into the
        text passed in.  A text longer than ``max_chars`` is scored on its first ``max_chars``
        characters (``Prediction.warnings`` says so).

        >>> r = clf.predict("> 先日の件です。\\n土下座しろ")  # doctest: +SKIP
        >>> r.text, [(e.start, e.end, e.original_start, e.original_end) for e in r.evidence]  # doctest: +SKIP
        ('土下座しろ', [(0, 5, 10, 15)])
        """
        single = isinstance(texts, str)
        batch = _as_texts(texts)
        segmented = [None if raw else text_to_score(t) for t in batch]
        scored = [t if st is None else st.text for t, st in zip(batch, segmented)]
        results = self._predict_scored(scored, evidence=evidence)
        for pred, st in zip(results, segmented):
            pred._scoring = st
            for ev in pred.evidence:
                ev.original_start, ev.original_end = pred.to_original(ev.start, ev.end)
        return results[0] if single else results

    __call__ = predict

    def predict_proba(self, texts: str | list[str], *, raw: bool = False) -> np.ndarray:
        """Category probabilities, shape (n, 4) in :data:`CATEGORIES` order."""
        batch = _as_texts(texts)
        scored = [t if raw else text_to_score(t).text for t in batch]
        return self.scorer.score([self._bounded(t) for t in scored])[0]

    def _bounded(self, text: str) -> str:
        """The part of ``text`` that is scored: its first ``max_chars`` characters, with any lone surrogate
        (half an emoji cut off by a chat widget, which the tokenizer cannot take) replaced one for one by
        U+FFFD, so offsets still hold."""
        part = text if self.max_chars is None or len(text) <= self.max_chars else text[:self.max_chars]
        return _LONE_SURROGATE.sub("\ufffd", part)

    def _predict_scored(self, texts: list[str], evidence: bool) -> list[Prediction]:
        if not texts:
            return []
        bounded = [self._bounded(t) for t in texts]
        cat, sev = self.scorer.score(bounded)
        thr = np.array([self.config.thresholds[c] for c in CATEGORIES])
        out = []
        for i, text in enumerate(texts):
            # Flags compare the scores as reported (6 digits), so a result never shows a score at its
            # threshold without the label, and thresholds tuned on reported scores do what they did there.
            scores = {c: round(float(p), 6) for c, p in zip(CATEGORIES, cat[i])}
            labels = [c for c, t in zip(CATEGORIES, thr) if scores[c] >= t]
            # Severity >= 1 exactly when something is flagged: the most likely level among 1-3.
            severity = int(1 + np.argmax(sev[i, 1:])) if labels else 0
            # As scored: a lone surrogate is U+FFFD here too (one for one), so evidence slices r.text and
            # the result encodes as UTF-8 JSON; to_original() maps back into the text passed in.
            repaired = _LONE_SURROGATE.sub("\ufffd", text)
            out.append(Prediction(
                text=repaired,
                scores=scores,
                labels=labels,
                severity=severity,
                severity_scores=[round(float(p), 6) for p in sev[i]],
                model=self.config.name,
                model_version=self.config.version,
                warnings=([] if len(bounded[i]) == len(text) else [
                    f"truncated: scored the first {len(bounded[i])} of {len(text)} characters (max_chars)"])
                + (["lone-surrogates: scored as U+FFFD"] if repaired != text else []),
            ))
        if evidence:
            # Only flagged messages pay for sentence scoring: the common case stays fast.  Evidence is
            # looked for in the part that was scored; its offsets hold in the whole text too.
            for p, part in zip(out, bounded):
                if p.labels:
                    p.evidence = find_evidence(self.scorer.score, part, p.scores, p.labels, self.config.thresholds)
        return out

    def predict_conversation(self, turns: list, conversation_id: str = "conversation",
                             config: Any = None, *, mask_pii: bool = True) -> dict[str, Any]:
        """Score a chat, call or mail thread: every customer turn plus signals no single message
        carries (long duration, many contacts a day, out-of-hours messages, a demand repeated after
        it was answered).  See :func:`kasuhara_nlp.scan.predict_conversation`.  Like ``kasuhara scan``,
        the result's texts are PII-masked unless ``mask_pii=False`` (``predict`` returns your text as is).

        >>> clf.predict_conversation([{"role": "customer", "text": "返金しろ"}])  # doctest: +SKIP
        """
        from .scan import predict_conversation

        return predict_conversation(self, turns, conversation_id, config, mask_pii=mask_pii)

    def info(self) -> dict[str, Any]:
        """Name, version, folder, backend and thresholds: what an issue report should contain."""
        return {
            "model": self.config.name,
            "model_version": self.config.version,
            "backend": self.config.backend,
            "path": str(self.folder),
            "base": self.config.base,
            "thresholds": self.thresholds,
            "max_length": self.config.max_length,
        }


def _check_max_chars(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"max_chars must be a positive number of characters or None, got {value!r}")


def _as_texts(texts: Any) -> list[str]:
    """One str or an iterable of str as a list; anything else is a TypeError naming what was passed.

    A dict or a ticket object must not be iterated silently: predict({"text": ...}) would score the key.

    >>> _as_texts("a"), _as_texts(("a", "b"))
    (['a'], ['a', 'b'])
    """
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, dict, set, frozenset)) or not hasattr(texts, "__iter__"):
        # A set has no order: its results could not be matched to the messages.
        raise TypeError(f"predict takes a str or a list of str, got {type(texts).__name__}; "
                        "pass the message text (decode bytes first), or a list for several")
    batch = list(texts)
    for i, t in enumerate(batch):
        if not isinstance(t, str):
            raise TypeError(f"predict takes a str or a list of str; item {i} is {type(t).__name__}")
    return batch


_LFS_POINTER = b"version https://git-lfs"


def _broken_folder_message(folder: Path, exc: Exception) -> str:
    """Why a model folder with a valid config failed to load, and how to get a whole one."""
    for path in sorted(folder.iterdir()):
        if path.is_file():
            with path.open("rb") as f:
                if f.read(len(_LFS_POINTER)) == _LFS_POINTER:
                    return (f"{path} is a Git LFS pointer, not the file itself: run `git lfs pull` in the "
                            "repository, or install the package again")
    detail = f"{type(exc).__name__}: {exc}"
    return (f"the model in {folder} could not be loaded ({detail[:300]}); a file is damaged or incomplete: "
            "copy the folder again, or rebuild it with `kasuhara train`")


def _load_scorer(folder: Path, config: ModelConfig, runtime: str = "onnx"):
    if runtime not in ("onnx", "torch"):
        raise ConfigError(f"runtime must be 'onnx' or 'torch', got {runtime!r}")
    if config.backend == "baseline":
        from .baseline import BaselineModel

        return BaselineModel.load(folder)
    from .bert import BertScorer

    if runtime == "torch":
        from .torch_runner import TorchRunner

        return BertScorer(folder, config, runner=TorchRunner(folder))
    return BertScorer(folder, config)
