"""Read a `kasuhara scan` output file (JSONL or CSV) back into result records, for analysts' tools.

Both formats give the same dicts: the CSV's flattened cells (README "Output schema") are undone.  A file saved
again by Excel or Notepad in CP932 is read too; a file that is not scan output (its input, say) is refused.

>>> parse_signals("repeated_demand (demand, counted): 4 similar requests [a|b]")[0]["message_ids"]
['a', 'b']
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Iterator

from .errors import InputFormatError
from .labels import CATEGORIES
from .scan_output import restore_cell

__all__ = ["NOT_SCAN_OUTPUT", "SCAN_FIELDS", "parse_signals", "read_results"]

NOT_SCAN_OUTPUT = "not a `kasuhara scan` output"
_NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")


def _decode(path: Path) -> str:
    """The text of a results file: UTF-8 (BOM or not), else CP932 (a file saved again by Excel or Notepad)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc
    where = {"path": str(path), "line": data.count(b"\n", 0, first_bad.start) + 1}
    byte = f"byte 0x{data[first_bad.start]:02x}"
    # Japanese UTF-8 often decodes as CP932 too (as nonsense): a file that is mostly good UTF-8 is damaged UTF-8.
    as_utf8 = data.decode("utf-8-sig", errors="replace")
    if len(_NON_ASCII.findall(as_utf8)) > as_utf8.count("\ufffd"):
        raise InputFormatError(f"{byte} is not UTF-8, though the rest of the file is (so it is not CP932 either): "
                               "the file is damaged; write it again with `kasuhara scan`", **where)
    # Python's CP932 maps every byte of UTF-16 somewhere: a BOM or many NULs say it is not CP932 text
    # (a few NULs can be in a message's text).
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff") or data.count(b"\x00") * 4 > len(data)
    if not utf16:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            pass
    raise InputFormatError(f"{byte} is neither UTF-8 nor CP932 (Shift_JIS)"
                           + (" (it looks like UTF-16, Excel's 'Unicode テキスト')" if utf16 else "")
                           + "; save the file as UTF-8 (Excel: 'CSV UTF-8') or use the -o file of `kasuhara scan` "
                           "as it is", **where)


#: Fields every scan result has; ``load_results`` requires them (``read_results`` by default only an id).
SCAN_FIELDS = ("id", "status", "scores")


def _read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    # io.StringIO splits on "\n" only: U+2028 and other line separators inside JSON strings stay put.
    for n, line in enumerate(io.StringIO(_decode(path)), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"not a JSON line ({exc.msg}); is this a `kasuhara scan` output?",
                                   path=str(path), line=n) from None
        # A scan's input (or any export) has ids too: only a result says whether and how it was scored.
        missing = [f for f in required if not isinstance(record, dict) or f not in record]
        if missing:
            raise InputFormatError(f"{NOT_SCAN_OUTPUT}: the line has no {', '.join(map(repr, missing))}; "
                                   "give the -o file that `kasuhara scan` wrote, not its input",
                                   path=str(path), line=n)
        yield record


# One signal of the CSV's signals cell (scan_output.signals_summary): "TYPE (CATEGORY, counted): DETAIL [IDS]".
_SIGNAL_HEAD = re.compile(r"(?:^|; )([a-z_]+) \(([a-z_]+), (counted|not counted)\): ")
_SIGNAL_IDS = re.compile(r"(.*) \[([^\[\]]*)\]", re.DOTALL)


def parse_signals(cell: str | None) -> list[dict[str, Any]]:
    """A conversation's signals from the CSV's one-line summary (the JSONL keeps them as objects).

    >>> sig = parse_signals("long_duration (restraint, counted): lasted 95 min (limit 60; a pause ends it) [1|3]")
    >>> [(s["type"], s["category"], s["counted"], s["detail"], s["message_ids"]) for s in sig]
    [('long_duration', 'restraint', True, 'lasted 95 min (limit 60; a pause ends it)', ['1', '3'])]
    """
    heads = list(_SIGNAL_HEAD.finditer(cell or ""))
    if not heads:  # hand-edited or foreign: keep the words rather than lose them
        return [{"type": "", "category": "", "counted": True, "detail": cell, "message_ids": []}] if cell else []
    out = []
    for head, nxt in zip(heads, heads[1:] + [None]):
        detail = cell[head.end():nxt.start() if nxt else len(cell)]
        ids = _SIGNAL_IDS.fullmatch(detail)
        out.append({"type": head[1], "category": head[2], "counted": head[3] == "counted",
                    "detail": ids[1] if ids else detail, "message_ids": ids[2].split("|") if ids else []})
    return out


def _cell_list(row: dict[str, Any], column: str) -> list[str]:
    """A list the scan CSV wrote into one cell, joined by "|" (labels, warnings, message ids); empty cells give []."""
    return [x for x in (row.get(column) or "").split("|") if x]


def _read_csv(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    # The scanner's CSV flattens each result (README): undo that so both formats load the same.
    reader = csv.DictReader(io.StringIO(_decode(path), newline=""))
    columns = reader.fieldnames or []
    missing = [c for c in required if c != "scores" and c not in columns] + \
        ([] if "scores" not in required or any(c.startswith("score_") for c in columns) else ["score_<category>"])
    if columns and missing:
        raise InputFormatError(f"{NOT_SCAN_OUTPUT}: no {', '.join(map(repr, missing))} column; give the -o file "
                               "that `kasuhara scan` wrote, not its input", path=str(path), line=1)
    for n, cells in enumerate(reader, 2):
        # Text cells that could start a spreadsheet formula were written with a leading ' (scan_output).
        row = {k: restore_cell(v) if isinstance(v, str) else v for k, v in cells.items()}
        record: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()
                                  if not k.startswith("score_")}
        record["scores"] = {c: float(row[f"score_{c}"]) for c in CATEGORIES if row.get(f"score_{c}")}
        record["labels"] = _cell_list(row, "labels")
        record["flagged"] = (row.get("flagged") or "").lower() == "true"
        record["severity"] = int(row.get("severity") or 0)
        record["sequence"] = int(row["sequence"]) if row.get("sequence") else None
        record["decode_warnings"] = _cell_list(row, "decode_warnings")
        if record.get("kind") == "conversation":
            record["message_ids"] = _cell_list(row, "message_ids")
            record["signals"] = parse_signals(row.get("signals"))
        try:
            record["evidence"] = json.loads(row.get("evidence") or "[]")
        except json.JSONDecodeError:
            raise InputFormatError("the evidence column is not JSON", path=str(path), line=n) from None
        yield record


def read_results(path: str | Path, required: tuple[str, ...] = ("id",)) -> list[dict[str, Any]]:
    """The records of a `kasuhara scan` output file (.jsonl or .csv), as dicts.

    Read as UTF-8 or, failing that, CP932 (the results CSV saved again by Excel).  A file whose records
    are not scan results is refused: each needs the fields in ``required`` (:data:`SCAN_FIELDS` refuses the
    scan's input, which has ids but no ``status`` or ``scores``).

    >>> read_results("missing.jsonl")
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.InputFormatError: missing.jsonl: file not found; pass the -o file of `kasuhara scan`
    """
    path = Path(path)
    if not path.is_file():
        raise InputFormatError("file not found; pass the -o file of `kasuhara scan`", path=str(path))
    reader = _read_csv if path.suffix.lower() == ".csv" else _read_jsonl
    return list(reader(path, tuple(required)))
