"""Writing scan results: JSONL or CSV, never over an input, never half-written in place of earlier results.

The CSV flattens each result for Excel: ``score_<id>`` columns, labels and message ids joined with
``|``, evidence as JSON, a conversation's signals as one readable line, and text cells that Excel
would run as a formula prefixed with ``'``.

>>> neutralise_cell('=HYPERLINK("http://attacker.example/")')
'\\'=HYPERLINK("http://attacker.example/")'
>>> restore_cell(neutralise_cell("=1+1")), neutralise_cell("-12"), neutralise_cell(0.25)
('=1+1', '-12', 0.25)
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence, TextIO

from .errors import ConfigError
from .labels import CATEGORIES

log = logging.getLogger(__name__)

# Record fields copied into each result so that routing and reports can work from the file alone.
CONTEXT_FIELDS = ("source_format", "source_file", "source_locator", "conversation_id", "message_id",
                  "sequence", "timestamp_utc", "timestamp_local", "author_role", "channel", "staff_name",
                  "decode_warnings")
# New columns go at the end: consumers that read the CSV by position keep working.
CSV_COLUMNS = ["id", "kind", "status", "reason", "flagged", "labels", "severity",
               *[f"score_{c}" for c in CATEGORIES], "evidence", "text", "model", "model_version",
               "schema_version", *CONTEXT_FIELDS, "signals", "message_ids"]
# Results are written here first and renamed to the output only when the run completes.
PARTIAL_SUFFIX = ".partial"

# OWASP "CSV injection": a cell starting with one of these may be evaluated by Excel as a formula
# (tab and CR because Excel skips them before looking for "=").  The full-width forms are a
# precaution for Japanese Excel, which converts them to ASCII on entry; a leading "'" is itself
# prefixed so that dropping one leading "'" always gives back the original value.
_FORMULA_START = frozenset("=+-@\t\r'＝＋－＠")
# A plain number such as an id "-12" is no formula: it stays as written so Excel reads a number.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)*")


def neutralise_cell(value: Any) -> Any:
    """A CSV cell Excel shows as text: ``'`` before a text that could start a formula; numbers unchanged.

    >>> neutralise_cell("@SUM(1+1)"), neutralise_cell("+3.5"), neutralise_cell("本文 =1")
    ("'@SUM(1+1)", '+3.5', '本文 =1')
    """
    if (isinstance(value, str) and value and value[0] in _FORMULA_START
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def restore_cell(cell: str) -> str:
    """The value :func:`neutralise_cell` was given, from the cell read back from the CSV.

    >>> restore_cell("'=1+1"), restore_cell("''quoted"), restore_cell("plain")
    ('=1+1', "'quoted", 'plain')
    """
    return cell[1:] if cell.startswith("'") else cell


def signals_summary(signals: Iterable[dict[str, Any]] | None) -> str:
    """A conversation's signals as one line: type, category, whether it counted, detail, message ids.

    >>> signals_summary([{"type": "long_duration", "category": "restraint", "counted": True,
    ...                   "detail": "conversation lasted 95 min (limit 60)", "message_ids": ["1", "3"]}])
    'long_duration (restraint, counted): conversation lasted 95 min (limit 60) [1|3]'
    """
    parts = []
    for sig in signals or []:
        counted = "counted" if sig.get("counted", True) else "not counted"
        ids = "|".join(str(i) for i in sig.get("message_ids") or [])
        parts.append(f"{sig.get('type')} ({sig.get('category')}, {counted}): {sig.get('detail', '')}"
                     + (f" [{ids}]" if ids else ""))
    return "; ".join(parts)


def to_csv_row(result: dict[str, Any]) -> dict[str, Any]:
    """Flatten a result into :data:`CSV_COLUMNS`, every text cell made safe for Excel.

    >>> row = to_csv_row({"id": "=1+1", "labels": ["abuse"], "scores": {"abuse": 0.9}, "message_ids": ["a", "b"]})
    >>> row["id"], row["labels"], row["score_abuse"], row["message_ids"], row["signals"]
    ("'=1+1", 'abuse', 0.9, 'a|b', '')
    """
    row = {k: result.get(k) for k in CSV_COLUMNS if not k.startswith("score_")}
    for c in CATEGORIES:
        row[f"score_{c}"] = (result.get("scores") or {}).get(c, "")
    row["labels"] = "|".join(result.get("labels") or [])
    row["evidence"] = json.dumps(result.get("evidence") or [], ensure_ascii=False)
    row["decode_warnings"] = "|".join(result.get("decode_warnings") or [])
    row["signals"] = signals_summary(result.get("signals"))
    row["message_ids"] = "|".join(str(i) for i in result.get("message_ids") or [])
    return {k: neutralise_cell(v) for k, v in row.items()}


def rename_target(out: str) -> Path | None:
    """The file that ``OUT.partial`` is renamed onto, or None when ``out`` must be written in place.

    A device or a pipe (``/dev/null``, ``/dev/stdout`` on a terminal, a FIFO) is written in place: renaming a
    file onto it would replace the device with a regular file. A symlink is followed, so that the file it
    points to is replaced and the link stays (``/dev/stdout`` redirected to a file, a link to a shared folder).

    >>> rename_target(os.devnull) is None, rename_target("/tmp/../tmp/results.jsonl")
    (True, PosixPath('/tmp/results.jsonl'))
    """
    try:
        if not stat.S_ISREG(os.stat(out).st_mode):
            return None
    except FileNotFoundError:
        pass  # a new file (or a link to one that does not exist yet)
    return Path(os.path.realpath(out))


def _same_file(a: Path, b: Path) -> bool:
    # resolve() sees through symlinks and "..", samefile() through hard links (existing files only).
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(inputs: Sequence[str], out: str, option: str = "-o") -> None:
    """Raise :class:`ConfigError` when writing ``out`` would destroy or re-read one of ``inputs``.

    Opening the output truncates it before the lazy readers reach the inputs, so ``-o`` naming an
    input used to erase it; an output inside an input folder would be read back as input.

    >>> import tempfile; folder = tempfile.mkdtemp(); open(folder + "/inbox.csv", "w").close()
    >>> check_output([folder + "/inbox.csv"], folder + "/./inbox.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.ConfigError: output (-o) .../inbox.csv is the input .../inbox.csv: writing it would erase ...
    >>> check_output([folder], folder + "/results.jsonl")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.ConfigError: output (-o) .../results.jsonl is inside the input folder ...
    >>> check_output(["-", folder + "/inbox.csv"], folder + "/results.jsonl")  # stdin and another file: fine
    """
    if out == "-":
        return
    target = Path(out)
    if target.is_dir():
        raise ConfigError(f"{out}: is a folder; give a file name to {option} (e.g. results.jsonl)")
    for path in inputs:
        src = Path(path)
        if path == "-" or not src.exists():
            continue  # stdin cannot be overwritten; a missing input is the reader's error to report
        for t in (target, Path(out + PARTIAL_SUFFIX)):
            if src.is_dir() and src.resolve() in t.resolve().parents:
                raise ConfigError(f"output ({option}) {out} is inside the input folder {path}, whose files are all "
                                  "read: the results would be scanned as input; write them outside it")
            if not src.is_dir() and _same_file(t, src):
                raise ConfigError(f"output ({option}) {out} is the input {path}: writing it would erase the input; "
                                  "choose another file")


class ResultWriter:
    """Writes results as JSONL or CSV (by the output file's extension); ``-`` writes JSONL to stdout.

    A file is written as ``OUT.partial`` and renamed to ``OUT`` on a clean close, so a run that stops
    part-way leaves an earlier ``OUT`` as it was and what it did write in ``OUT.partial``.

    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> with ResultWriter(folder + "/r.jsonl") as w:
    ...     w.write({"id": "1"})
    >>> sorted(os.listdir(folder))
    ['r.jsonl']
    """

    def __init__(self, out: str, fmt: str | None = None) -> None:
        self.fmt = fmt or ("csv" if out.lower().endswith(".csv") else "jsonl")
        self.written = 0
        self._final: Path | None = None
        self._partial: Path | None = None
        if out == "-":
            self._f: TextIO = sys.stdout
            if hasattr(self._f, "reconfigure"):
                # Japanese text must not depend on the terminal's locale.
                self._f.reconfigure(encoding="utf-8")
        else:
            # utf-8-sig for CSV so that Excel in Japan opens it without mojibake.
            enc = "utf-8-sig" if self.fmt == "csv" else "utf-8"
            self._final = rename_target(out)
            if self._final is None:  # /dev/null, a pipe: written in place
                self._f = open(out, "w", encoding=enc, newline="")
            else:
                self._partial = Path(str(self._final) + PARTIAL_SUFFIX)
                self._final.parent.mkdir(parents=True, exist_ok=True)
                self._f = open(self._partial, "w", encoding=enc, newline="")
        self._csv = csv.DictWriter(self._f, fieldnames=CSV_COLUMNS) if self.fmt == "csv" else None
        if self._csv:
            self._csv.writeheader()

    def write(self, result: dict[str, Any]) -> None:
        if self._csv:
            self._csv.writerow(to_csv_row(result))
        else:
            self._f.write(json.dumps(result, ensure_ascii=False) + "\n")
        self.written += 1

    def close(self, complete: bool = True) -> None:
        """Finish the output; ``complete=False`` (the run failed) keeps any earlier output in place."""
        if self._f is sys.stdout:
            self._f.flush()  # the caller's stream stays open
            return
        if self._partial is None or self._final is None:
            self._f.close()  # a device or pipe, written in place
            return
        if self._f.closed:
            return
        self._f.close()
        if complete:
            os.replace(self._partial, self._final)  # atomic on one file system: same folder
        elif self.written:
            log.warning("%s: the run stopped part-way and was left as it was; the %d result(s) written "
                        "before the stop are in %s", self._final, self.written, self._partial)
        else:
            self._partial.unlink(missing_ok=True)

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(complete=exc_type is None)
