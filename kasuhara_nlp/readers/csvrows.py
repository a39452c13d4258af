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

>>> import io
>>> text = io.StringIO('id,text\\n1,"閉じない\\n2,"一\\n二"\\n', newline="")
>>> [(r.line, r.fields) for r in iter_csv_rows(text, delimiter=",")]
[(1, ['id', 'text']), (2, None), (3, ['2', '一\\n二'])]
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["CsvRow", "iter_csv_rows"]


@dataclass(frozen=True)
class CsvRow:
    """One record of a CSV file: its fields, or (``fields`` None) why it could not be read.

    ``line`` is the physical line where the record starts, ``end_line`` the last line it used.
    ``problem`` never quotes the file's contents.
    """

    line: int
    end_line: int
    fields: list[str] | None
    problem: str = ""


class _Lines:
    """The physical lines of a text stream; the lines of a failed record can be put back."""

    def __init__(self, lines: Iterable[str]):
        self._source = iter(lines)
        self._back: list[str] = []  # put-back lines, the next one last
        self.taken: list[str] = []  # the lines the csv reader took for the current record

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._back.pop() if self._back else next(self._source)
        self.taken.append(line)
        return line

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
            lines.put_back(lines.taken[1:])
            yield CsvRow(line, line, None, _runaway(line, end, exc, width, fields))
            line += 1
            continue
        if fields is None:
            if exc is not None and str(exc) == "unexpected end of data":
                problem = "a quote opened in this row is never closed before the end of the file; check its quoting"
            else:
                problem = f"malformed CSV row ({exc}); check the quoting of this row"
            yield CsvRow(line, end, None, problem)
        else:
            if width is None and fields:
                width = len(fields)
            yield CsvRow(line, end, fields)
        line = end + 1
