"""Timestamps from any source as (UTC ISO, local ISO, whether JST was assumed).

Exports write times in many shapes: ISO 8601 with or without an offset, Salesforce's
``+0000``, Excel's ``2025/3/4 10:15``, RFC 2822 mail dates, epoch seconds or milliseconds.
A time without an offset is taken as Japan time (JST, +09:00) and flagged, because the
businesses this library serves are in Japan.

>>> parse_timestamp("2025/3/4 10:15")
('2025-03-04T01:15:00Z', '2025-03-04T10:15:00+09:00', True)
>>> parse_timestamp("2025-03-04T01:15:00.000+0000")[0]
'2025-03-04T01:15:00Z'
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = ["JST", "parse_timestamp", "read_timestamp", "to_iso_pair"]

#: Japan has no daylight saving time, so a fixed offset is exact (no tzdata needed).
JST = timezone(timedelta(hours=9), "JST")

_SLASHED = re.compile(
    r"\s*(\d{4})[/年.-](\d{1,2})[/月.-](\d{1,2})日?(?:\s*[(（][^)）]{1,4}[)）])?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)
_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")

TimePair = tuple[str | None, str | None, bool]


def to_iso_pair(dt: datetime) -> TimePair:
    """Turn a datetime into (UTC ISO with Z, local ISO, assumed) assuming JST when naive.

    A time whose UTC lies outside years 1-9999 (a cleared Excel date cell read as 0001/01/01 in JST)
    has no timestamp: (None, None, False), as for any time that cannot be read.

    >>> to_iso_pair(datetime(2025, 3, 4, 10, 15))
    ('2025-03-04T01:15:00Z', '2025-03-04T10:15:00+09:00', True)
    >>> to_iso_pair(datetime(1, 1, 1))
    (None, None, False)
    """
    assumed = dt.tzinfo is None or dt.utcoffset() is None
    if assumed:
        dt = dt.replace(tzinfo=JST)
    try:
        utc = dt.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    except OverflowError:
        return None, None, False
    return utc, dt.isoformat(), assumed


def parse_timestamp(value: object) -> TimePair:
    """Parse a timestamp of unknown shape; (None, None, False) when it cannot be read.

    Numbers are epoch seconds, or milliseconds when too large to be seconds.

    >>> parse_timestamp(1741050900)[0]
    '2025-03-04T01:15:00Z'
    >>> parse_timestamp("not a date")
    (None, None, False)
    """
    if value is None or value == "":
        return None, None, False
    if isinstance(value, bool):
        return None, None, False
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{10,13}(\.\d+)?", value.strip())):
        num = float(value)
        if num > 1e11:  # milliseconds (Channel Talk, LINE webhooks)
            num /= 1000.0
        try:
            return to_iso_pair(datetime.fromtimestamp(num, tz=timezone.utc))
        except (OverflowError, OSError, ValueError):
            return None, None, False
    if not isinstance(value, str):
        return None, None, False
    text = value.strip()
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    iso = _OFFSET_NO_COLON.sub(r"\1:\2", iso)
    try:
        return to_iso_pair(datetime.fromisoformat(iso))
    except ValueError:
        pass
    m = _SLASHED.match(text)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        try:
            return to_iso_pair(datetime(y, mo, d, h, mi, s))
        except ValueError:
            return None, None, False
    try:
        return to_iso_pair(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None, None, False


def read_timestamp(value: object, field: str, warnings: list[str]) -> TimePair:
    """:func:`parse_timestamp`, adding ``timestamp-unreadable:<field>`` to ``warnings`` when a value is given
    (not None, not blank) that no reader can place: the record is scored without a time, and says so.

    >>> w = []
    >>> read_timestamp("2025/13/45", "日時", w), read_timestamp(" ", "日時", w), w
    ((None, None, False), (None, None, False), ['timestamp-unreadable:日時'])
    """
    pair = parse_timestamp(value)
    if pair[0] is None and value is not None and str(value).strip():
        warnings.append(f"timestamp-unreadable:{field}")
    return pair
