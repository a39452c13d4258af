"""Block scoring: a long message is also scored in blocks of its sentences, so one harassing sentence in a long
polite message is not read as polite.

A model scores a window of text as a whole. 「お前みたいな無能な担当者は死ね。」 alone scores abuse 0.99 with
kasuhara-bert-ja 1.5.0, but 0.07 before a polite 186-character request: the polite words outweigh it. A model
whose config sets ``extra.block_chars`` (B) therefore also scores every message longer than B characters in
blocks of consecutive sentences of at most B characters, and takes, per category, the highest of the message's
and its blocks' scores (severity from whichever scored highest). Messages of at most B characters score as
before. See docs/training.md §21 for how B was chosen and what it cost.

>>> import numpy as np
>>> def score(texts):  # a stand-in model: "abuse" is the share of "!" in the text
...     return np.array([[t.count("!") / len(t), 0, 0, 0] for t in texts]), np.zeros((len(texts), 4))
>>> text = "ご確認ください。" * 4 + "ふざけるな!!"
>>> float(score([text])[0][0, 0]) < 0.1, float(BlockScorer(score, block_chars=12).score([text])[0][0, 0])
(True, 0.2857142857142857)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .normalize import split_sentences

__all__ = ["BlockScorer", "block_spans"]

Score = Callable[[list[str]], tuple[np.ndarray, np.ndarray]]


def block_spans(text: str, block_chars: int) -> list[tuple[int, int]]:
    """Spans of ``text`` packing consecutive sentences into blocks of at most ``block_chars`` characters.

    A sentence longer than ``block_chars`` is a block of its own (cut as :func:`split_sentences` cuts it).

    >>> t = "届きません。ふざけるな！返金しろ。よろしく"
    >>> [t[s:e] for s, e in block_spans(t, 12)]
    ['届きません。ふざけるな！', '返金しろ。よろしく']
    """
    blocks: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if blocks and e - blocks[-1][0] <= block_chars:
            blocks[-1] = (blocks[-1][0], e)  # the gap between sentences (a space, a newline) joins the block
        else:
            blocks.append((s, e))
    return blocks


class BlockScorer:
    """A scorer that also scores long texts in blocks of sentences; see the module docstring.

    ``scorer`` is a model's scorer (an object with ``score(texts)``, or the function itself); its other
    attributes are reached through this one.
    """

    def __init__(self, scorer: Any, block_chars: int):
        self.inner = scorer
        self._score: Score = getattr(scorer, "score", scorer)
        self.block_chars = int(block_chars)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (category probabilities (n, 4), severity probabilities (n, 4)), each the highest of the
        text's and its blocks'."""
        cat, sev = self._score(texts)
        blocks, owner = [], []
        for i, text in enumerate(texts):
            if len(text) > self.block_chars:
                spans = block_spans(text, self.block_chars)
                if len(spans) > 1:  # one block is the text itself: nothing to add
                    blocks += [text[s:e] for s, e in spans]
                    owner += [i] * len(spans)
        if not blocks:
            return cat, sev
        cat, sev = cat.copy(), sev.copy()
        best = cat.max(axis=1)
        block_cat, block_sev = self._score(blocks)
        for row, i in enumerate(owner):
            cat[i] = np.maximum(cat[i], block_cat[row])
            if block_cat[row].max() > best[i]:  # severity from the part that looks most like harassment
                best[i] = block_cat[row].max()
                sev[i] = block_sev[row]
        return cat, sev
