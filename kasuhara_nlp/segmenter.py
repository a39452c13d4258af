"""Word tokens with character offsets, from fugashi + unidic-lite (MeCab).

Used for the baseline's word features, highlighting and keyword features.  MeCab taggers are not safe to
share between threads, and one that is dropped keeps its memory (about 14 MiB), so they are pooled: a call
borrows an idle tagger (or builds one) and gives it back.  A service that runs each request on a new thread
then holds as many taggers as it ever ran calls at once, not one per thread it ever started.

>>> [t.surface for t in tokenize("お問い合わせありがとうございます")][:3]
['お', '問い合わせ', 'ありがとう']
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import DictionaryNotFoundError

_idle: queue.SimpleQueue = queue.SimpleQueue()  # taggers no call is using


@dataclass(frozen=True)
class Token:
    """One MeCab word: surface form, lemma, part of speech and its span in the input."""

    surface: str
    lemma: str
    pos: str
    start: int
    end: int


def _new_tagger():
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
        return fugashi.Tagger(f'-d "{unidic_lite.DICDIR}" -r /dev/null')
    except RuntimeError as exc:
        raise DictionaryNotFoundError(
            f"MeCab could not load the unidic-lite dictionary at {unidic_lite.DICDIR}. "
            "Reinstall it with: pip install --force-reinstall unidic-lite"
        ) from exc


@contextmanager
def _tagger() -> Iterator:
    """An idle tagger for this call alone (a new one when every tagger is busy), given back afterwards."""
    try:
        tagger = _idle.get_nowait()
    except queue.Empty:
        tagger = _new_tagger()
    try:
        yield tagger
    finally:
        _idle.put(tagger)


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
    # A word's features point into the tagger's buffer, overwritten by its next parse: read them while it is ours.
    with _tagger() as tagger:
        for word in tagger(text):
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
    with _tagger() as tagger:
        return [w.surface for w in tagger(text)]
