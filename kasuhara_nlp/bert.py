"""Score texts with a fine-tuned BERT-family encoder served by ONNX Runtime (no torch needed).

The model has one head of eight logits: four category logits (sigmoid) and four severity logits
(softmax over levels 0-3).  Messages longer than the window are split into overlapping windows and
the category probabilities aggregated with max, so nothing is silently truncated.

Two tokenizer kinds are supported: a ``tokenizer.json`` that does everything (XLM-R / e5 Unigram,
or any fast tokenizer), and MeCab pre-tokenisation + WordPiece (``BertJapaneseTokenizer`` models such
as tohoku-nlp/bert-base-japanese-v3), where fugashi splits words and the Rust WordPiece runs on them.

>>> import numpy as np
>>> windows(list(range(10)), body=4, stride=1)
[(0, 4), (3, 7), (6, 10)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .config import ONNX_NAME, TOKENIZER_NAME, ModelConfig
from .errors import ModelNotFoundError
from .labels import CATEGORIES
from .normalize import normalize

# A runner takes (input_ids, attention_mask) int64 arrays and returns logits (n, 8).
Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]

N_CATEGORIES = 4
N_SEVERITY = 4
# Windows run in length-sorted batches of at most TOKEN_BUDGET padded tokens (rows x longest row) and
# MAX_ROWS rows.  A fixed 32 rows padded half of every scan batch to its longest window, and on 2 CPU
# cores batching short rows buys little: the budget scans 2.7-2.9x faster on ONNX Runtime and 2.2-2.6x
# on PyTorch.  256 was 4-7% faster still on ONNX Runtime but slower on PyTorch, and machines with more
# cores gain from wider batches (benchmarks/bench_batching.py, benchmarks/results/bench_batching_*.md).
TOKEN_BUDGET = 512
MAX_ROWS = 64


def windows(ids: list[int], body: int, stride: int) -> list[tuple[int, int]]:
    """Spans ``[start, end)`` of overlapping windows of at most ``body`` tokens covering ``ids``."""
    if len(ids) <= body:
        return [(0, len(ids))]
    step = body - stride
    spans = []
    start = 0
    while True:
        end = min(start + body, len(ids))
        spans.append((start, end))
        if end == len(ids):
            return spans
        start += step


def length_batches(lengths: list[int], budget: int = TOKEN_BUDGET, max_rows: int = MAX_ROWS) -> list[list[int]]:
    """Group indices of ``lengths`` into batches, shortest first, each padding to at most ``budget``
    tokens (rows x longest) and ``max_rows`` rows; a row longer than the budget runs alone.

    >>> length_batches([3, 10, 2, 9], budget=20)
    [[2, 0], [3, 1]]
    """
    order = sorted(range(len(lengths)), key=lambda k: lengths[k])
    batches: list[list[int]] = []
    for k in order:
        # Sorted, so the newcomer is the longest: the batch would pad to its length.
        if batches and len(batches[-1]) < max_rows and (len(batches[-1]) + 1) * lengths[k] <= budget:
            batches[-1].append(k)
        else:
            batches.append([k])
    return batches


class TextEncoder:
    """Turns text into token ids with character offsets, without special tokens."""

    def __init__(self, folder: Path, pretokenize: str | None = None):
        from tokenizers import Tokenizer

        path = folder / TOKENIZER_NAME
        if not path.exists():
            raise ModelNotFoundError(f"{path} is missing; a BERT model folder needs its {TOKENIZER_NAME}")
        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.pretokenize = pretokenize
        self.cls_id, self.sep_id, self.pad_id = self._specials()

    def _specials(self) -> tuple[int, int, int]:
        for cls, sep, pad in (("[CLS]", "[SEP]", "[PAD]"), ("<s>", "</s>", "<pad>")):
            ids = [self.tokenizer.token_to_id(t) for t in (cls, sep, pad)]
            if None not in ids:
                return ids[0], ids[1], ids[2]
        raise ModelNotFoundError("the tokenizer has neither [CLS]/[SEP]/[PAD] nor <s>/</s>/<pad> tokens")

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and their ``(start, end)`` offsets in ``text``."""
        if self.pretokenize != "mecab":
            enc = self.tokenizer.encode(text, add_special_tokens=False)
            return enc.ids, enc.offsets
        # BertJapaneseTokenizer does NFKC, then MeCab words, then WordPiece inside each word.
        from .segmenter import tokenize

        norm = normalize(text)
        toks = tokenize(norm.text)
        if not toks:
            return [], []
        enc = self.tokenizer.encode([t.surface for t in toks], is_pretokenized=True, add_special_tokens=False)
        offsets = []
        for wid, (s, e) in zip(enc.word_ids, enc.offsets):
            base = toks[wid].start
            offsets.append(norm.to_original(base + s, base + max(e, s + 1)))
        return enc.ids, offsets


