"""Evidence: the sentences of a flagged message that drove each category, found at a bounded cost.

Each sentence of a flagged message is scored on its own and the highest-scoring ones per category are
kept.  A message of many sentences (a pasted log, thousands of short lines) would make that pass cost
many times the scoring of the message itself, so past :data:`MAX_EVIDENCE_SENTENCES` sentences the
message is first scored in blocks of consecutive sentences (about the cost of scoring it once), and only
the sentences of the blocks that score highest for each flagged category are scored on their own.
Messages with fewer sentences get exactly the evidence they always got.

>>> def score(texts):  # a stand-in scorer: "abuse" is the share of "!" in the sentence
...     import numpy as np
...     cat = np.array([[t.count("!") / max(len(t), 1), 0, 0, 0] for t in texts])
...     return cat, np.zeros((len(texts), 4))
>>> text = "こんにちは。ふざけるな!!\\nよろしく。"
>>> [(e.label, e.text) for e in find_evidence(score, text, {"abuse": 0.4}, ["abuse"], {"abuse": 0.1})]
[('abuse', 'ふざけるな!!')]
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .labels import CATEGORIES
from .normalize import split_sentences
from .records import Evidence

__all__ = ["MAX_EVIDENCE_PER_LABEL", "MAX_EVIDENCE_SENTENCES", "Scorer", "find_evidence"]

#: Evidence sentences kept per flagged category.
MAX_EVIDENCE_PER_LABEL = 3
#: Sentences scored on their own for one message at most.  A message with more is narrowed down by
#: scoring blocks of sentences first, so its evidence costs about one more scoring of the message.
MAX_EVIDENCE_SENTENCES = 64
#: Size of the blocks scored first: at most this many characters and this many sentences.
BLOCK_CHARS = 400
BLOCK_SENTENCES = 16

#: ``score(texts) -> (category probabilities (n, 4), severity probabilities (n, 4))``.
Scorer = Callable[[list[str]], tuple[np.ndarray, np.ndarray]]


def find_evidence(score: Scorer, text: str, scores: dict[str, float], labels: list[str],
                  thresholds: dict[str, float], *, max_sentences: int = MAX_EVIDENCE_SENTENCES) -> list[Evidence]:
    """The sentences of ``text`` behind each of ``labels``, with offsets into ``text``.

    Per label: up to :data:`MAX_EVIDENCE_PER_LABEL` sentences scoring at or above the label's threshold,
    in text order, or the best sentence when none does.  A text of one sentence is its own evidence,
    with the message's score.  At most ``max_sentences`` sentences are scored on their own.

    >>> one = lambda texts: (np.ones((len(texts), 4)), np.zeros((len(texts), 4)))
    >>> find_evidence(one, "土下座しろ", {"demand": 0.9}, ["demand"], {"demand": 0.5})[0].end
    5
    """
    spans = split_sentences(text)
    if len(spans) <= 1:
        s, e = spans[0] if spans else (0, len(text))
        return [Evidence(c, s, e, text[s:e], scores[c]) for c in labels]
    if len(spans) <= max_sentences:
        candidates = list(range(len(spans)))
    else:
        candidates = _candidates(score, text, spans, labels, max_sentences)
    cat, _ = score([text[spans[k][0]:spans[k][1]] for k in candidates])
    found = []
    for c in labels:
        j = CATEGORIES.index(c)
        ranked = sorted(range(len(candidates)), key=lambda k: -cat[k, j])
        chosen = [k for k in ranked if cat[k, j] >= thresholds[c]][:MAX_EVIDENCE_PER_LABEL]
        for k in sorted(chosen or ranked[:1]):
            s, e = spans[candidates[k]]
            found.append(Evidence(c, s, e, text[s:e], round(float(cat[k, j]), 6)))
    return found


def _blocks(spans: list[tuple[int, int]]) -> list[list[int]]:
    """Consecutive sentence indices, grouped into blocks of at most BLOCK_CHARS characters and BLOCK_SENTENCES
    sentences (a longer sentence is a block of its own)."""
    blocks: list[list[int]] = []
    for k, (s, e) in enumerate(spans):
        if blocks and len(blocks[-1]) < BLOCK_SENTENCES and e - spans[blocks[-1][0]][0] <= BLOCK_CHARS:
            blocks[-1].append(k)
        else:
            blocks.append([k])
    return blocks


def _candidates(score: Scorer, text: str, spans: list[tuple[int, int]], labels: list[str],
                max_sentences: int) -> list[int]:
    """At most ``max_sentences`` sentence indices, in text order: for each label an equal share, taken from
    the blocks that score highest for it."""
    blocks = _blocks(spans)
    cat, _ = score([text[spans[b[0]][0]:spans[b[-1]][1]] for b in blocks])
    share = max(1, max_sentences // max(len(labels), 1))
    chosen: set[int] = set()
    for c in labels:
        j = CATEGORIES.index(c)
        taken = 0
        for b in sorted(range(len(blocks)), key=lambda i: -cat[i, j]):
            for k in blocks[b][:share - taken]:
                chosen.add(k)
            taken = min(share, taken + len(blocks[b]))
            if taken >= share:
                break
    return sorted(chosen)[:max_sentences]
