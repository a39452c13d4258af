"""Japanese text normalisation with offsets, and sentence segmentation.

The model sees NFKC-normalised text (ｶｽﾀﾏｰ -> カスタマー, ８ -> 8, ！ -> !), as the BERT-Japanese
tokenizers do; users see the original.  :func:`normalize` returns both and a map from every
normalised character back to its original span, so evidence found in normalised text can be shown
in the original.  Pure functions, standard library only.

>>> n = normalize("ｶｽﾀﾏｰ！")
>>> n.text
'カスタマー!'
>>> n.to_original(0, 5)
(0, 5)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Half-width voiced sound marks combine with the preceding kana under NFKC (ｶﾞ -> ガ), so they
# must stay in the same chunk as their base character.
_COMBINING_EXTRA = {"\uff9e", "\uff9f"}


@dataclass(frozen=True)
class Normalized:
    """NFKC text plus, for each of its characters, the original span it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map ``[start, end)`` in the normalised text to a span of the original text."""
        if start >= end or not self.text:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def _chunks(text: str) -> list[tuple[int, int]]:
    """Split into base character + following combining marks (the unit NFKC may compose)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not (unicodedata.combining(text[i]) or text[i] in _COMBINING_EXTRA):
            spans.append((start, i))
            start = i
    return spans if text else []


def normalize(text: str) -> Normalized:
    """NFKC-normalise ``text`` keeping a character map back to the original.

    >>> normalize("①髙橋").text
    '1髙橋'
    """
    if text.isascii():
        # Fast path: NFKC leaves printable ASCII alone, which is most of the bytes we see.
        idx = tuple(range(len(text)))
        return Normalized(text, text, idx, tuple(i + 1 for i in idx))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for s, e in _chunks(text):
        piece = unicodedata.normalize("NFKC", text[s:e])
        out.append(piece)
        starts.extend([s] * len(piece))
        ends.extend([e] * len(piece))
    return Normalized(text, "".join(out), tuple(starts), tuple(ends))


# A sentence ends at a full stop, exclamation or question mark in any of its widths (。｡．﹒！？!?
# ‼⁇⁈⁉﹗﹖, and runs of them), optionally followed by closing brackets (full- or half-width: 」｣), or at
# a line break.  Japanese customer text often has no final punctuation, so newlines matter.  The ASCII
# "." is no sentence end: it is in decimals, URLs and addresses.
_SENTENCE_END = re.compile(
    r"[。｡．﹒！？!?‼⁇⁈⁉﹗﹖]+[」』｣）)\]］】〕〉》〗〙｝}\"'”’＂＇]*|\n+")


def split_sentences(text: str, max_chars: int = 300) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans ``[start, end)`` without losing characters.

    Whitespace-only spans are dropped from the result (they carry no evidence).  Very long
    sentences are cut every ``max_chars`` characters so that evidence stays readable.

    >>> t = "届きません。ふざけるな！\\n返金しろ"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['届きません。', 'ふざけるな！', '返金しろ']
    >>> t = "ﾄﾄﾞｷﾏｾﾝ｡｢ﾌｻﾞｹﾙﾅ｡｣ﾍﾝｷﾝｼﾛ"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['ﾄﾄﾞｷﾏｾﾝ｡', '｢ﾌｻﾞｹﾙﾅ｡｣', 'ﾍﾝｷﾝｼﾛ']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end() if not m.group().startswith("\n") else m.start()
        _add_span(text, start, end, max_chars, spans)
        start = m.end()
    _add_span(text, start, len(text), max_chars, spans)
    return spans


def _add_span(text: str, start: int, end: int, max_chars: int, spans: list[tuple[int, int]]) -> None:
    # Trim surrounding whitespace so offsets point at visible characters.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    for s in range(start, end, max_chars):
        spans.append((s, min(end, s + max_chars)))
