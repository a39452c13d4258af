"""CSV rows with the lines they came from, recovering from a runaway quote.

One unbalanced ``"`` (a customer's message that starts with a quote mark, written unescaped by the
tool that made the export) makes a CSV parser read every later line into one field, so one bad row
hides the rest of the file.  Legitimate multi-line cells are common too (mail bodies in helpdesk
exports), so a quoted field may not simply be cut at the end of its line.

The rule: a quoted field that spans several lines is kept when it closes and leaves a row as wide
as the header, which is what every multi-line cell of a well-formed export does.  A record that
spans several lines and does *not* end that way (the file ends inside the quote, a stray character
follows a closing quote, the field outgrows the csv field limit, or the row comes out with the
wrong number of fields) is a runaway: the row where it started is reported, and reading starts again
at that row's next physical line, so every later row is still read.

Read again that way, the lines of the broken message itself would come out as rows of their own (a line
``電話は090-1234-5678,山田まで`` as a message with the phone number for its id).  :class:`BrokenSpan` keeps
them with the broken row while its quote is open and they do not start like a row (the reader decides that
from the id column), and :func:`cell_lines_like_rows` finds the opposite case: rows swallowed into a cell by a
quote that did close.

:func:`csv_records` turns the rows after the header into records (the tabular reader reads the header): the
first of two columns of one name is read, a repeated header row (files joined into one) is skipped, and a
header with no rows after it is a ``skipped`` record, so that every input is accounted for.

>>> import io
>>> text = io.StringIO('id,text\\n1,"閉じない\\n2,"一\\n二"\\n', newline="")
>>> [(r.line, r.fields) for r in iter_csv_rows(text, delimiter=",")]
[(1, ['id', 'text']), (2, None), (3, ['2', '一\\n二'])]
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..records import MessageRecord
from .columns import Columns, follows_id, looks_like_id, row_record
from .common import error_record
from .linecodec import MixedLines

__all__ = [
    "BrokenSpan", "CsvFile", "CsvRow", "cell_lines_like_rows", "choose_delimiter", "csv_records", "delimiter_hint",
    "iter_csv_rows",
]

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class CsvRow:
    """One record of a CSV file: its fields, or (``fields`` None) why it could not be read.

    ``line`` is the physical line where the record starts, ``end_line`` the last line it used.
    ``problem`` never quotes the file's contents.  ``quotes`` counts the ``"`` in the lines the record
    used (in a runaway's, its first line only): an odd count leaves a quote open.  ``bom`` says that one
    of those lines started with a U+FEFF, which was removed.
    """

    line: int
    end_line: int
    fields: list[str] | None
    problem: str = ""
    quotes: int = 0
    bom: bool = False


class _Lines:
    """The physical lines of a text stream; the lines of a failed record can be put back.

    A U+FEFF that starts a line (files joined by a tool: the second file's BOM) is removed before the csv
    reader sees the line, so that it is no part of an id or a text, and a quote after it still opens a field.
    """

    def __init__(self, lines: Iterable[str]):
        self._source = iter(lines)
        self._back: list[str] = []  # put-back lines, the next one last
        self.taken: list[str] = []  # the lines the csv reader took for the current record

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._back.pop() if self._back else next(self._source)
        self.taken.append(line)  # as read: put back, it is cleaned (and counted) again
        return line.lstrip("\ufeff") if line.startswith("\ufeff") else line

    def put_back(self, lines: list[str]) -> None:
        self._back.extend(reversed(lines))


def _runaway(start: int, end: int, exc: csv.Error | None, width: int | None, fields: list[str] | None) -> str:
    if exc is not None and str(exc) == "unexpected end of data":
        what = (f"a quote opened in this row is never closed (lines {start}-{end}, to the end of the file, "
                "would be one field)")
    elif exc is not None:
        what = f"a quote opened in this row runs on to line {end}, where the row breaks ({exc})"
    else:
        what = (f"a quote opened in this row runs on to line {end} and leaves {len(fields or [])} fields "
                f"where the header has {width}")
    return (f"{what}. This row was not read; reading went on from line {start + 1}. "
            'A quote inside a field must be doubled ("") or the field quoted: check this row, or re-export the file')


def iter_csv_rows(text: Iterable[str], *, delimiter: str) -> Iterator[CsvRow]:
    """Parse ``text`` (a stream opened with ``newline=""``) into rows, the header first.

    The first row that parses sets the width against which multi-line records are checked.  Blank
    lines come as rows with no fields.  Every line is in exactly one row, except the lines of a
    runaway quote, which are read again as rows of their own.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    width: int | None = None
    line = 1
    while True:
        lines.taken.clear()
        exc: csv.Error | None = None
        fields: list[str] | None
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The reader starts afresh on the next call (its state is reset per record).
            exc, fields = error, None
        span = max(len(lines.taken), 1)
        end = line + span - 1
        if span > 1 and (fields is None or (width is not None and len(fields) != width)):
            first = lines.taken[0]
            lines.put_back(lines.taken[1:])
            yield CsvRow(line, line, None, _runaway(line, end, exc, width, fields), first.count('"'),
                         first.startswith("\ufeff"))
            line += 1
            continue
        quotes = sum(taken.count('"') for taken in lines.taken)
        bom = any(taken.startswith("\ufeff") for taken in lines.taken)
        if fields is None:
            if exc is not None and str(exc) == "unexpected end of data":
                problem = "a quote opened in this row is never closed before the end of the file; check its quoting"
            else:
                problem = f"malformed CSV row ({exc}); check the quoting of this row"
            yield CsvRow(line, end, None, problem, quotes, bom)
        else:
            if width is None and fields:
                width = len(fields)
            yield CsvRow(line, end, fields, quotes=quotes, bom=bom)
        line = end + 1


@dataclass
class BrokenSpan:
    """A row that could not be read, and the lines after it taken for the rest of its message.

    ``open`` is whether the row left a quote open: the quote closes on the line where an odd number of
    quotes follows.  A following row that does not start like a row is part of the broken message (the
    reader asks :meth:`absorb` to take it); while the quote is open, a row needs an id to start a row.

    >>> span = BrokenSpan(CsvRow(2, 2, None, "malformed CSV row", quotes=3))
    >>> span.open, span.absorb(CsvRow(3, 3, ["電話は", "山田まで"])), span.absorb(CsvRow(4, 4, ["以上"], quotes=1))
    (True, True, False)
    >>> span.reason()[-95:]
    'taken as part of the broken message (lines 2-4), not read as rows; reading went on from line 5.'
    """

    row: CsvRow
    end_line: int = 0
    open: bool = False

    def __post_init__(self) -> None:
        self.end_line = self.row.end_line
        self.open = self.row.quotes % 2 == 1

    def absorb(self, row: CsvRow) -> bool:
        """Take ``row`` into the span; True while the quote is still open after it."""
        self.end_line = row.end_line
        self.open = self.open != (row.quotes % 2 == 1)
        return self.open

    def reason(self) -> str:
        """The row's problem, and the lines taken with it (never their contents)."""
        start, after, end = self.row.line, self.row.end_line + 1, self.end_line
        if end < after:
            return self.row.problem
        # A runaway's problem says that reading went on from its next line: with the lines taken, it did not.
        problem = self.row.problem.replace(f"; reading went on from line {start + 1}", "").rstrip(".") + "."
        more = f"line {after} does" if after == end else f"lines {after}-{end} do"
        return (f"{problem} After it, {more} not start like a row (with an id like the file's others): taken "
                f"as part of the broken message (lines {start}-{end}), not read as rows; reading went on from line "
                f"{end + 1}.")


def cell_lines_like_rows(row: CsvRow, delimiter: str, starts_a_row: Callable[[str], bool]) -> list[int]:
    """The physical lines inside the cells of a multi-line ``row`` that begin with a field that ``starts_a_row``
    (the next row's id, say) and then ``delimiter``: rows that a stray pair of quotes merged into one cell.

    >>> cell_lines_like_rows(CsvRow(2, 3, ["1", "返金しろ\\n2,ふざけるな"]), ",", lambda field: field == "2")
    [3]
    """
    found: list[int] = []
    line = row.line
    for field in row.fields or []:
        inner = _LINE_END.split(field)
        for k, text in enumerate(inner[1:], start=1):
            head, sep, _ = text.partition(delimiter)
            if sep and starts_a_row(head):
                found.append(line + k)
        line += len(inner) - 1
    return found


# Delimiters a header row is looked at for; the first of two equally frequent ones wins after the default.
_DELIMITERS = ("\t", ",", ";")
# What else a one-column header may be split by, for the hint of the "no text column" error.
_OTHER_DELIMITERS = ("\t", ",", ";", "|")


def _first_line(sample: bytes, encoding: str) -> str:
    """The first line of ``sample`` (decoded before it is split: a UTF-16 line end is two bytes)."""
    head = codecs.getincrementaldecoder(encoding)("ignore").decode(sample[:65536], final=True)
    return _LINE_END.split(head, maxsplit=1)[0]


def choose_delimiter(sample: bytes, encoding: str, source_format: str) -> str:
    """Tab for TSV; else whichever of tab, comma and semicolon the first line has most of.

    On a tie (a one-column header has none) the default wins: tab for UTF-16 (Excel's "Unicode テキスト"),
    else comma; a semicolon (Excel in European locales) only when it outnumbers both.
    """
    if source_format == "tsv":
        return "\t"
    default = "\t" if "16" in encoding else ","
    first = _first_line(sample, encoding)
    return max(_DELIMITERS, key=lambda d: (first.count(d), d == default, d != ";"))


def delimiter_hint(header: list[str], delimiter: str) -> str:
    """For a one-column header that another delimiter would split: say so, as --text-field would not help."""
    if len(header) != 1:
        return ""
    counts = {d: header[0].count(d) for d in _OTHER_DELIMITERS if d != delimiter}
    other = max(counts, key=lambda d: counts[d])
    if not counts[other]:
        return ""
    return (f"The header row looks delimited by {other!r}, not by {delimiter!r}: save the file as "
            f"comma-separated CSV (or pass delimiter={other!r} to read_tabular). ")


@dataclass(frozen=True)
class CsvFile:
    """What the rows of one CSV file are read with, once its header is known."""

    path: str
    source_format: str
    header: list[str]
    cols: Columns
    delimiter: str
    warnings: list[str]
    mixed: MixedLines | None
    max_bytes: int

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def error(self, line: int, reason: str, status: str = "error") -> MessageRecord:
        return error_record(record_id=f"{self.name}:{line}", source_format=self.source_format, source_file=self.path,
                            source_locator=f"line {line}", reason=reason, status=status)


def _duplicates(header: list[str]) -> dict[str, list[int]]:
    """The named columns that occur more than once, with their places (the first is the one read)."""
    places: dict[str, list[int]] = {}
    for k, name in enumerate(header):
        if name:
            places.setdefault(name, []).append(k)
    return {name: ks for name, ks in places.items() if len(ks) > 1}


def _starts_a_row(fields: list[str], width: int, id_at: int | None, last_id: str | None, quote_open: bool) -> bool:
    """Whether a row read after a broken row starts a row of its own, rather than going on with the broken
    row's message: its id looks like the file's ids (an empty id will do once no quote is open).  Without
    an id column, a row as wide as the header does, as before."""
    if id_at is None:
        return len(fields) == width or not quote_open
    value = fields[id_at] if id_at < len(fields) else ""
    if not value.strip():
        return not quote_open
    return looks_like_id(value, last_id, strict=quote_open)


def csv_records(f: CsvFile, rows: Iterable[CsvRow]) -> Iterator[MessageRecord]:
    """The records of the rows after the header, every non-blank line accounted for."""
    duplicates = _duplicates(f.header)
    warnings = [*f.warnings, *(f"duplicate-column:{name}" for name in duplicates)]
    id_at = f.header.index(f.cols.id) if f.cols.id in f.header else None
    broken: BrokenSpan | None = None
    last_id: str | None = None
    seen = False
    for row in rows:
        if row.fields is not None and (not row.fields or (len(row.fields) == 1 and not row.fields[0].strip())):
            continue  # a blank line is not a record
        seen = True
        fields = row.fields
        if broken is not None and fields is not None and not _starts_a_row(
            fields, len(f.header), id_at, last_id, broken.open
        ):
            # A line of the broken message itself: its text must not become a message, or its id.  (A row that
            # cannot be read either is reported on its own line.)
            broken.absorb(row)
            continue
        if broken is not None:
            yield f.error(broken.row.line, broken.reason())
            broken = None
        if fields is not None and [c.strip() for c in fields] == f.header:
            yield f.error(row.line, "this row repeats the header row (files joined into one?); it is not a message",
                          status="skipped")
            continue
        if fields is None or len(fields) != len(f.header):
            problem = row.problem or (f"row has {len(fields or [])} fields but the header has {len(f.header)}; "
                                      "check quoting and delimiters")
            broken = BrokenSpan(dataclasses.replace(row, problem=problem))  # reported once its span is known
            continue
        yield _row(f, row, fields, warnings, duplicates, id_at)
        if id_at is not None:
            last_id = fields[id_at].strip() or last_id
    if broken is not None:
        yield f.error(broken.row.line, broken.reason())
    if not seen:
        yield error_record(record_id=f.name, source_format=f.source_format, source_file=f.path, source_locator="file",
                           status="skipped", reason="the file has a header row but no rows after it (no rows to read)")


def _row(
    f: CsvFile, row: CsvRow, fields: list[str], warnings: list[str], duplicates: dict[str, list[int]],
    id_at: int | None,
) -> MessageRecord:
    """The record of one row as wide as the header."""
    row_warnings = list(warnings)
    if f.mixed is not None and any(n in f.mixed.cp932_lines for n in range(row.line, row.end_line + 1)):
        row_warnings.append("row-decoded-as:cp932")
    if row.bom:
        row_warnings.append("stray-bom-removed")
    for name, places in duplicates.items():
        # The first column of a name is read; a later one holding other text says so on its row.
        if any(fields[k].strip() and fields[k] != fields[places[0]] for k in places[1:]):
            row_warnings.append(f"duplicate-column-not-read:{name}")
    if id_at == 0 and row.end_line > row.line:
        # Rows start with the id: a line inside a cell that starts with the next id is likely a row that a stray
        # pair of quotes merged into this one.  The documented rule keeps the cell; the row says so.
        row_id = fields[0]
        row_warnings.extend(f"cell-line-looks-like-a-row:{n}" for n in cell_lines_like_rows(
            row, f.delimiter, lambda head: follows_id(head, row_id)))
    values: dict[str, str] = {}
    for name, value in zip(f.header, fields):
        values.setdefault(name, value)  # duplicate names: the first column, as Columns resolved it
    return row_record(
        values, f.cols, source_format=f.source_format, path=f.path, locator=f"line {row.line}",
        fallback_id=f"{f.name}:{row.line}", max_bytes=f.max_bytes, warnings=row_warnings,
    )
