"""Readers: every supported input format as one lazy stream of MessageRecord.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
>>> _ = open(path, "w", encoding="utf-8").write('{"id": "m1", "text": "まだですか"}\\n')
>>> [(r.record_id, r.status) for r in read_records([path])]
[('m1', 'ok')]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputFormatError
from ..records import MessageRecord
from .common import MAX_MESSAGE_BYTES
from .presets import PRESETS, preset_names
from .tabular import TABULAR_FORMATS, read_tabular

__all__ = ["FORMATS", "PRESETS", "read_records", "preset_names"]

FORMATS = TABULAR_FORMATS


def read_records(
    paths: list[str],
    *,
    format: str | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    preset: str | None = None,
    encoding: str | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[MessageRecord]:
    """Read every path (``-`` = stdin) with the reader its extension/content calls for.

    Yields one record per message, lazily, in input order; unreadable rows come as records with
    status "error" (never dropped).

    Raises:
        InputFormatError: an unknown format or preset, or a file without a text column.
    """
    if format is not None and format not in FORMATS:
        raise InputFormatError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
    for path in paths:
        yield from read_tabular(
            path, format=format, text_field=text_field, id_field=id_field, preset=preset,
            encoding=encoding, max_message_bytes=max_message_bytes,
        )