class OnnxRunner:
    """Runs the exported model; ONNX Runtime sessions are safe to call from several threads."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        if not path.exists():
            raise ModelNotFoundError(f"{path} is missing; export the model with `kasuhara train` or restore it")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        return self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})[0]


class BertScorer:
    """Category and severity probabilities for texts, with windowing for long texts."""

    def __init__(self, folder: str | Path, config: ModelConfig, runner: Runner | None = None):
        folder = Path(folder)
        self.config = config
        self.encoder = TextEncoder(folder, config.extra.get("pretokenize"))
        self.runner = runner or OnnxRunner(folder / ONNX_NAME, config.extra.get("threads"))
        self.token_budget, self.max_rows = TOKEN_BUDGET, MAX_ROWS
        self.temperatures = np.array([config.temperatures.get(c, 1.0) for c in CATEGORIES])
        # A blended model also holds the TF-IDF baseline: the two err differently, and their mean
        # probability beat either alone on dev (the weight was chosen there, see kasuhara_config.json).
        self.bert_weight = float(config.extra.get("blend", {}).get("bert_weight", 1.0))
        self.baseline = None
        if self.bert_weight < 1.0:
            from .baseline import BaselineModel

            self.baseline = BaselineModel.load(folder)

    def score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (category probabilities (n, 4), severity probabilities (n, 4))."""
        cat, sev = self.score_bert(texts)
        if self.baseline is None or not texts:
            return cat, sev
        base_cat, base_sev = self.baseline.score(texts)
        w = self.bert_weight
        return w * cat + (1 - w) * base_cat, w * sev + (1 - w) * base_sev

    def score_bert(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`score`, from the BERT alone (calibrated), without the baseline's share."""
        logits, owner = self._window_logits(texts)
        cat_logits = logits[:, :N_CATEGORIES] / self.temperatures
        cat = 1.0 / (1.0 + np.exp(-cat_logits))
        sev_logits = logits[:, N_CATEGORIES:N_CATEGORIES + N_SEVERITY]
        sev_logits = sev_logits - sev_logits.max(axis=1, keepdims=True)
        sev = np.exp(sev_logits)
        sev /= sev.sum(axis=1, keepdims=True)
        out_cat = np.zeros((len(texts), N_CATEGORIES))
        out_sev = np.zeros((len(texts), N_SEVERITY))
        best = np.full(len(texts), -1.0)
        for row, i in enumerate(owner):
            out_cat[i] = np.maximum(out_cat[i], cat[row])
            # Severity comes from the window that looks most like harassment.
            if cat[row].max() > best[i]:
                best[i] = cat[row].max()
                out_sev[i] = sev[row]
        return out_cat, out_sev

    def category_logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated category logits (n, 4): each message's highest window's, as :meth:`score_bert` takes the
        highest window's probability. Training fits the temperatures and thresholds on these."""
        logits, owner = self._window_logits(texts)
        out = np.full((len(texts), N_CATEGORIES), -np.inf, dtype=np.float32)
        np.maximum.at(out, owner, logits[:, :N_CATEGORIES])
        return out

    def _window_logits(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        """Logits of every window of every text (long texts give several), and the text each window is of."""
        body = self.config.max_length - 2
        chunks: list[list[int]] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            ids, _ = self.encoder.encode(text)
            for s, e in windows(ids, body, self.config.stride):
                chunks.append([self.encoder.cls_id, *ids[s:e], self.encoder.sep_id])
                owner.append(i)
        return self._run(chunks), owner

    def _run(self, chunks: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(chunks), N_CATEGORIES + N_SEVERITY), dtype=np.float32)
        for idx in length_batches([len(c) for c in chunks], self.token_budget, self.max_rows):
            width = len(chunks[idx[-1]])
            ids = np.full((len(idx), width), self.encoder.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for r, k in enumerate(idx):
                ids[r, :len(chunks[k])] = chunks[k]
                mask[r, :len(chunks[k])] = 1
            out[idx] = self.runner(ids, mask)
        return out

