"""Word tokens with character offsets, from fugashi + unidic-lite (MeCab).

Used for the baseline's word features, highlighting and keyword features.  The tagger is built
lazily and cached per thread: MeCab taggers are cheap to keep but not safe to share between threads.

>>> [t.surface for t in tokenize("お問い合わせありがとうございます")][:3]
['お', '問い合わせ', 'ありがとう']
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import DictionaryNotFoundError

_local = threading.local()


@dataclass(frozen=True)
class Token:
    """One MeCab word: surface form, lemma, part of speech and its span in the input."""

    surface: str
    lemma: str
    pos: str
    start: int
    end: int


def _tagger():
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        try:
            import fugashi
            import unidic_lite
        except ImportError as exc:  # pragma: no cover - both are core dependencies
            raise DictionaryNotFoundError(
                "fugashi and unidic-lite are needed for Japanese word tokens. "
                "Install them with: pip install fugashi unidic-lite"
            ) from exc
        try:
            # The mecabrc path is given explicitly so that no system-wide MeCab config is needed.
            tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}" -r /dev/null')
        except RuntimeError as exc:
            raise DictionaryNotFoundError(
                f"MeCab could not load the unidic-lite dictionary at {unidic_lite.DICDIR}. "
                "Reinstall it with: pip install --force-reinstall unidic-lite"
            ) from exc
        _local.tagger = tagger
    return tagger


def dictionary_info() -> dict[str, str]:
    """Versions and paths of the tokenizer and dictionary, for ``kasuhara info``."""
    from importlib.metadata import PackageNotFoundError, version

    import unidic_lite

    def _version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {
        "fugashi": _version("fugashi"),
        "dictionary": "unidic-lite",
        "dictionary_version": _version("unidic-lite"),
        "dictionary_path": unidic_lite.DICDIR,
    }


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into MeCab words with offsets into ``text``.

    >>> toks = tokenize("返金して")
    >>> [(t.surface, t.start, t.end) for t in toks]
    [('返金', 0, 2), ('し', 2, 3), ('て', 3, 4)]
    """
    tokens: list[Token] = []
    pos = 0
    for word in _tagger()(text):
        surface = word.surface
        # MeCab drops whitespace between words; find the surface to keep offsets exact.
        start = text.find(surface, pos) if surface else pos
        if start < 0:
            start = pos
        end = start + len(surface)
        feature = word.feature
        lemma = getattr(feature, "lemma", None) or surface
        pos1 = getattr(feature, "pos1", "") or ""
        tokens.append(Token(surface, lemma, pos1, start, end))
        pos = end
    return tokens


def words(text: str) -> list[str]:
    """Surface forms only: the analyzer used by the baseline's word features.

    >>> words("死ね")
    ['死ね']
    """
    return [w.surface for w in _tagger()(text)]
